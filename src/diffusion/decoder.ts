/**
 * The decoder p(x_0 | x_1) of the ELBO's reconstruction term, from the denoiser's x̂_0 at the
 * least noisy latent (level γ_1), with variance 1/SNR_1 = e^{γ_1}: the spread of q(x_1|x_0)
 * mapped back to data scale (Var[x_1/α_1 | x_0] = σ_1²/α_1²).
 */
import { type Array, nn, numpy as np } from "../engine/jax.js";
import { gaussianLogDensity } from "./gaussian.js";
import { perExample, sumDims } from "./shapes.js";

/**
 * The reconstruction term's decoder p(x_0 | x_1): "gaussian" N(x̂_0, e^{γ_1} I) for continuous data,
 * "discretized" over 256 levels in [−1, 1] for 8-bit images (bits/dim as published).
 */
export type DecoderKind = "gaussian" | "discretized";

/** Continuous data: log N(x_0; x̂_0, e^{γ_1} I), summed over dims → [B]. Consumes all. */
export function gaussianLogLikelihood(x0: Array, x0Hat: Array, gamma1: Array): Array {
  // −½ log 2π − ½ γ − ½ e^{−γ} (x_0 − x̂_0)²: a diagonal Gaussian whose log-variance is γ_1 in every dimension
  return gaussianLogDensity(x0, { mean: x0Hat, logVar: perExample(gamma1, x0.shape) });
}

/**
 * 8-bit (or `bins`-level) data on the grid x_k = 2k/(bins − 1) − 1: the discretised decoder of
 * Kingma et al. 2021, p(x_0 = x_k | x_1) = softmax_k(−½ e^{−γ_1} (x̂_0 − x_k)²), a proper
 * probability mass, so −log p / (D ln 2) is bits/dim as published. Summed over dims → [B].
 */
export function discretizedLogLikelihood(x0: Array, x0Hat: Array, gamma1: Array, bins = 256): Array {
  const shape = x0.shape;
  const grid = np.linspace(-1, 1, bins).reshape([...shape.map(() => 1), bins]);
  const snr = np.exp(np.negative(perExample(gamma1, [...shape, bins])));
  const logits = np
    .square(x0Hat.reshape([...shape, 1]).sub(grid))
    .mul(snr)
    .mul(-0.5);
  const logProbs = nn.logSoftmax(logits, -1);
  // the observed bin's log-probability as a one-hot product (a gather's gradient is a scatter, which
  // jit cannot compile); x_0 lies on the grid, so floor(k + ½) finds k (np.round's ties-to-even needs
  // a modulo, which the ONNX exporter does not write)
  const index = np
    .floor(
      x0
        .add(1)
        .mul((bins - 1) / 2)
        .add(0.5),
    )
    .astype(np.int32);
  // Stryker disable next-line UnaryOperator: summing axis 1 first instead of the last leaves sumDims the same total over every axis but the batch
  return sumDims(np.sum(logProbs.mul(nn.oneHot(index, bins)), -1));
}

export function decoderLogLikelihood(kind: DecoderKind, x0: Array, x0Hat: Array, gamma1: Array): Array {
  return kind === "gaussian" ? gaussianLogLikelihood(x0, x0Hat, gamma1) : discretizedLogLikelihood(x0, x0Hat, gamma1);
}
