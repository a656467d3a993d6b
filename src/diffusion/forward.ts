/**
 * The fixed linear-Gaussian encoder. All levels are given by γ = −log SNR (per example, [B]);
 * γ = −∞ is the data itself. Every function consumes its array arguments.
 */
import { type Array, numpy as np } from "../engine/jax.js";
import { posteriorCoefficients, sigmoid } from "../schedule/schedule.js";
import { alphaOf, perExample, sigmaOf } from "./shapes.js";

/** x_t ~ q(x_t | x_0) = N(α_t x_0, σ_t² I) by reparameterisation: x_t = α_t x_0 + σ_t ε. */
export function qSample(x0: Array, gamma: Array, eps: Array): Array {
  const shape = x0.shape;
  return alphaOf(gamma.ref, shape).mul(x0).add(sigmaOf(gamma, shape).mul(eps));
}

/**
 * One transition x_t ~ q(x_t | x_s) = N(α_{t|s} x_s, σ_{t|s}² I) for s < t, with
 * α_{t|s} = α_t/α_s and σ_{t|s}² = −expm1(γ_s − γ_t)·σ_t². On the discrete chain with s = t−1
 * this is DDPM's q(x_t | x_{t−1}) = N(√α_t x_{t−1}, (1 − α_t) I).
 */
export function qStep(xs: Array, gammaS: Array, gammaT: Array, eps: Array): Array {
  const shape = xs.shape;
  const alphaTS = alphaOf(gammaT.ref, shape).div(alphaOf(gammaS.ref, shape));
  const sigmaTS = np.sqrt(perExample(transitionVariance(gammaS, gammaT), shape));
  return alphaTS.mul(xs).add(sigmaTS.mul(eps));
}

/** σ_{t|s}² = −expm1(γ_s − γ_t)·σ_t², the variance of q(x_t | x_s) per example ([B]); DDPM's β_t. */
export function transitionVariance(gammaS: Array, gammaT: Array): Array {
  return np.negative(np.expm1(gammaS.sub(gammaT.ref))).mul(sigmoid(gammaT));
}

/** Mean of q(x_s | x_t, x_0): μ_q = coefXt·x_t + coefX0·x_0 (see `posteriorCoefficients`). */
export function posteriorMean(xt: Array, x0: Array, gammaS: Array, gammaT: Array): Array {
  const shape = xt.shape;
  const { coefXt, coefX0, variance } = posteriorCoefficients(gammaS, gammaT);
  variance.dispose();
  return perExample(coefXt, shape).mul(xt).add(perExample(coefX0, shape).mul(x0));
}

/** Σ_q: the variance of q(x_s | x_t, x_0) per example, [B]. */
export function posteriorVariance(gammaS: Array, gammaT: Array): Array {
  const { coefXt, coefX0, variance } = posteriorCoefficients(gammaS, gammaT);
  coefXt.dispose();
  coefX0.dispose();
  return variance;
}
