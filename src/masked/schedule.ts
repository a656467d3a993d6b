/**
 * Masking schedules of absorbing-state ("masked") diffusion: α(t), the probability that a token of
 * x is still itself in z_t (with probability 1 − α(t) it has been replaced by [MASK]), decreasing
 * from α(0) = 1 (z_0 = x) to α(1) = 0 (z_1 is all [MASK]). With these endpoints the continuous-time
 * bound does not depend on the schedule (Sahoo et al. 2024, §3.2), as VDM's does not depend on γ
 * between its endpoints.
 */

import { type Array, numpy as np } from "../engine/jax.js";
import { ConfigError } from "../errors.js";

/** α(t) and its derivative α'(t) on t ∈ [0, 1], elementwise over jax-js arrays (consume t). */
export interface MaskingSchedule {
  readonly name: string;
  /** α(t): the probability that a token is unmasked at time t */
  alpha(t: Array): Array;
  /** α'(t) = dα/dt (≤ 0) */
  alphaPrime(t: Array): Array;
}

/** The masking schedules by name: "linear" α = 1 − t (MDLM's log-linear noise, σ(t) = −log(1 − t)), "cosine" α = cos(πt/2). */
export const maskingSchedules: Readonly<Record<string, MaskingSchedule>> = {
  linear: {
    name: "linear",
    alpha: (t) => np.negative(t).add(1),
    alphaPrime: (t) => np.full(t.shape, -1, { dtype: t.dtype }),
  },
  cosine: {
    name: "cosine",
    alpha: (t) => np.cos(t.mul(Math.PI / 2)),
    alphaPrime: (t) => np.sin(t.mul(Math.PI / 2)).mul(-Math.PI / 2),
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

/** α at the host times `t` (float32 evaluation through jax-js), for samplers' step tables. */
export function alphaAt(schedule: MaskingSchedule, t: readonly number[]): Float64Array {
  return Float64Array.from(schedule.alpha(np.array(Float32Array.from(t))).dataSync() as Float32Array);
}
