"""The PyTorch peer of bench/cases.ts: the same architectures, shapes and steps, timed the same way.

Run by bench/bench.ts as `PYTHON bench/peer.py CASE RUNS WARMUP` (CASE as in peer_common.BASES, with
_tN for N threads), with PYTHON bench/.venv/bin/python (PyTorch 2, `npm run bench:setup`) or, as a
fallback, Debian's /usr/bin/python3 with python3-torch. Prints one JSON line (peer_common.report).
"""
import math

from peer_common import RECIPE, dpm_coefficients, epochs, fmnist_train, mlp_shape, parse, recipe_scalars, report

KIND, SIZE, THREADS, RUNS, WARMUP = parse()  # sets the thread environment before torch loads

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

torch.set_num_threads(THREADS)
try:
    torch.set_num_interop_threads(1)
except RuntimeError:
    pass

# ---- the 2-D MLP (src/models/mlp.ts) -------------------------------------------------------


def time_embedding(t, E):
    """[sin(1000 t ω_k), cos(1000 t ω_k)], ω_k = 10000^{−k/(E/2)}."""
    half = E // 2
    freqs = torch.exp(torch.arange(half, dtype=torch.float32) * (-math.log(10000) / half))
    angles = (t * 1000)[:, None] * freqs[None, :]
    return torch.cat([torch.sin(angles), torch.cos(angles)], 1)


class Mlp(nn.Module):
    """h_1 = silu(W_in x + A_1 e), h_{l+1} = h_l + silu(W_l h_l + A_{l+1} e), e = silu(W_e emb(t))."""

    def __init__(self, dim, hidden, layers, E):
        super().__init__()
        self.E = E
        self.embed = nn.Linear(E, hidden)
        self.input = nn.Linear(dim, hidden)
        self.time = nn.ModuleList([nn.Linear(hidden, hidden, bias=False) for _ in range(layers)])
        self.hidden = nn.ModuleList([nn.Linear(hidden, hidden) for _ in range(layers - 1)])
        self.output = nn.Linear(hidden, dim)

    def forward(self, x, t):
        e = F.silu(self.embed(time_embedding(t, self.E)))
        h = F.silu(self.input(x) + self.time[0](e))
        for layer, a in zip(self.hidden, self.time[1:]):
            h = h + F.silu(layer(h) + a(e))
        return self.output(h)


# ---- the U-Net (src/models/unet.ts), NCHW ---------------------------------------------------


class ResBlock(nn.Module):
    def __init__(self, cin, cout, E, groups):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.time = nn.Linear(E, cout)
        self.norm2 = nn.GroupNorm(groups, cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, h, e):
        a = self.conv1(F.silu(self.norm1(h))) + self.time(e)[:, :, None, None]
        r = self.conv2(F.silu(self.norm2(a)))
        return (self.skip(h) if self.skip is not None else h) + r


class Attention(nn.Module):
    def __init__(self, C, groups, heads):
        super().__init__()
        self.heads = heads
        self.norm = nn.GroupNorm(groups, C)
        self.qkv = nn.Linear(C, 3 * C)
        self.out = nn.Linear(C, C)

    def forward(self, h):
        B, C, H, W = h.shape
        d = C // self.heads
        x = self.norm(h).flatten(2).transpose(1, 2)  # [B, N, C]
        q, k, v = self.qkv(x).reshape(B, H * W, 3, self.heads, d).permute(2, 0, 3, 1, 4)
        w = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d), -1)
        o = (w @ v).transpose(1, 2).reshape(B, H * W, C)
        return h + self.out(o).transpose(1, 2).reshape(B, C, H, W)


