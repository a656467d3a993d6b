"""VDM's denoising losses for a fixed schedule (src/train/objectives/diffusion.ts, src/diffusion/losses.ts),
in continuous time or on a T-step chain (its γ table from schedule.gamma_table), per example ([B]), for
noise ε and uniforms u given from outside (as vdm's training step draws them: stratified in continuous
time, independent in discrete time)."""
import torch

from .models import unwrapped
from .schedule import alpha, sigma, sigmoid


def per_example(v, like):
    return v.reshape(-1, *([1] * (like.dim() - 1)))


def q_sample(x0, gamma, eps):
    """x_t = α_t x_0 + σ_t ε."""
    return per_example(alpha(gamma), x0) * x0 + per_example(sigma(gamma), x0) * eps


def true_target(target, x0, eps, gamma):
    if target == "eps":
        return eps
    if target == "x0":
        return x0
    if target == "v":
        return per_example(alpha(gamma), x0) * eps - per_example(sigma(gamma), x0) * x0
    if target == "score":
        return -eps / per_example(sigma(gamma), eps)
    raise ValueError(f"unknown target {target!r}")


def to_eps(pred, target, xt, gamma):
    """ε̂ from a prediction of `target` (exact conversions of src/diffusion/parameterization.ts)."""
    a, s = per_example(alpha(gamma), xt), per_example(sigma(gamma), xt)
    if target == "eps":
        return pred
    if target == "x0":
        return (xt - a * pred) / s
    if target == "v":
        return s * xt + a * pred
    if target == "score":
        return -s * pred
    raise ValueError(f"unknown target {target!r}")


def to_x0(pred, target, xt, gamma):
    """x̂_0 from a prediction of `target` (src/diffusion/parameterization.ts toX0): ε: (x_t − σ ε̂)/α,
    v: α x_t − σ v̂, score: (x_t + σ² ŝ)/α."""
    a, s = per_example(alpha(gamma), xt), per_example(sigma(gamma), xt)
    if target == "x0":
        return pred
    if target == "eps":
        return (xt - s * pred) / a
    if target == "v":
        return a * xt - s * pred
    if target == "score":
        return (xt + torch.square(s) * pred) / a
    raise ValueError(f"unknown target {target!r}")


def sum_dims(x):
    return x.reshape(x.shape[0], -1).sum(1)


def steps_from_uniform(u, T, weighting):
    """(steps i [B] int64, count): i = first + min(⌊u·count⌋, count − 1), uniform on {1..T} ("simple") or
    {2..T} ("elbo", the diffusion terms), count = T − first + 1 (src/diffusion/process.ts stepsFromUniform)."""
    first = 1 if weighting == "simple" else 2
    count = T - first + 1
    if count < 1:
        raise ValueError(f"the ELBO weighting needs T >= 2, got T = {T}")
    return torch.clamp(torch.floor(u * count), max=count - 1).long() + first, count


def kl_weight(gamma_s, gamma_t):
    """Discrete step s → t: ½ expm1(γ_t − γ_s), the factor in front of ‖ε − ε̂‖² (src/diffusion/losses.ts klWeight)."""
    return torch.expm1(gamma_t - gamma_s) * 0.5


def levels(schedule, u, weighting, table=None):
    """(t, γ, weight) for uniforms u, as DiffusionProcess.levelsFromUniform. Discrete (`table` = γ_0..γ_T,
    float32): i from steps_from_uniform, t = i/T, γ = γ_i, weight 1 (simple) or count · ½ expm1(γ_i − γ_{i−1})
    (elbo). Continuous: simple: t = t_min + u(t_max − t_min), weight 1; elbo with an invertible schedule:
    γ uniform on [γ(t_min), γ(t_max)] (ends in float64), t = clip(γ⁻¹(γ)), weight ½(γ_max − γ_min); elbo
    otherwise: t uniform, weight ½γ'(t)(t_max − t_min)."""
    if table is not None:
        table = table.to(u.device)
        T = table.shape[0] - 1
        steps, count = steps_from_uniform(u, T, weighting)
        gamma = table[steps]
        weight = torch.ones_like(gamma) if weighting == "simple" else kl_weight(table[steps - 1], gamma) * count
        return steps.to(u.dtype) * (1 / T), gamma, weight
    t_min, t_max = schedule.t_min, schedule.t_max
    if weighting == "elbo" and schedule.inverse is not None:
        ends = schedule.gamma(torch.tensor([t_min, t_max], dtype=torch.float64)).tolist()
        g_min, g_max = ends
        gamma = u * (g_max - g_min) + g_min
        t = schedule.inverse(gamma).clamp(t_min, t_max)
        return t, gamma, torch.full_like(gamma, 0.5 * (g_max - g_min))
    t = u * (t_max - t_min) + t_min
    if weighting == "simple":
        gamma = schedule.gamma(t)
        return t, gamma, torch.ones_like(gamma)
    tt = t.detach().requires_grad_(True)
    with torch.enable_grad():
        g = schedule.gamma(tt)
        (dg,) = torch.autograd.grad(g.sum(), tt, create_graph=torch.is_grad_enabled())
    return t, schedule.gamma(t), dg * 0.5 * (t_max - t_min)


def training_loss(model, schedule, weighting, x0, eps, u, labels=None, table=None):
    """Per-example loss [B]: "simple" = mean over dims of (pred − true target)² (σ²-weighted for the
    score); "elbo" = weight · ‖ε − ε̂‖², the one-sample estimate of the diffusion term (continuous, or
    of a T-step chain whose float32 γ table is `table`)."""
    target = unwrapped(model).target
    t, gamma, weight = levels(schedule, u, weighting, table)
    xt = q_sample(x0, gamma, eps)
    pred = model(xt, t, gamma, labels)
    if weighting == "simple":
        d = x0[0].numel()
        sq = sum_dims(torch.square(pred - true_target(target, x0, eps, gamma))) * (1 / d)
        return sq * sigmoid(gamma) if target == "score" else sq
    return weight * sum_dims(torch.square(eps - to_eps(pred, target, xt, gamma)))
