/**
 * Diagonal Gaussians N(μ, diag e^{log σ²}) on [B, ...] arrays, as the Gaussian decoder p(x_0 | x_1)
 * and the HVAE's levels use them: the log-density, the KL between two of them and the
 * reparameterised draw, each summed over every axis but the batch. Every function consumes its
 * array arguments.
 */

import { type Array, numpy as np } from "../engine/jax.js";
import { sumDims } from "./shapes.js";

/** A diagonal Gaussian: its mean and log-variance, both [B, ...] (the log-variance may broadcast). */
export interface DiagonalGaussian {
  mean: Array;
  logVar: Array;
}

/** log N(z; μ, diag σ²) = −½ Σ_d (log 2π + log σ_d² + (z_d − μ_d)²/σ_d²), per example ([B]). Consumes all. */
export function gaussianLogDensity(z: Array, { mean, logVar }: DiagonalGaussian): Array {
  const quad = np.square(z.sub(mean)).mul(np.exp(np.negative(logVar.ref)));
  return sumDims(
    quad
      .add(logVar)
      .add(Math.log(2 * Math.PI))
      .mul(-0.5),
  );
}

/**
 * KL(N(μ_q, σ_q²) ‖ N(μ_p, σ_p²)) = ½ Σ_d (log σ_p² − log σ_q² + (σ_q² + (μ_q − μ_p)²)/σ_p² − 1), per
 * example ([B]). Consumes both.
 */
export function gaussianKl(q: DiagonalGaussian, p: DiagonalGaussian): Array {
  const ratio = np.exp(q.logVar.ref.sub(p.logVar.ref)); // σ_q²/σ_p²
  const gap = np.square(q.mean.sub(p.mean)).mul(np.exp(np.negative(p.logVar.ref)));
  return sumDims(p.logVar.sub(q.logVar).add(ratio).add(gap).sub(1).mul(0.5));
}

/** N(0, I) of the shape and dtype of `like`, as a `DiagonalGaussian` (zero mean and log-variance). Consumes like. */
export function standardNormalLike(like: Array): DiagonalGaussian {
  return { mean: np.zerosLike(like.ref), logVar: np.zerosLike(like) };
}

/** The reparameterised draw z = μ + e^{½ log σ²} ε (ε ~ N(0, I), [B, ...]). Consumes all. */
export function reparameterize({ mean, logVar }: DiagonalGaussian, eps: Array): Array {
  return mean.add(np.exp(logVar.mul(0.5)).mul(eps));
}
