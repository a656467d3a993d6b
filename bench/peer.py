"""The PyTorch peer of bench/cases.ts: the same architectures, shapes and steps, timed the same way.

Run by bench/bench.ts as `/usr/bin/python3 bench/peer.py CASE RUNS WARMUP`; prints one JSON line
{"ms": median, "times": [...], "params": N, "peak_rss_mb": M, "threads": T}.
"""
import json
import math
import resource
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

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
    def __init__(self, cin=1, base=32, multipliers=(1, 2, 2), attention=(2,), heads=1, groups=8, temb=64):
        super().__init__()
        E = 4 * base
        self.temb = temb
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

    def forward(self, x, t):
        e = F.silu(self.embed(time_embedding(t, self.temb)))
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


def train_step(model, opt, ema, shape, gamma_of):
    """One step of the simple ε loss with Adam and an EMA of the weights (what our trainer does)."""
    x0 = torch.randn(shape)
    eps = torch.randn(shape)
    t = torch.rand(shape[0])
    g = gamma_of(t).reshape(-1, *([1] * (len(shape) - 1)))
    xt = torch.sqrt(torch.sigmoid(-g)) * x0 + torch.sqrt(torch.sigmoid(g)) * eps
    loss = ((model(xt, t) - eps) ** 2).flatten(1).mean(1).mean()
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    with torch.no_grad():
        for e, p in zip(ema, model.parameters()):
            e.mul_(0.999).add_(p, alpha=0.001)
    return loss.item()


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


def case(name):
    """(model, callable that runs one timed unit)."""
    if name == "mlp_step":
        model = Mlp(2, 256, 4, 32)
        opt, ema = torch.optim.Adam(model.parameters(), lr=1e-3), [p.detach().clone() for p in model.parameters()]
        return model, lambda: train_step(model, opt, ema, (1024, 2), gamma_cosine)
    if name == "sample_2d":
        model = Mlp(2, 256, 4, 32)
        return model, lambda: ancestral_sample(model, 1024, 2, 1000)
    if name.startswith("unet_step_b"):
        B = int(name[len("unet_step_b"):])
        model = UNet()
        opt, ema = torch.optim.Adam(model.parameters(), lr=1e-3), [p.detach().clone() for p in model.parameters()]
        return model, lambda: train_step(model, opt, ema, (B, 1, 28, 28), gamma_log_snr_linear)
    if name.startswith("unet_forward_b"):
        B = int(name[len("unet_forward_b"):])
        model = UNet()

        def forward():
            with torch.no_grad():
                return model(torch.randn(B, 1, 28, 28), torch.rand(B)).sum().item()

        return model, forward
    raise SystemExit(f"unknown case {name!r}")


def main():
    name, runs, warmup = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    torch.manual_seed(0)
    model, run = case(name)
    for _ in range(warmup):
        run()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    print(json.dumps({
        "ms": statistics.median(times),
        "times": times,
        "params": sum(p.numel() for p in model.parameters()),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "threads": torch.get_num_threads(),
    }))


if __name__ == "__main__":
    main()
