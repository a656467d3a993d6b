/**
 * Noise schedules, defined by γ(t) = −log SNR(t) on continuous time t ∈ [tMin, tMax].
 *
 * Everything follows from γ (Kingma et al. 2021):
 *   ᾱ(t) = α_t² = sigmoid(−γ(t)),  σ_t² = 1 − ᾱ(t) = sigmoid(γ(t)),  SNR(t) = exp(−γ(t)).
 * A discrete chain of T steps puts latents x_1..x_T at t_i = i/T; x_0 is the data (γ_0 = −∞).
 */
import { type Array, jvp, numpy as np } from "../engine/jax.js";
import { tracing } from "../engine/tracing.js";

/**
 * A continuous-time noise schedule γ(t) = −log SNR(t) on [tMin, tMax]: ᾱ(t) = sigmoid(−γ(t)),
 * σ_t² = sigmoid(γ(t)). Fixed schedules come from `getSchedule`, learned ones from `learnedSchedule`.
 */
export interface NoiseSchedule {
  /** Registry name, e.g. "cosine". */
  readonly name: string;
  /**
   * γ(t) = −log SNR(t), strictly increasing in t. Consumes `t` and keeps its dtype and device,
   * so the same formula serves float64 tables (on `cpu`) and float32 training (on `wasm`).
   */
  gamma(t: Array): Array;
  /**
   * γ⁻¹: the time t at which the schedule reaches level γ, for γ in [γ(tMin), γ(tMax)], in closed
   * form. Consumes `gamma` and keeps its dtype and device, like `gamma`. Fixed schedules have it;
   * learned ones do not (their networks are conditioned on γ, and their shape is trained as the
   * distribution of levels: see `DiffusionProcess.levelsFromUniform`).
   */
  inverse?(gamma: Array): Array;
  /** Continuous-time domain: the least noisy latent sits at tMin, the prior at tMax. */
  readonly tMin: number;
  readonly tMax: number;
  /** The schedule's own β_1..β_T where its discrete form is defined by β (DDPM's linear). */
  betas?(T: number): Float64Array;
  /** Clip for β_t when the discrete chain is derived from γ (Nichol & Dhariwal's 0.999). */
  readonly maxBeta?: number;
}

/** [γ(t), γ'(t)] by forward-mode differentiation, for any schedule (learned ones included). */
export function gammaWithDerivative(schedule: NoiseSchedule, t: Array): [Array, Array] {
  const tangent = np.onesLike(t.ref);
  const [g, dg] = jvp((u: Array) => schedule.gamma(u), [t], [tangent]);
  return [g, dg];
}

/**
 * The Gaussian posterior q(x_s | x_t, x_0) for s < t, in terms of γ_s and γ_t:
 *   μ_q = coefXt · x_t + coefX0 · x_0,
 *   coefXt = α_{t|s} σ_s² / σ_t²,  coefX0 = α_s σ_{t|s}² / σ_t²,
 *   variance = σ_{t|s}² σ_s² / σ_t² = −expm1(γ_s − γ_t) · σ_s²,
 * with α_{t|s} = α_t/α_s and σ_{t|s}² = σ_t² − α_{t|s}² σ_s² = −expm1(γ_s − γ_t) · σ_t².
 * For s = t−1 on the discrete chain these are DDPM's √ᾱ_{t−1}β_t/(1−ᾱ_t), √α_t(1−ᾱ_{t−1})/(1−ᾱ_t)
 * and β̃_t; γ_s = −∞ (s is the data) gives coefX0 = 1, coefXt = 0, variance 0. Consumes both.
 */
export function posteriorCoefficients(gammaS: Array, gammaT: Array): { coefXt: Array; coefX0: Array; variance: Array } {
  const sigma2S = sigmoid(gammaS.ref);
  const alphaS = np.exp(softplus(gammaS.ref).mul(-0.5)); // √sigmoid(−γ_s)
  const alphaT = np.exp(softplus(gammaT.ref).mul(-0.5));
  // 1 − SNR_t/SNR_s = −expm1(γ_s − γ_t)
  const oneMinusRatio = np.negative(np.expm1(gammaS.ref.sub(gammaT.ref)));
  // α_{t|s} σ_s²/σ_t² = (α_t/α_s) · SNR_t/SNR_s · α_s²/α_t² = (α_s/α_t) · exp(γ_s − γ_t)
  const coefXt = alphaS.ref.div(alphaT).mul(np.exp(gammaS.sub(gammaT)));
  const coefX0 = alphaS.mul(oneMinusRatio.ref);
  const variance = oneMinusRatio.mul(sigma2S);
  return { coefXt, coefX0, variance };
}

/*
 * sigmoid and softplus live here, at the lowest floor that uses them (ᾱ = sigmoid(−γ),
 * σ² = sigmoid(γ), log ᾱ = −softplus(γ)); the networks' silu builds on this sigmoid
 * (models/activations.ts). jax-js's nn.sigmoid and nn.softplus are the direct forms
 * 1/(1 + e^{−x}) and log(eˣ + 1), not bit-identical to these (measured on float32 and float64
 * inputs in [−200, 200]): nn.sigmoid differs in the last bits for many x < 0; nn.softplus loses
 * digits (0.8543552 against 0.8543535 at x = 0.3 in float32), is ∞ above x ≈ 88 and 0 below x ≈ −87.
 */

/**
 * sigmoid(x) = 1/(1 + e^{−x}), from e = e^{−|x|} ≤ 1: 1/(1 + e) for x ≥ 0, e/(1 + e) otherwise.
 * Accurate in both tails, exact at ±∞, and with finite gradients everywhere (the direct form's
 * gradient is 0·∞ = NaN once e^{−x} overflows, as jax-js's nn.sigmoid/nn.silu do below x ≈ −88).
 * Traced for ONNX export it is the direct form on max(x, −80) (5 operators instead of 10, with
 * fewer selects in its gradient): e^{80} is finite in float32, and below −80 it gives
 * σ(−80) ≈ 2e−35 with gradient 0 instead of values smaller still.
 */
export function sigmoid(x: Array): Array {
  if (tracing().export) return np.reciprocal(np.exp(np.negative(np.maximum(x, -80))).add(1));
  const e = np.exp(np.negative(np.abs(x.ref)));
  const denominator = np.reciprocal(e.ref.add(1));
  return np.where(np.greaterEqual(x, 0), denominator.ref, e.mul(denominator));
}

/** softplus(x) = log(1 + eˣ), stable for large |x|; softplus(−∞) = 0. */
export function softplus(x: Array): Array {
  // max(x, 0) + log1p(exp(−|x|))
  return np.maximum(x.ref, 0).add(np.log1p(np.exp(np.negative(np.abs(x)))));
}
