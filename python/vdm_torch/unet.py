"""The twin of src/models/unet.ts (and the layers of src/models/layers.ts), on NHWC images like vdm's.

Parameter names are vdm's leaf paths: embed.0.w, label, input.w, down.0.block.norm1.scale,
down.1.attention.qkv.w, middle.first.conv2.b, output.norm.shift, up.0.block.skip.w, output.conv.w, ...
vdm's parameter object (what state.safetensors lists) is ordered embed, label, input, down, middle,
output, up (`output` precedes `up`: initUNet creates output first and adds up after), which is not
the order initUNet draws them in (down, middle, embed, label, input, up, output.conv);
`vdm_named_parameters` walks it in the file's order (VDM_ORDER).
A 3×3 kernel is stored as vdm's [3, 3, cin, cout] and permuted to PyTorch's [cout, cin, 3, 3] in the
forward pass, so gradients and Adam's moments keep vdm's layout.
"""
import math

import torch
import torch.nn.functional as F
from torch import nn

from .models import MATH, Dense, silu, time_embedding


class Norm(nn.Module):
    """GroupNorm's per-channel scale and shift (ε = 1e-5, statistics over H, W and the group's channels)."""

    def __init__(self, C):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(C))
        self.shift = nn.Parameter(torch.zeros(C))

    def forward(self, x, groups):  # x NCHW
        # two passes, as vdm: the mean, then the mean square of the centred values (F.group_norm's
        # float32 statistics were 10× further from float64 than vdm's on a U-Net with random weights)
        B, C, H, W = x.shape
        g = x.reshape(B, groups, -1)
        centred = g - g.mean(2, keepdim=True)
        variance = torch.square(centred).mean(2, keepdim=True)
        normed = (centred / torch.sqrt(variance + 1e-5)).reshape(B, C, H, W)
        return normed * self.scale.reshape(1, -1, 1, 1) + self.shift.reshape(1, -1, 1, 1)


class Conv(nn.Module):
    """3×3 convolution, zero padding; w [3, 3, cin, cout] (vdm's layout), b [cout]."""

    def __init__(self, cin, cout, scale=1.0):
        super().__init__()
        self.w = nn.Parameter(torch.randn(3, 3, cin, cout) * (scale * math.sqrt(2 / (9 * cin))))
        self.b = nn.Parameter(torch.zeros(cout))

    def forward(self, x):  # x NCHW
        # contiguous: float64 conv2d's backward on CPU (slow_conv2d) refuses a permuted weight
        return F.conv2d(x, self.w.permute(3, 2, 0, 1).contiguous(), self.b, padding=1)


def pointwise(x, layer):
    """A Dense layer at every position of x NCHW (a 1×1 convolution)."""
    return torch.einsum("bchw,co->bohw", x, layer.w) + layer.b.reshape(1, -1, 1, 1)


class ResBlock(nn.Module):
    """skip(h) + conv₂(silu(GN₂(conv₁(silu(GN₁(h))) + A e)))."""

    def __init__(self, cin, cout, E):
        super().__init__()
        self.norm1 = Norm(cin)
        self.conv1 = Conv(cin, cout)
        self.time = Dense(E, cout)
        self.norm2 = Norm(cout)
        self.conv2 = Conv(cout, cout, 0.0)
        if cin != cout:
            self.skip = Dense(cin, cout)
        else:
            self.skip = None

    def forward(self, h, e, groups):
        a = self.conv1(silu(self.norm1(h, groups)))
        a = a + self.time(e)[:, :, None, None]
        r = self.conv2(silu(self.norm2(a, groups)))
        return (pointwise(h, self.skip) if self.skip is not None else h) + r


class Attention(nn.Module):
    """h + selfAttention(GN(h)): [q | k | v] = x W_qkv + b_qkv (each head's d columns in order), softmax(q kᵀ/√d) v, then W_o."""

    def __init__(self, C):
        super().__init__()
        self.norm = Norm(C)
        self.qkv = Dense(C, 3 * C, math.sqrt(0.5))
        self.out = Dense(C, C, 0.0)

    def forward(self, h, heads, groups):
        B, C, H, W = h.shape
        N, d = H * W, C // heads
        x = self.norm(h, groups).reshape(B, C, N).transpose(1, 2)  # [B, N, C]
        proj = self.qkv(x).reshape(B, N, 3, heads, d)
        q, k, v = (proj[:, :, i].transpose(1, 2) for i in range(3))  # [B, heads, N, d]
        weights = torch.softmax((q @ k.transpose(-1, -2)) * (1 / math.sqrt(d)), -1)
        o = (weights @ v).transpose(1, 2).reshape(B, N, C)
        return h + self.out(o).transpose(1, 2).reshape(B, C, H, W)


