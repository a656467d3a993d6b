"""Learned noise schedules (src/schedule/learned.ts), the γ-conditioned denoiser they train with
(src/diffusion/model.ts gammaConditioned) and the VDM objective (src/train/objectives/learned.ts).

A run with a learned schedule holds params.denoiser.* (the network) and params.schedule.* (gammaMin,
gammaMax [1] and, for "learned", interior.w1 [1, 1], interior.b1 [1], interior.w2 [1, H], interior.b2 [H],
interior.w3 [H, 1]); `LearnedDenoiser` holds both under those names, in that order (vdm_named_parameters).
"""
import torch
from torch import nn

from .elbo import DECODERS, prior_kl
from .models import unwrapped
from .objectives import kl_weight, levels, q_sample, steps_from_uniform, sum_dims, to_eps, to_x0
from .schedule import Schedule, sigmoid, softplus

KINDS = ("learned", "learned-linear")


def is_learned(name):
    return name in KINDS


class MonotoneGamma(nn.Module):
    """γ̃(t) = l₁(t) + sigmoid(l₁(t) softplus(w₂) + b₂) softplus(w₃), l₁(t) = t softplus(w₁) + b₁: t [N, 1] → [N, 1],
    increasing in t (positive weights)."""

    def __init__(self, H):
        super().__init__()
        self.w1 = nn.Parameter(torch.ones(1, 1))
        self.b1 = nn.Parameter(torch.zeros(1))
        self.w2 = nn.Parameter(torch.randn(1, H))
        self.b2 = nn.Parameter(torch.zeros(H))
        self.w3 = nn.Parameter(torch.randn(H, 1) * (1 / H))

    def forward(self, t, frozen=False):
        w1, b1, w2, b2, w3 = (p.detach() if frozen else p for p in (self.w1, self.b1, self.w2, self.b2, self.w3))
        l1 = t @ softplus(w1.to(t.dtype)) + b1.to(t.dtype)
        h = sigmoid(l1 @ softplus(w2.to(t.dtype)) + b2.to(t.dtype))
        return l1 + h @ softplus(w3.to(t.dtype))


class LearnedSchedule(nn.Module):
    """γ(t) = γ_min + (γ_max − γ_min)·f(t) on [0, 1]: f(t) = t ("learned-linear") or
    f(t) = (γ̃(t) − γ̃(0))/(γ̃(1) − γ̃(0)) ("learned"). `init` is config.json's learnedSchedule
    {gammaMin, gammaMax, hidden}. Computed in the wider of t's and the parameters' dtypes (vdm casts the
    parameters to t's: the same in float32 training and for the float64 chain)."""

    VDM_ORDER = ("gammaMin", "gammaMax", "interior")

    def __init__(self, kind, init):
        super().__init__()
        if kind not in KINDS:
            raise ValueError(f"unknown learned schedule {kind!r} (known: {', '.join(KINDS)})")
        self.kind = kind
        self.gammaMin = nn.Parameter(torch.tensor([float(init["gammaMin"])]))
        self.gammaMax = nn.Parameter(torch.tensor([float(init["gammaMax"])]))
        self.interior = MonotoneGamma(init["hidden"]) if kind == "learned" else None

    def gamma(self, t, frozen=()):
        """γ(t); `frozen` names the parts held constant ("ends": γ_min, γ_max; "interior"). Never autocast: in
        bfloat16 the interior's sum over H units would keep 3 digits of γ."""
        with torch.autocast(t.device.type, enabled=False):
            return self._gamma(t, frozen)

    def _gamma(self, t, frozen):
        dtype = torch.promote_types(t.dtype, self.gammaMin.dtype)
        t = t.to(dtype)
        ends = [p.detach() if "ends" in frozen else p for p in (self.gammaMin, self.gammaMax)]
        gamma_min, gamma_max = (p.to(dtype) for p in ends)
        shape = t
        if self.interior is not None:
            still = "interior" in frozen
            g0, g1 = self.interior(torch.tensor([[0.0], [1.0]], dtype=dtype, device=t.device), still).reshape(2)
            shape = (self.interior(t.reshape(-1, 1), still).reshape(t.shape) - g0) / (g1 - g0)
        return gamma_min + (gamma_max - gamma_min) * shape

    def as_schedule(self, frozen=()):
        """A `Schedule` on [0, 1] without an inverse (levels() then draws t uniformly, weight ½γ'(t))."""
        return Schedule(self.kind, 0.0, 1.0, lambda t: self.gamma(t, frozen))


class LearnedDenoiser(nn.Module):
    """A run's parameters with a learned schedule: `denoiser` (an Mlp or UNet twin) and `schedule`. The
    network is asked by γ alone: its time input is clip((γ − γ_lo)/(γ_hi − γ_lo), −¼, 1¼) for the schedule's
    initial endpoints γ_lo, γ_hi (config.json's learnedSchedule), whatever t it is given."""

    VDM_ORDER = ("denoiser", "schedule")

    def __init__(self, denoiser, config):
        super().__init__()
        init = config["learnedSchedule"]
        self.denoiser = denoiser
        self.schedule = LearnedSchedule(config["schedule"], init)
        self.gamma_lo, self.gamma_hi = float(init["gammaMin"]), float(init["gammaMax"])
        self.target, self.classes = denoiser.target, denoiser.classes

    def forward(self, xt, t, gamma, labels=None):
        time = torch.clamp((gamma - self.gamma_lo) * (1 / (self.gamma_hi - self.gamma_lo)), -0.25, 1.25)
        return self.denoiser(xt, time, gamma, labels)


