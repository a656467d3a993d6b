"""The ELBO's end terms, per example ([B], nats): the decoder p(x_0 | x_1) of the reconstruction term
(src/diffusion/decoder.ts) and the prior KL (src/diffusion/losses.ts priorKl), as vdm computes them."""
import math

import torch

from .objectives import per_example, sum_dims
from .schedule import sigmoid, softplus


def gaussian_log_likelihood(x0, x0_hat, gamma1):
    """log N(x_0; x̂_0, e^{γ_1} I) = Σ_d −½ (e^{−γ_1}(x_0 − x̂_0)² + γ_1 + log 2π)  (continuous data)."""
    g = per_example(gamma1, x0)
    quad = torch.exp(-g) * torch.square(x0 - x0_hat)
    return sum_dims((quad + g + math.log(2 * math.pi)) * -0.5)


def discretized_log_likelihood(x0, x0_hat, gamma1, bins=256):
    """8-bit data on the grid x_k = −1 + k·2/(bins − 1): Σ_d log softmax_k(−½ e^{−γ_1}(x̂_0 − x_k)²) at x_0's bin
    k = ⌊(x_0 + 1)(bins − 1)/2 + ½⌋ (a one-hot product, as vdm: a bin off the grid counts 0)."""
    grid = torch.arange(bins, dtype=torch.float32, device=x0.device).to(x0_hat.dtype) * (2 / (bins - 1)) + -1.0
    snr = torch.exp(-per_example(gamma1, x0_hat.unsqueeze(-1)))
    logits = torch.square(x0_hat.unsqueeze(-1) - grid) * snr * -0.5
    log_probs = torch.log_softmax(logits, -1)
    index = torch.floor((x0 + 1) * ((bins - 1) / 2) + 0.5).long()
    one_hot = (index.unsqueeze(-1) == torch.arange(bins, device=x0.device)).to(log_probs.dtype)
    return sum_dims((log_probs * one_hot).sum(-1))


DECODERS = {"gaussian": gaussian_log_likelihood, "discretized": discretized_log_likelihood}


def prior_kl(x0, gamma_prior):
    """KL(q(x_T | x_0) ‖ N(0, I)) = ½ Σ_d (α_T²(x_0² − 1) + softplus(−γ_T)), α_T² = sigmoid(−γ_T)."""
    g = per_example(gamma_prior, x0)
    return sum_dims(sigmoid(-g) * (torch.square(x0) - 1) + softplus(-g)) * 0.5
