/**
 * Masking schedules of absorbing-state ("masked") diffusion: α(t), the probability that a token of
 * x is still itself in z_t (with probability 1 − α(t) it has been replaced by [MASK]), decreasing
 * from α(0) = 1 (z_0 = x) to α(1) = 0 (z_1 is all [MASK]). With these endpoints the continuous-time
 * bound does not depend on the schedule (Sahoo et al. 2024, §3.2), as VDM's does not depend on γ
 * between its endpoints.
 */

import { type Array, numpy as np } from "../engine/jax.js";
import { ConfigError } from "../errors.js";

/**
 * 1 − α(t) and −α'(t) on t ∈ [0, 1], elementwise over jax-js arrays (consume t). 1 − α is written
 * out, not computed from α, so that it keeps its precision near t = 0 in float32.
 */
export interface MaskingSchedule {
  readonly name: string;
  /** 1 − α(t): the probability that a token is [MASK] at time t */
  oneMinusAlpha(t: Array): Array;
  /** −α'(t) = d(1 − α)/dt (≥ 0) */
  minusAlphaPrime(t: Array): Array;
}

/** The masking schedules by name: "linear" α = 1 − t (MDLM's log-linear noise, σ(t) = −log(1 − t)), "cosine" α = cos(πt/2). */
export const maskingSchedules: Readonly<Record<string, MaskingSchedule>> = {
  linear: {
    name: "linear",
    oneMinusAlpha: (t) => t,
    minusAlphaPrime: (t) => np.onesLike(t),
  },
  cosine: {
    name: "cosine",
    // 1 − cos(πt/2) = 2 sin²(πt/4)
    oneMinusAlpha: (t) => np.square(np.sin(t.mul(Math.PI / 4))).mul(2),
    minusAlphaPrime: (t) => np.sin(t.mul(Math.PI / 2)).mul(Math.PI / 2),
  },
};

/** Names of the masking schedules, e.g. "linear". */
export const maskingScheduleNames: readonly string[] = Object.keys(maskingSchedules);

/** A masking schedule by name; an unknown name is a ConfigError listing the known ones. */
export function getMaskingSchedule(name: string): MaskingSchedule {
  const schedule = maskingSchedules[name];
  if (!schedule)
    throw new ConfigError(`unknown masking schedule "${name}" (known: ${maskingScheduleNames.join(", ")})`, {
      unknown: { name, known: maskingScheduleNames },
    });
  return schedule;
}

/** 1 − α at the host times `t` (float32 evaluation through jax-js), for samplers' step tables. */
export function oneMinusAlphaAt(schedule: MaskingSchedule, t: readonly number[]): Float64Array {
  return Float64Array.from(schedule.oneMinusAlpha(np.array(Float32Array.from(t))).dataSync() as Float32Array);
}
