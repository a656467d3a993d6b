/** The fixed schedules: DDPM linear-β, cosine, and VDM's linear log-SNR. */
import { type Array, numpy as np } from "../engine/jax.js";
import { ConfigError } from "../errors.js";
import { type NoiseSchedule, softplus } from "./schedule.js";

/** DDPM's β range for T = 1000 (Ho et al. 2020): β_1 = 1e-4, β_T = 0.02. */
const DDPM_BETA_START = 1e-4;
const DDPM_BETA_END = 0.02;
const DDPM_T = 1000;

/**
 * Linear β (Ho et al. 2020). Discrete: β_i = linspace(β_start, β_end, T)·(1000/T), the DDPM
 * values at T = 1000 and rescaled for other T so the chain covers the same noise range (as in
 * Nichol & Dhariwal's code). Continuous: its T → ∞ limit, the VP-SDE with β(t) = β_min +
 * t(β_max − β_min), β_min = 0.1, β_max = 20:
 *   −log ᾱ(t) = β_min t + ½(β_max − β_min) t²,  γ(t) = log(expm1(−log ᾱ(t))).
 */
export function linearSchedule(): NoiseSchedule {
  const betaMin = DDPM_BETA_START * DDPM_T;
  const betaMax = DDPM_BETA_END * DDPM_T;
  return {
    name: "linear",
    tMin: 1e-5,
    tMax: 1,
    gamma(t: Array): Array {
      const negLogAlphaBar = t.ref.mul(betaMin).add(np.square(t).mul(0.5 * (betaMax - betaMin)));
      return np.log(np.expm1(negLogAlphaBar));
    },
    /** −log ᾱ = softplus(γ) = ℓ, the root of β_min t + ½(β_max − β_min) t² = ℓ: t = 2ℓ/(β_min + √(β_min² + 2(β_max − β_min)ℓ)). */
    inverse(gamma: Array): Array {
      const negLogAlphaBar = softplus(gamma);
      const root = np.sqrt(negLogAlphaBar.ref.mul(2 * (betaMax - betaMin)).add(betaMin * betaMin));
      return negLogAlphaBar.mul(2).div(root.add(betaMin));
    },
    betas(T: number): Float64Array {
      const scale = DDPM_T / T;
      const start = DDPM_BETA_START * scale;
      const end = DDPM_BETA_END * scale;
      const out = new Float64Array(T);
      // Stryker disable next-line EqualityOperator: i = T writes past the end of a Float64Array, which JS ignores
      for (let i = 0; i < T; i++) out[i] = T === 1 ? start : start + ((end - start) * i) / (T - 1);
      return out;
    },
  };
}

/**
 * Cosine (Nichol & Dhariwal 2021), s = 0.008: ᾱ(t) = f(t)/f(0), f(t) = cos²(b(t)),
 * b(t) = (t + s)/(1 + s)·π/2. Then γ(t) = log((f(0) − f(t))/f(t)), computed without
 * cancellation through cos²a − cos²b = sin(b − a)·sin(b + a). The discrete chain clips β at 0.999.
 * Continuous time stops at tMax = 0.999 (γ ≈ 13), where γ' is still finite.
 */
export function cosineSchedule(s = 0.008): NoiseSchedule {
  const a = ((s / (1 + s)) * Math.PI) / 2;
  return {
    name: "cosine",
    tMin: 1e-5,
    tMax: 0.999,
    maxBeta: 0.999,
    gamma(t: Array): Array {
      const b = t.add(s).mul(Math.PI / 2 / (1 + s));
      const numerator = np.sin(b.ref.sub(a)).mul(np.sin(b.ref.add(a)));
      return np.log(numerator).sub(np.log(np.square(np.cos(b))));
    },
    /**
     * From e^γ = f(0)/f(t) − 1: tan²b = tan²a + e^γ/cos²a, so b = atan(√(tan²a + e^γ/cos²a)) and
     * t = b·2(1 + s)/π − s (atan is well conditioned at both ends, unlike acos or asin).
     */
    inverse(gamma: Array): Array {
      const tan2b = np
        .exp(gamma)
        .mul(1 / Math.cos(a) ** 2)
        .add(Math.tan(a) ** 2);
      return np
        .atan(np.sqrt(tan2b))
        .mul((2 * (1 + s)) / Math.PI)
        .sub(s);
    },
  };
}

/**
 * NCSN's geometric noise ladder as a schedule: the VE noise level σ̃(t) = σ_min^{1−t} σ_max^t,
 * i.e. linear log-SNR γ(t) = 2 log σ̃(t) (x_t/α_t = x_0 + σ̃ ε). Uniform t is log-uniform σ̃.
 */
export function geometricSchedule(sigmaMin = 0.01, sigmaMax = 10): NoiseSchedule {
  return { ...logSnrLinearSchedule(2 * Math.log(sigmaMin), 2 * Math.log(sigmaMax)), name: "geometric" };
}

/** VDM's fixed schedule (Kingma et al. 2021): γ(t) = γ_min + (γ_max − γ_min)·t. */
export function logSnrLinearSchedule(gammaMin = -13.3, gammaMax = 5): NoiseSchedule {
  if (!(gammaMin < gammaMax)) {
    throw new ConfigError(`log-snr-linear needs gammaMin < gammaMax, got ${gammaMin} and ${gammaMax}`);
  }
  return {
    name: "log-snr-linear",
    tMin: 0,
    tMax: 1,
    gamma: (t: Array): Array => t.mul(gammaMax - gammaMin).add(gammaMin),
    /** t = (γ − γ_min)/(γ_max − γ_min) */
    inverse: (gamma: Array): Array => gamma.sub(gammaMin).mul(1 / (gammaMax - gammaMin)),
  };
}