class _ScaleGradient(torch.autograd.Function):
    """x ↦ x; the gradient is multiplied by holder[0], read when backward runs (so set after the forward pass)."""

    @staticmethod
    def forward(ctx, x, holder):
        ctx.holder = holder
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.holder[0], None


def schedule_levels(schedule, T, u, frozen=()):
    """(γ_b, w_b [B], γ_rec, γ_prior [1]) of the learned objective (learned.ts scheduleLevels): continuous
    time, t = u, w = ½γ'(t) (differentiable in the schedule), γ_rec = γ(0), γ_prior = γ(1); discrete,
    i uniform on {2..T}, γ = γ(i/T), w = (T − 1)·½ expm1(γ(i/T) − γ((i − 1)/T)), γ_rec = γ(1/T), γ_prior = γ(1)."""
    def end(t):
        return schedule.gamma(torch.tensor([t], dtype=u.dtype, device=u.device), frozen)

    if T == 0:
        _, gamma, weight = levels(schedule.as_schedule(frozen), u, "elbo")
        return gamma, weight, end(0.0), end(1.0)
    steps, count = steps_from_uniform(u, T, "elbo")
    gamma = schedule.gamma(steps.to(u.dtype) * (1 / T), frozen)
    weight = kl_weight(schedule.gamma((steps - 1).to(u.dtype) * (1 / T), frozen), gamma) * count
    return gamma, weight, end(1 / T), end(1.0)


def negative_elbo(model, decoder, x0, eps, gamma, weight, gamma_rec, gamma_prior, labels=None):
    """(−ELBO_b, d_b) per example in nats: d_b = w_b‖ε − ε̂(x_t)‖² (x_t at γ_b) + reconstruction
    −log p(x_0 | x_1) (x_1 = α_1 x_0 + σ_1 ε at γ_rec, the same ε; decoder centred on x̂_0(x_1)) + prior KL
    at γ_prior. The two latents go through the network in one call (one forward pass per step, as DDP wants)."""
    B = x0.shape[0]
    target = unwrapped(model).target
    g1 = gamma_rec.expand(B)
    xt, x1 = q_sample(x0, gamma, eps), q_sample(x0, g1, eps)
    ignored_t = torch.zeros(2 * B, dtype=gamma.dtype, device=x0.device)
    both = model(torch.cat([xt, x1]), ignored_t, torch.cat([gamma, g1]), None if labels is None else torch.cat([labels, labels]))
    d = weight * sum_dims(torch.square(eps - to_eps(both[:B], target, xt, gamma)))
    reconstruction = -DECODERS[decoder](x0, to_x0(both[B:], target, x1, g1), g1)
    return d + reconstruction + prior_kl(x0, gamma_prior.expand(B)), d


class LearnedObjective:
    """The VDM objective with a learned schedule (learned.ts learnedScheduleObjective) as a per-example loss:
    `objective(model, x0, eps, u, labels)` → −ELBO_b [B], whose mean's backward gives vdm's gradients:
    - the network, the endpoints γ_min, γ_max and (discrete time) the interior: the mean −ELBO's;
    - the interior in continuous time ("variance"): Σ_b c_b ∂d_b/∂η / B with c_b = 2 d_b / mean(d²) held
      constant, i.e. ∇ log mean(d²): the continuous ELBO does not depend on the interior, so this lowers
      the variance of the diffusion estimate d_b instead.
    vdm assembles that gradient from plain ones (jax-js has no custom_vjp); here the interior enters the
    levels through a copy of the schedule with the endpoints frozen, whose gradient is scaled by c_b once d_b
    is known (the value is the ends-only copy's: the same numbers). `batch_mean(v)` is the mean over the
    whole batch (under DDP: all ranks' examples); `estimates` after a call holds d_b (vdm logs their variance).
    """

    def __init__(self, T, decoder, batch_mean=torch.mean):
        if decoder not in DECODERS:
            raise ValueError(f"unknown decoder {decoder!r} (known: {', '.join(DECODERS)})")
        self.T, self.decoder, self.batch_mean = T, decoder, batch_mean
        self.estimates = None

    def __call__(self, model, x0, eps, u, labels=None):
        schedule = unwrapped(model).schedule
        variance = self.T == 0 and schedule.interior is not None
        if not variance:
            gamma, weight, g_rec, g_prior = schedule_levels(schedule, self.T, u)
        else:
            gamma, weight, g_rec, g_prior = schedule_levels(schedule, self.T, u, ("interior",))
            g_in, w_in, _, _ = schedule_levels(schedule, self.T, u, ("ends",))
            scale = [None]
            gamma = gamma + _ScaleGradient.apply(g_in - g_in.detach(), scale)
            weight = weight + _ScaleGradient.apply(w_in - w_in.detach(), scale)
        losses, d = negative_elbo(model, self.decoder, x0, eps, gamma, weight, g_rec, g_prior, labels)
        self.estimates = d.detach()
        if variance:
            scale[0] = self.estimates * 2 / self.batch_mean(torch.square(self.estimates))
        return losses
