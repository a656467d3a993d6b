/**
 * Progressive distillation's terms (Salimans & Ho 2022, Algorithm 2), per example: every level is given
 * by its α and σ ([B], α² + σ² = 1; the data itself is α = 1, σ = 0). A student taking one deterministic
 * DDIM step from z_t to t'' is trained to land where its teacher's two steps t → t' → t'' land.
 * Every function consumes its array arguments.
 */
import { type Array, numpy as np } from "../engine/jax.js";
import { perExample, sumDims } from "./shapes.js";

/** Per-example α and σ of one level ([B] each). */
export interface LevelScales {
  alpha: Array;
  sigma: Array;
}

/**
 * One deterministic DDIM step (η = 0) from level t to level s given the prediction x̂_0 (the step of
 * `DdimSampler`): z_s = α_s x̂_0 + (σ_s/σ_t)(z_t − α_t x̂_0). To the data (σ_s = 0, α_s = 1): x̂_0.
 */
export function ddimStep(zt: Array, x0: Array, from: LevelScales, to: LevelScales): Array {
  const shape = zt.shape;
  const c = perExample(to.sigma.div(from.sigma), shape);
  const b = perExample(to.alpha, shape).sub(c.ref.mul(perExample(from.alpha, shape)));
  return c.mul(zt).add(b.mul(x0));
}

/**
 * The distillation target: the x̃ with which one DDIM step from z_t lands on the teacher's z_{t''}
 * (α_{t''} x̃ + (σ_{t''}/σ_t)(z_t − α_t x̃) = z_{t''}):
 *   x̃ = (z_{t''} − (σ_{t''}/σ_t) z_t) / (α_{t''} − (σ_{t''}/σ_t) α_t).
 * The denominator is α_{t''}σ_t − σ_{t''}α_t over σ_t, positive as SNR falls with t. To the data
 * (σ_{t''} = 0): x̃ = z_{t''}.
 */
export function distillationTarget(zt: Array, zLanded: Array, from: LevelScales, to: LevelScales): Array {
  const shape = zt.shape;
  const c = perExample(to.sigma.div(from.sigma), shape);
  const denominator = perExample(to.alpha, shape).sub(c.ref.mul(perExample(from.alpha, shape)));
  return zLanded.sub(c.mul(zt)).div(denominator);
}

/**
 * The paper's "truncated SNR" loss of the student's x̂_0 against the target x̃, per example:
 *   max(α_t²/σ_t², 1) · mean_d (x̃ − x̂_0)²  =  max(‖x̃ − x̂_0‖², ‖ε̃ − ε̂‖²)/d,
 * the x-error where the signal dominates and the ε-error where the noise does. Consumes all.
 */
export function truncatedSnrLoss(x0Hat: Array, target: Array, level: LevelScales): Array {
  const d = x0Hat.shape.slice(1).reduce((a, b) => a * b, 1);
  const weight = np.maximum(np.square(level.alpha.div(level.sigma)), 1);
  return weight.mul(sumDims(np.square(target.sub(x0Hat))).mul(1 / d));
}
