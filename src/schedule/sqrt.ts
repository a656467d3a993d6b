/** Diffusion-LM's sqrt schedule (Li et al. 2022). */
import { type Array, numpy as np } from "../engine/jax.js";
import { ConfigError } from "../errors.js";
import { type NoiseSchedule, sigmoid } from "./schedule.js";

/**
 * The sqrt schedule of Diffusion-LM (Li et al. 2022): ᾱ(t) = 1 − √(t + s), s = 1e-4, so
 *   γ(t) = log(σ²/α²) = log √(t + s) − log(1 − √(t + s)).
 * Noise rises quickly at first (σ(0) = √(√s) = 0.1: word embeddings are already blurred at the
 * least noisy level, which keeps the rounding step honest) and slowly near the end. ᾱ reaches 0 at
 * t = 1 − s, so 1 − √(t + s) is floored at 1e-12 (γ ≤ 27.6) and the discrete chain clips β at 0.999,
 * as Diffusion-LM's code does (T = 2000 there); continuous time stops at tMax = 0.999 (γ ≈ 7.7).
 */
export function sqrtSchedule(s = 1e-4): NoiseSchedule {
  if (!(s > 0)) throw new ConfigError(`the sqrt schedule's offset s must be > 0, got ${s}`);
  return {
    name: "sqrt",
    tMin: 0,
    tMax: 0.999,
    maxBeta: 0.999,
    gamma(t: Array): Array {
      const root = np.sqrt(t.add(s));
      return np.log(root.ref).sub(np.log(np.maximum(np.negative(root).add(1), 1e-12)));
    },
    /** γ = logit √(t + s), so √(t + s) = sigmoid(γ) and t = sigmoid(γ)² − s. */
    inverse(gamma: Array): Array {
      return np.square(sigmoid(gamma)).sub(s);
    },
  };
}
