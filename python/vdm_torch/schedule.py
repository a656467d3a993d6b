"""Fixed noise schedules γ(t) = −log SNR(t) (src/schedule/fixed.ts) and the stable sigmoid/softplus
(src/schedule/schedule.ts). ᾱ(t) = α_t² = sigmoid(−γ), σ_t² = sigmoid(γ)."""
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

    return Schedule("cosine", 1e-5, 0.999, gamma, inverse)


def linear():
    """DDPM's linear β in continuous time: −log ᾱ(t) = β_min t + ½(β_max − β_min) t², γ = log expm1(−log ᾱ)."""
    bmin, bmax = 0.1, 20.0

    def gamma(t):
        return torch.log(torch.expm1(t * bmin + torch.square(t) * (0.5 * (bmax - bmin))))

    def inverse(g):
        ell = softplus(g)
        return ell * 2 / (torch.sqrt(ell * (2 * (bmax - bmin)) + bmin * bmin) + bmin)

    return Schedule("linear", 1e-5, 1.0, gamma, inverse)


def sqrt(s=1e-4):
    """Diffusion-LM's √ schedule: ᾱ(t) = 1 − √(t + s), γ(t) = logit √(t + s) on [0, 0.999]."""

    def gamma(t):
        root = torch.sqrt(t + s)
        return torch.log(root) - torch.log(torch.clamp(1 - root, min=1e-12))

    return Schedule("sqrt", 0.0, 0.999, gamma, lambda g: torch.square(sigmoid(g)) - s)


SCHEDULES = {"log-snr-linear": log_snr_linear, "cosine": cosine, "geometric": geometric, "linear": linear, "sqrt": sqrt}


def get_schedule(name):
    if name not in SCHEDULES:
        raise ValueError(f'schedule "{name}" has no PyTorch twin yet (have: {", ".join(SCHEDULES)})')
    return SCHEDULES[name]()