class UNet(nn.Module):
    def __init__(self, cin=1, base=32, multipliers=(1, 2, 2), attention=(2,), heads=1, groups=8, temb=64, classes=0):
        super().__init__()
        E = 4 * base
        self.temb = temb
        # a conditional model's label embedding (last row: "no label"), added to the time embedding
        self.label = nn.Parameter(torch.randn(classes + 1, E) * 0.1) if classes else None
        self.embed = nn.Sequential(nn.Linear(temb, E), nn.SiLU(), nn.Linear(E, E))
        self.input = nn.Conv2d(cin, base, 3, padding=1)
        self.down, self.down_attn = nn.ModuleList(), nn.ModuleList()
        c = base
        for l, m in enumerate(multipliers):
            C = base * m
            self.down.append(ResBlock(c, C, E, groups))
            self.down_attn.append(Attention(C, groups, heads) if l in attention else nn.Identity())
            c = C
        self.mid1 = ResBlock(c, c, E, groups)
        self.mid_attn = Attention(c, groups, heads)
        self.mid2 = ResBlock(c, c, E, groups)
        self.up, self.up_attn = nn.ModuleList(), nn.ModuleList()
        for l in reversed(range(len(multipliers))):
            C = base * multipliers[l]
            self.up.append(ResBlock(c + C, C, E, groups))
            self.up_attn.append(Attention(C, groups, heads) if l in attention else nn.Identity())
            c = C
        self.out_norm = nn.GroupNorm(groups, c)
        self.out = nn.Conv2d(c, cin, 3, padding=1)

    def forward(self, x, t, labels=None):
        e = self.embed(time_embedding(t, self.temb))
        e = F.silu(e + self.label[labels] if labels is not None else e)
        h = self.input(x)
        skips = []
        L = len(self.down)
        for l in range(L):
            h = self.down_attn[l](self.down[l](h, e))
            skips.append(h)
            if l < L - 1:
                h = F.avg_pool2d(h, 2)
        h = self.mid2(self.mid_attn(self.mid1(h, e)), e)
        for i, l in enumerate(reversed(range(L))):
            if l < L - 1:
                h = F.interpolate(h, scale_factor=2, mode="nearest")
            h = self.up_attn[i](self.up[i](torch.cat([h, skips[l]], 1), e))
        return self.out(F.silu(self.out_norm(h)))


# ---- steps ------------------------------------------------------------------------------------


def gamma_cosine(t):
    """γ(t) = −log SNR of the cosine schedule, α² = cos²(π/2 · (t + s)/(1 + s)), s = 0.008 (clipped)."""
    s = 0.008
    a2 = torch.cos(math.pi / 2 * (t + s) / (1 + s)) ** 2 / math.cos(math.pi / 2 * s / (1 + s)) ** 2
    a2 = a2.clamp(1e-5, 1 - 1e-5)
    return torch.log((1 - a2) / a2)


def gamma_log_snr_linear(t):
    return -13.3 + 18.3 * t  # γ_min + (γ_max − γ_min) t


def train_step(model, opt, ema, x0, gamma_of, labels=None, decay=0.999):
    """One step of the simple ε loss as our trainer takes it: gradient clipped at global norm 1, Adam, EMA."""
    shape = x0.shape
    eps = torch.randn(shape)
    t = torch.rand(shape[0])
    g = gamma_of(t).reshape(-1, *([1] * (len(shape) - 1)))
    xt = torch.sqrt(torch.sigmoid(-g)) * x0 + torch.sqrt(torch.sigmoid(g)) * eps
    loss = ((model(xt, t, *([labels] if labels is not None else [])) - eps) ** 2).flatten(1).mean(1).mean()
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    with torch.no_grad():
        params = list(model.parameters())
        torch._foreach_mul_(ema, decay)
        torch._foreach_add_(ema, params, alpha=1 - decay)
    return loss.item()


def recipe(steps):
    """The recipe's training (peer_common.RECIPE) on the real images: conditional U-Net, labels
    dropped to "no label", warm-up and cosine decay, clipping, Adam, EMA; then the state saved."""
    import os
    import tempfile

    import numpy

    images, labels = fmnist_train()
    images, labels = torch.from_numpy(images)[:, None], torch.from_numpy(labels)
    model = UNet(classes=RECIPE["classes"])
    opt, ema = adam_and_ema(model)
    batches = epochs(len(labels), RECIPE["batch"], numpy.random.default_rng(0))

    def run():
        for k in range(steps):
            lr, decay = recipe_scalars(k, steps)
            for group in opt.param_groups:
                group["lr"] = lr
            idx = torch.from_numpy(next(batches))
            y = torch.where(torch.rand(len(idx)) < RECIPE["dropout"], RECIPE["classes"], labels[idx])
            train_step(model, opt, ema, images[idx], gamma_log_snr_linear, y, decay)
        with tempfile.TemporaryDirectory() as d:
            torch.save({"params": model.state_dict(), "ema": ema, "adam": opt.state_dict()}, os.path.join(d, "state.pt"))

    return model, run


