/**
 * Reference models and noise for exact sampler tests: the oracle asked about its noise level by t,
 * as a trained network is, and a random stream that hands out float64 draws and keeps a copy of each.
 */

import { type MixtureParams, oracleModel } from "../densities/oracle.js";
import type { Model } from "../diffusion/model.js";
import { perExample } from "../diffusion/shapes.js";
import { Rng } from "../engine/index.js";
import { type Array, numpy as np } from "../engine/jax.js";
import type { NoiseSchedule } from "../schedule/index.js";

/**
 * The exact x_0-predicting oracle evaluated at γ(t), the level `schedule` gives the time t it is
 * passed: like a trained network, it reads its noise level from t, so a sampler that hands it the
 * wrong t gets another level's prediction. The γ it is passed is cross-checked rather than
 * ignored: the prediction moves by γ − γ(t), so a γ that disagrees with t is seen as well.
 * jit rounds a traced function's numeric constants to float32: for exact references, give it a
 * schedule whose constants are exact in float32 (e.g. γ(t) = −8 + 16t).
 */
export function timedOracle(schedule: NoiseSchedule): Model<MixtureParams> {
  const oracle = oracleModel("x0");
  return {
    target: "x0",
    classes: 0,
    apply(params, xt, t, gamma) {
      const shape = xt.shape;
      const own = schedule.gamma(t.astype(np.float64));
      const x0 = oracle.apply(params, xt, np.zeros([shape[0]!]), own.ref);
      return x0.add(perExample(gamma.sub(own), shape));
    },
  };
}

/**
 * A stand-in for `Rng` that returns its seed's draws as float64 (so a sampler on the `cpu` device
 * computes in float64 throughout) and records each draw in order, for references fed the same noise.
 */
export class RecordedRng {
  readonly draws: Float64Array[] = [];
  readonly #rng: Rng;

  constructor(seed: number) {
    this.#rng = new Rng(seed);
  }

  #record(x: Array): Array {
    const y = x.astype(np.float64);
    this.draws.push(Float64Array.from(y.ref.dataSync() as ArrayLike<number>));
    return y;
  }

  normal(shape: number[]): Array {
    return this.#record(this.#rng.normal(shape));
  }

  uniform(shape: number[]): Array {
    return this.#record(this.#rng.uniform(shape));
  }

  /** This stream typed as the `Rng` the samplers take. */
  get asRng(): Rng {
    return this as unknown as Rng;
  }
}
