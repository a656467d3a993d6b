/**
 * A schedule discretised to T steps: latents x_1..x_T at t_i = i/T, data x_0 (ᾱ_0 = 1, γ_0 = −∞).
 * All arrays are float64 and indexed 0..T; index 0 is the data.
 */
import { exactArray } from "../engine/index.js";
import type { Array } from "../engine/jax.js";
import { ConfigError } from "../errors.js";
import { type NoiseSchedule, posteriorCoefficients, softplus } from "./schedule.js";

/**
 * A schedule discretised to T steps (`discretize`): float64 tables indexed 0..T, latents x_1..x_T
 * at t_i = i/T and the data x_0 at index 0 (ᾱ_0 = 1, γ_0 = −∞).
 */
export interface DiscreteSchedule {
  readonly name: string;
  readonly T: number;
  /** t_i = i/T */
  readonly t: Float64Array;
  /** β_i = 1 − α_i (β_0 = 0) */
  readonly beta: Float64Array;
  /** α_i = ᾱ_i/ᾱ_{i−1} */
  readonly alpha: Float64Array;
  /** ᾱ_i = Π_{j≤i} α_j */
  readonly alphaBar: Float64Array;
  /** σ_i² = 1 − ᾱ_i */
  readonly sigma2: Float64Array;
  /** γ_i = −log SNR_i = log(σ_i²/ᾱ_i) (γ_0 = −∞) */
  readonly gamma: Float64Array;
  /** SNR_i = ᾱ_i/(1 − ᾱ_i) (SNR_0 = ∞) */
  readonly snr: Float64Array;
  /** Σ_q(i) = β̃_i = β_i (1 − ᾱ_{i−1})/(1 − ᾱ_i), variance of q(x_{i−1}|x_i, x_0) */
  readonly posteriorVariance: Float64Array;
  /** μ_q = posteriorCoefX0·x_0 + posteriorCoefXt·x_i */
  readonly posteriorCoefX0: Float64Array;
  readonly posteriorCoefXt: Float64Array;
}

/** β_i from γ: β_i = 1 − ᾱ_i/ᾱ_{i−1} = −expm1(log ᾱ_i − log ᾱ_{i−1}), log ᾱ = −softplus(γ), clipped. */
function betasFromGamma(schedule: NoiseSchedule, T: number): Float64Array {
  const grid = Float64Array.from({ length: T }, (_, k) => (k + 1) / T);
  const softplusGamma = softplus(schedule.gamma(exactArray(grid))).dataSync() as Float64Array; // −log ᾱ_i
  const maxBeta = schedule.maxBeta ?? 1;
  const betas = new Float64Array(T);
  let prevLogAlphaBar = 0;
  // Stryker disable next-line EqualityOperator: k = T reads past the end (NaN) and writes past the end of a Float64Array, which JS ignores
  for (let k = 0; k < T; k++) {
    const logAlphaBar = -softplusGamma[k]!;
    betas[k] = Math.min(-Math.expm1(logAlphaBar - prevLogAlphaBar), maxBeta);
    prevLogAlphaBar = logAlphaBar;
  }
  return betas;
}

/** The T-step chain of a schedule, in float64. */
export function discretize(schedule: NoiseSchedule, T: number): DiscreteSchedule {
  if (!Number.isInteger(T) || T < 1) {
    throw new ConfigError(`discrete schedules need an integer number of timesteps T >= 1, got ${T}`);
  }
  const betas = schedule.betas ? schedule.betas(T) : betasFromGamma(schedule, T);
  const n = T + 1;
  const t = new Float64Array(n);
  const beta = new Float64Array(n);
  const alpha = new Float64Array(n);
  const alphaBar = new Float64Array(n);
  const sigma2 = new Float64Array(n);
  const gamma = new Float64Array(n);
  const snr = new Float64Array(n);
  alpha[0] = 1;
  alphaBar[0] = 1;
  gamma[0] = -Infinity;
  snr[0] = Infinity;
  let logAlphaBar = 0;
  for (let i = 1; i <= T; i++) {
    const b = betas[i - 1]!;
    if (!(b > 0 && b < 1)) throw new ConfigError(`β_${i} = ${b} is outside (0, 1)`);
    t[i] = i / T;
    beta[i] = b;
    alpha[i] = 1 - b;
    logAlphaBar += Math.log1p(-b);
    alphaBar[i] = Math.exp(logAlphaBar);
    sigma2[i] = -Math.expm1(logAlphaBar);
    gamma[i] = Math.log(sigma2[i]!) - logAlphaBar;
    snr[i] = Math.exp(-gamma[i]!);
  }
  // q(x_{i−1} | x_i, x_0) for i = 1..T from (γ_{i−1}, γ_i), on the exact float64 device.
  const post = posteriorCoefficients(exactArray(gamma.slice(0, T)), exactArray(gamma.slice(1)));
  const pad = (a: Array) => Float64Array.from([0, ...(a.dataSync() as Float64Array)]);
  return {
    name: schedule.name,
    T,
    t,
    beta,
    alpha,
    alphaBar,
    sigma2,
    gamma,
    snr,
    posteriorVariance: pad(post.variance),
    posteriorCoefX0: pad(post.coefX0),
    posteriorCoefXt: pad(post.coefXt),
  };
}