class Level(nn.Module):
    def __init__(self, cin, C, E, attend):
        super().__init__()
        self.block = ResBlock(cin, C, E)
        self.attention = Attention(C) if attend else None

    def forward(self, h, e, heads, groups):
        h = self.block(h, e, groups)
        return self.attention(h, heads, groups) if self.attention is not None else h


class Middle(nn.Module):
    def __init__(self, C, E):
        super().__init__()
        self.first = ResBlock(C, C, E)
        self.attention = Attention(C)
        self.second = ResBlock(C, C, E)


class Output(nn.Module):
    def __init__(self, C, cout, outputs):
        super().__init__()
        self.norm = Norm(C)
        if outputs:
            self.dense = Dense(C, outputs, 0.1)
        else:
            self.conv = Conv(C, cout, 0.0)


class UNet(nn.Module):
    """The U-Net denoiser (or, with config["outputs"], its encoder as a noise-aware classifier) on x [B, H, W, C].
    `config` is config.json's model.unet; `math_kind` as for Mlp (the time embedding's exp/sin/cos)."""

    VDM_ORDER = ("embed", "label", "input", "down", "middle", "output", "up")

    def __init__(self, config, target="eps", math_kind="jax-wasm"):
        super().__init__()
        if math_kind not in MATH:
            raise ValueError(f"math_kind must be one of {', '.join(MATH)}, got {math_kind!r}")
        self.config, self.target, self.math_kind = dict(config), target, math_kind
        H_, W_, Cin = config["shape"]
        mult, attn = config["multipliers"], config["attention"]
        L, base = len(mult), config["base"]
        E = 4 * base
        self.classes = config.get("classes") or 0
        outputs = config.get("outputs") or 0
        self.embed = nn.ModuleList([Dense(config["timeEmbedding"], E), Dense(E, E)])
        if self.classes:
            self.label = nn.Parameter(torch.randn(self.classes + 1, E) * 0.1)
        self.input = Conv(Cin, base)
        down, c = [], base
        for level in range(L):
            C = base * mult[level]
            down.append(Level(c, C, E, level in attn))
            c = C
        self.down = nn.ModuleList(down)
        self.middle = Middle(c, E)
        ups = [None] * L
        deepest = c
        for level in reversed(range(L)):
            C = base * mult[level]
            ups[level] = Level(c + C, C, E, level in attn)
            c = C
        self.output = Output(deepest if outputs else c, Cin, outputs)
        self.up = None if outputs else nn.ModuleList(ups)

    def network(self, x, t, labels=None):
        """The network on x [B, H, W, C] (NHWC) at t [B]; labels [B] or None ("no label")."""
        cfg = self.config
        groups, heads, L = cfg["groups"], cfg["heads"], len(cfg["multipliers"])
        e = self.embed[1](silu(self.embed[0](time_embedding(t, cfg["timeEmbedding"], self.math_kind).to(self.embed[0].w.dtype))))
        if self.classes:
            ids = labels if labels is not None else torch.full((x.shape[0],), self.classes, dtype=torch.long)
            e = e + self.label[ids.long()]
        elif labels is not None:
            raise ValueError("labels were given to an unconditional model")
        e = silu(e)
        h = self.input(x.permute(0, 3, 1, 2))
        skips = []
        for level, p in enumerate(self.down):
            h = p(h, e, heads, groups)
            skips.append(h)
            if level < L - 1:
                h = F.avg_pool2d(h, 2)
        m = self.middle
        h = m.second(m.attention(m.first(h, e, groups), heads, groups), e, groups)
        if self.up is None:
            pooled = silu(self.output.norm(h, groups)).mean((2, 3))
            return self.output.dense(pooled)
        for level in reversed(range(L)):
            if level < L - 1:
                h = F.interpolate(h, scale_factor=2, mode="nearest")
            h = self.up[level](torch.cat([h, skips[level]], 1), e, heads, groups)
        out = self.output.conv(silu(self.output.norm(h, groups)))
        return out.permute(0, 2, 3, 1)

    def forward(self, xt, t, gamma, labels=None):
        """The denoiser's prediction of `target` from x_t at t (γ unused: the U-Net is conditioned on t)."""
        return self.network(xt, t, labels)