def ancestral_sample(model, n, dim, T):
    """x_T ~ N(0, I); x_{i−1} = posterior mean(x_i, x̂_0) + σ_{i−1|i} z over the T steps of the cosine schedule."""
    with torch.no_grad():
        levels = gamma_cosine(torch.arange(T + 1, dtype=torch.float32) / T)
        x = torch.randn(n, dim)
        for i in range(T, 0, -1):
            gs, gt = levels[i - 1], levels[i]
            a_s, a_t = torch.sqrt(torch.sigmoid(-gs)), torch.sqrt(torch.sigmoid(-gt))
            s2_s, s2_t = torch.sigmoid(gs), torch.sigmoid(gt)
            eps_hat = model(x, torch.full((n,), i / T))
            x0 = (x - torch.sqrt(s2_t) * eps_hat) / a_t
            a_ts = a_t / a_s  # α_{t|s}
            s2_ts = s2_t - a_ts ** 2 * s2_s  # σ²_{t|s}
            mean = (a_ts * s2_s / s2_t) * x + (a_s * s2_ts / s2_t) * x0
            x = mean + (torch.sqrt(s2_ts * s2_s / s2_t) * torch.randn_like(x) if i > 1 else 0)
        return x


def dpm_sample(model, shape, N=20):
    """DPM-Solver++ 2M (data prediction from the ε network), N network calls."""
    with torch.no_grad():
        x = torch.randn(shape)
        prev = None
        for t, g, a, b, c in dpm_coefficients(N):
            s, al = math.sqrt(1 / (1 + math.exp(-g))), math.sqrt(1 / (1 + math.exp(g)))
            m = (x - s * model(x, torch.full((shape[0],), t))) / al
            x = a * x + b * m + (c * prev if c else 0)
            prev = m
        return x


def adam_and_ema(model):
    return torch.optim.Adam(model.parameters(), lr=1e-3), [p.detach().clone() for p in model.parameters()]


def case():
    """(model, callable that runs one timed unit)."""
    if KIND in ("mlp_step", "soak_2d"):
        hidden, layers = mlp_shape(SIZE)
        model = Mlp(2, hidden, layers, 32)
        opt, ema = adam_and_ema(model)
        return model, lambda: train_step(model, opt, ema, torch.randn(SIZE, 2), gamma_cosine)
    if KIND == "sample_2d":
        model = Mlp(2, *mlp_shape(256), 32)
        return model, lambda: ancestral_sample(model, SIZE, 2, 1000)
    if KIND in ("unet_step", "soak_unet"):
        model = UNet()
        opt, ema = adam_and_ema(model)
        return model, lambda: train_step(model, opt, ema, torch.randn(SIZE, 1, 28, 28), gamma_log_snr_linear)
    if KIND == "unet_forward":
        model = UNet()

        def forward():
            with torch.no_grad():
                return model(torch.randn(SIZE, 1, 28, 28), torch.rand(SIZE)).sum().item()

        return model, forward
    if KIND == "sample_fmnist":
        model = UNet()
        return model, lambda: dpm_sample(model, (SIZE, 1, 28, 28)).sum().item()
    if KIND == "recipe_fmnist":
        return recipe(SIZE)
    raise SystemExit(f"no PyTorch case {KIND!r}")


def main():
    torch.manual_seed(0)
    model, run = case()
    params = sum(p.numel() for p in model.parameters())
    report(run, params, THREADS, RUNS, WARMUP, f"torch {torch.__version__}", soak=KIND.startswith("soak"))


if __name__ == "__main__":
    main()
