"""exp, sin and cos as jax-js 0.1.25's wasm backend computes them in float32 (the backend vdm trains
on), step by step, so that a twin's float32 values equal vdm's to the last bit where it matters.

jax-js reduces sin/cos with float32 constants 2π and π/2 and a degree-7/8 Taylor polynomial, so for
large arguments (the time embedding's 1000·t·ω reaches 1000 rad) its results differ from the correctly
rounded ones by up to ≈6e-5 (measured: torch.sin is within 4e-8 of sin of the same float32 angle,
jax-js within 5.6e-5). A network trained by vdm saw jax-js's values; the twin reproduces them.
Every step below is one float32 operation, rounded as wasm's f32 instruction rounds it
(torch.round is round-half-to-even, as wasm's f32.nearest).
"""
import math

import torch

F32 = torch.float32


def _c(v):
    return torch.tensor(v, dtype=F32)


def _poly(x, coefs):
    """Horner's rule as jax-js's _poly: acc = c_n; acc = acc·x + c_i (a zero c_i adds nothing)."""
    acc = _c(coefs[-1]).expand_as(x)
    for c in reversed(coefs[:-1]):
        acc = acc * x
        if c != 0:
            acc = acc + _c(c)
    return acc


_SIN = [1, -1 / 6, 1 / 120, -1 / 5040]
_COS = [1, -1 / 2, 1 / 24, -1 / 720, 1 / 40320]


def _sincos(x):
    x = x.to(F32)
    y = x - torch.round(x * _c(1 / (2 * math.pi))) * _c(2 * math.pi)
    qf = torch.round(y * _c(2 / math.pi))
    q = qf.to(torch.int32)
    z = y - qf * _c(math.pi / 2)
    z2 = z * z
    return q, _poly(z2, _SIN) * z, _poly(z2, _COS)


def sin(x):
    """jax-js wasm sin: quadrant q mod 4 → +sz, +cz, −sz, −cz."""
    q, sz, cz = _sincos(x)
    mag = torch.where((q & 1) != 0, cz, sz)
    return torch.where((q & 2) != 0, -mag, mag)


def cos(x):
    """jax-js wasm cos: quadrant q mod 4 → +cz, −sz, −cz, +sz."""
    q, sz, cz = _sincos(x)
    mag = torch.where((q & 1) != 0, sz, cz)
    return torch.where(((q + 1) & 2) != 0, -mag, mag)


def exp(x):
    """jax-js wasm exp: k = round(x/ln2), r = x − k·ln2, e^x = 2^k · Σ_{j≤6} r^j/j! (∞ for k > 127, 0 for k < −126)."""
    x = x.to(F32)
    kf = torch.round(x * _c(1 / math.log(2)))
    k = kf.to(torch.int32)
    r = x - kf * _c(math.log(2))
    p = _poly(r, [1, 1, 1 / 2, 1 / 6, 1 / 24, 1 / 120, 1 / 720])
    scale = ((k.clamp(-126, 127) + 127) << 23).view(F32)
    out = p * scale
    out = torch.where(k > 127, torch.full_like(out, math.inf), out)
    return torch.where(k < -126, torch.zeros_like(out), out)
