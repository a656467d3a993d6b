"""AdamW with global-norm clipping, warm-up, optional cosine decay, and the EMA, as src/train/adam.ts
computes them (float32 scalars, the same order of operations), on dicts {vdm name: tensor}:
    g ← g · min(1, c/(‖g‖ + 1e-12)),  m ← β₁m + (1−β₁)g,  v ← β₂v + (1−β₂)g²,
    p ← p − lr · (m/(1−β₁ᵏ⁺¹) / (√(v/(1−β₂ᵏ⁺¹)) + ε) + λ p)     (λ on tensors of ≥ 2 dimensions only)
    ema ← d·ema + (1−d)·p,  d = min(emaDecay, (1 + k)/(10 + k))
`adam` is config.json's "adam" object; k is the 0-based step (a checkpoint's "step" is the next k).
"""
import math

import torch


def decay_factor(adam, k):
    d = adam.get("decay")
    if not d:
        return 1.0
    return d["final"] + (1 - d["final"]) * 0.5 * (1 + math.cos(math.pi * min(k, d["steps"]) / d["steps"]))


def step_scalars(adam, k):
    """{lr, correction1, correction2, emaDecay} of step k, in float64 as vdm computes them on the host."""
    return {
        "lr": adam["lr"] * min(1, (k + 1) / max(1, adam["warmup"])) * decay_factor(adam, k),
        "correction1": 1 - adam["beta1"] ** (k + 1),
        "correction2": 1 - adam["beta2"] ** (k + 1),
        "emaDecay": min(adam["emaDecay"], (1 + k) / (10 + k)),
    }


def _f32(x):
    return torch.tensor(x, dtype=torch.float32)


def global_norm(grads):
    """‖g‖ over every tensor, summed in the dict's order (vdm's leaf order)."""
    total = None
    for g in grads.values():
        s = torch.sum(torch.square(g))
        total = s if total is None else total + s
    return torch.sqrt(total)


@torch.no_grad()
def adam_update(params, grads, m, v, adam, scalars):
    """One AdamW step: returns (params, m, v), new dicts with the same names (vdm's order)."""
    g = grads
    if adam["clipNorm"] > 0:
        scale = torch.clamp(torch.reciprocal(global_norm(g) + _f32(1e-12)) * _f32(adam["clipNorm"]), max=1)
        g = {k: x * scale for k, x in g.items()}
    b1, b2, eps, wd = adam["beta1"], adam["beta2"], adam["eps"], adam.get("weightDecay", 0)
    lr, c1, c2 = _f32(scalars["lr"]), _f32(scalars["correction1"]), _f32(scalars["correction2"])
    m2 = {k: m[k] * _f32(b1) + g[k] * _f32(1 - b1) for k in params}
    v2 = {k: v[k] * _f32(b2) + torch.square(g[k]) * _f32(1 - b2) for k in params}
    out = {}
    for k, p in params.items():
        step = m2[k] / c1 / (torch.sqrt(v2[k] / c2) + _f32(eps))
        if wd > 0 and p.dim() >= 2:
            step = step + p * _f32(wd)
        out[k] = p - step * lr
    return out, m2, v2


@torch.no_grad()
def ema_update(ema, params, decay):
    """ema ← d·ema + (1 − d)·p (1 − d in float32, as vdm)."""
    d = _f32(decay)
    return {k: e * d + params[k] * (1 - d) for k, e in ema.items()}
