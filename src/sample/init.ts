/** Where Langevin chains start: a uniform box or an isotropic Gaussian, in model coordinates. */
import type { Rng } from "../engine/index.js";
import { type Array, numpy as np } from "../engine/jax.js";
import { ConfigError } from "../errors.js";

/** Where Langevin chains start (model coordinates): uniform in the box [low, high], or N(0, std² I). */
export type Init = { kind: "uniform"; low: number[]; high: number[] } | { kind: "gaussian"; std: number };

/** n starting points [n, D]. */
export function initialPoints(init: Init, shape: number[], rng: Rng): Array {
  if (init.kind === "gaussian") return rng.normal(shape).mul(init.std);
  const D = shape.slice(1).reduce((a, b) => a * b, 1);
  if (init.low.length !== D || init.high.length !== D) throw new ConfigError(`uniform start box needs ${D} bounds per side`);
  const low = np.array(init.low).reshape([1, ...shape.slice(1)]);
  const width = np.array(init.high.map((h, d) => h - init.low[d]!)).reshape([1, ...shape.slice(1)]);
  return rng.uniform(shape).mul(width).add(low);
}
