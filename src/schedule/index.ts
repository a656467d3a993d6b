/** Noise schedules: registry by name, continuous γ(t) and discrete T-step chains. */

import { ConfigError } from "../errors.js";
import { cosineSchedule, geometricSchedule, linearSchedule, logSnrLinearSchedule } from "./fixed.js";
import type { NoiseSchedule } from "./schedule.js";
import { sqrtSchedule } from "./sqrt.js";

export * from "./discrete.js";
export * from "./learned.js";
export * from "./schedule.js";
export { cosineSchedule, geometricSchedule, linearSchedule, logSnrLinearSchedule, sqrtSchedule };

const REGISTRY: Record<string, () => NoiseSchedule> = {
  linear: () => linearSchedule(),
  cosine: () => cosineSchedule(),
  "log-snr-linear": () => logSnrLinearSchedule(),
  geometric: () => geometricSchedule(),
  sqrt: () => sqrtSchedule(),
};

/** Names of the fixed schedules that `getSchedule` knows, e.g. "cosine". */
export const scheduleNames: readonly string[] = Object.keys(REGISTRY);

/** A fixed schedule by name; unknown names are an error that lists the known ones. */
export function getSchedule(name: string): NoiseSchedule {
  const make = REGISTRY[name];
  if (!make)
    throw new ConfigError(`unknown schedule "${name}" (known: ${scheduleNames.join(", ")})`, { unknown: { name, known: scheduleNames } });
  return make();
}
