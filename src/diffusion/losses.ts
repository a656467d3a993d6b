/**
 * Training losses and the ELBO's diffusion terms, per example ([B]). Every function consumes its
 * array arguments.
 */
import { type Array, numpy as np } from "../engine/jax.js";
import { sigmoid, softplus } from "../schedule/schedule.js";
import { type Target, trueTarget } from "./parameterization.js";
import { perExample, sumDims } from "./shapes.js";

/**
 * KL(q(x_s|x_t,x_0) ‖ p_θ(x_s|x_t)) with p_θ = N(μ_q(x_t, x̂_0), Σ_q):
 *   ½ (SNR_s − SNR_t) ‖x_0 − x̂_0‖² = ½ expm1(γ_t − γ_s) ‖ε − ε̂‖².
 * `weight` is the per-example factor in front of ‖ε − ε̂‖² (see `klWeight`).
 */
export function weightedEpsError(eps: Array, epsHat: Array, weight: Array): Array {
  return weight.mul(sumDims(np.square(eps.sub(epsHat))));
}

/** Discrete step s → t: ½ expm1(γ_t − γ_s). */
export function klWeight(gammaS: Array, gammaT: Array): Array {
  return np.expm1(gammaT.sub(gammaS)).mul(0.5);
}

/** Continuous time (T → ∞): the integrand ½ γ'(t) of L_∞ = ½ ∫ γ'(t) E‖ε − ε̂‖² dt. */
export function continuousWeight(dgamma: Array): Array {
  return dgamma.mul(0.5);
}

/**
 * The "simple" loss: mean over dims of (prediction − true target)² in the target's own space;
 * for the score, weighted by λ(σ) = σ_t² (NCSN), which keeps it finite as σ_t → 0.
 */
export function simpleLoss(pred: Array, target: Target, x0: Array, eps: Array, gamma: Array): Array {
  const d = x0.shape.slice(1).reduce((a, b) => a * b, 1);
  const truth = trueTarget(target, x0, eps, gamma.ref);
  const sq = sumDims(np.square(pred.sub(truth))).mul(1 / d);
  if (target !== "score") {
    gamma.dispose();
    return sq;
  }
  return sq.mul(sigmoid(gamma)); // σ² = sigmoid(γ)
}

/** KL(q(x_T|x_0) ‖ N(0, I)) = ½ Σ_d (α_T² (x_0² − 1) + softplus(−γ_T)), per example. */
export function priorKl(x0: Array, gammaT: Array): Array {
  const g = perExample(gammaT, x0.shape);
  const alpha2 = sigmoid(np.negative(g.ref));
  const perDim = alpha2.mul(np.square(x0).sub(1)).add(softplus(np.negative(g)));
  return sumDims(perDim).mul(0.5);
}
