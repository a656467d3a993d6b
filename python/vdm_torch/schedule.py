"""Fixed noise schedules γ(t) = −log SNR(t) (src/schedule/fixed.ts), their T-step chains' γ tables
(src/schedule/discrete.ts) and the stable sigmoid/softplus (src/schedule/schedule.ts).
ᾱ(t) = α_t² = sigmoid(−γ), σ_t² = sigmoid(γ)."""
import math
from dataclasses import dataclass
from typing import Callable, Optional

import torch


def sigmoid(x):
    """1/(1 + e^{−x}) from e = e^{−|x|}: 1/(1 + e) for x ≥ 0, e/(1 + e) otherwise (as vdm computes it)."""
    e = torch.exp(-x.abs())
    d = 1.0 / (e + 1.0)
    return torch.where(x >= 0, d, e * d)


def softplus(x):
    """log(1 + eˣ) = max(x, 0) + log1p(e^{−|x|})."""
    return x.clamp(min=0) + torch.log1p(torch.exp(-x.abs()))


def alpha(gamma):
    """α_t = √sigmoid(−γ)."""
    return torch.sqrt(sigmoid(-gamma))


def sigma(gamma):
    """σ_t = √sigmoid(γ)."""
    return torch.sqrt(sigmoid(gamma))


@dataclass
class Schedule:
    name: str
    t_min: float
    t_max: float
    gamma: Callable
    inverse: Optional[Callable] = None
    #: the schedule's own β_1..β_T (a list of floats) where its discrete chain is defined by β (DDPM's linear)
    betas: Optional[Callable] = None
    #: the clip of β_i when the chain is derived from γ (Nichol & Dhariwal's 0.999)
    max_beta: float = 1.0


def log_snr_linear(gamma_min=-13.3, gamma_max=5.0):
    """VDM's γ(t) = γ_min + (γ_max − γ_min)·t on [0, 1]."""
    return Schedule(
        "log-snr-linear",
        0.0,
        1.0,
        lambda t: t * (gamma_max - gamma_min) + gamma_min,
        lambda g: (g - gamma_min) * (1 / (gamma_max - gamma_min)),
    )


def geometric(sigma_min=0.01, sigma_max=10.0):
    """NCSN's ladder: linear log-SNR between 2 log σ_min and 2 log σ_max."""
    s = log_snr_linear(2 * math.log(sigma_min), 2 * math.log(sigma_max))
    s.name = "geometric"
    return s


def cosine(s=0.008):
    """Nichol & Dhariwal: γ(t) = log(sin(b − a) sin(b + a)) − log cos²b, b = (t + s)/(1 + s)·π/2, on [1e-5, 0.999]."""
    a = s / (1 + s) * math.pi / 2

    def gamma(t):
        b = (t + s) * (math.pi / 2 / (1 + s))
        return torch.log(torch.sin(b - a) * torch.sin(b + a)) - torch.log(torch.square(torch.cos(b)))

    def inverse(g):
        tan2b = torch.exp(g) * (1 / math.cos(a) ** 2) + math.tan(a) ** 2
        return torch.atan(torch.sqrt(tan2b)) * (2 * (1 + s) / math.pi) - s

    return Schedule("cosine", 1e-5, 0.999, gamma, inverse, max_beta=0.999)


def linear():
    """DDPM's linear β in continuous time: −log ᾱ(t) = β_min t + ½(β_max − β_min) t², γ = log expm1(−log ᾱ)."""
    bmin, bmax = 0.1, 20.0

    def gamma(t):
        return torch.log(torch.expm1(t * bmin + torch.square(t) * (0.5 * (bmax - bmin))))

    def inverse(g):
        ell = softplus(g)
        return ell * 2 / (torch.sqrt(ell * (2 * (bmax - bmin)) + bmin * bmin) + bmin)

    def betas(T):
        """β_i = linspace(1e-4, 0.02, T)·(1000/T): DDPM's values at T = 1000, rescaled for other T."""
        start, end = 1e-4 * (1000 / T), 0.02 * (1000 / T)
        return [start if T == 1 else start + (end - start) * i / (T - 1) for i in range(T)]

    return Schedule("linear", 1e-5, 1.0, gamma, inverse, betas)


def sqrt(s=1e-4):
    """Diffusion-LM's √ schedule: ᾱ(t) = 1 − √(t + s), γ(t) = logit √(t + s) on [0, 0.999]."""

    def gamma(t):
        root = torch.sqrt(t + s)
        return torch.log(root) - torch.log(torch.clamp(1 - root, min=1e-12))

    return Schedule("sqrt", 0.0, 0.999, gamma, lambda g: torch.square(sigmoid(g)) - s, max_beta=0.999)


SCHEDULES = {"log-snr-linear": log_snr_linear, "cosine": cosine, "geometric": geometric, "linear": linear, "sqrt": sqrt}


def get_schedule(name):
    if name not in SCHEDULES:
        raise ValueError(f'schedule "{name}" has no PyTorch twin yet (have: {", ".join(SCHEDULES)})')
    return SCHEDULES[name]()


def gamma_table(schedule, T):
    """γ_0..γ_T of the schedule's T-step chain (discretize in src/schedule/discrete.ts), float64 [T + 1],
    γ_0 = −∞: β_i from the schedule (`betas`) or from γ, β_i = min(−expm1(log ᾱ_i − log ᾱ_{i−1}), max β)
    with log ᾱ_i = −softplus(γ(i/T)); then log ᾱ_i = Σ_{j≤i} log1p(−β_j), γ_i = log(−expm1(log ᾱ_i)) − log ᾱ_i.
    Training looks γ_i up in this table cast to float32."""
    if schedule.betas is not None:
        betas = schedule.betas(T)
    else:
        grid = torch.arange(1, T + 1, dtype=torch.float64) / T
        neg_log_alpha_bar = softplus(schedule.gamma(grid)).tolist()
        betas, previous = [], 0.0
        for ell in neg_log_alpha_bar:
            betas.append(min(-math.expm1(-ell - previous), schedule.max_beta))
            previous = -ell
    gamma, log_alpha_bar = [-math.inf], 0.0
    for i, b in enumerate(betas, 1):
        if not 0 < b < 1:
            raise ValueError(f"β_{i} = {b} is outside (0, 1)")
        log_alpha_bar += math.log1p(-b)
        gamma.append(math.log(-math.expm1(log_alpha_bar)) - log_alpha_bar)
    return torch.tensor(gamma, dtype=torch.float64)
