/**
 * Euler's method on the probability-flow ODE in Karras et al.'s (2022) coordinates: the scaled
 * latent x̃ = x_t/α_t against σ̃ = e^{γ/2} = σ_t/α_t, where the ODE reads
 *   dx̃/dσ̃ = (x̃ − x̂_0(x̃))/σ̃ = ε̂,
 * and a step from σ̃_t to σ̃_s is x̃_s = x̃_t + (σ̃_s − σ̃_t)·d(x̃_t, σ̃_t). On N levels, NFE = N; the
 * last step (σ̃_s = 0) returns x̂_0. (Algebraically the same step as DDIM with η = 0.)
 */

import type { DiffusionProcess } from "../diffusion/process.js";
import { type Rng, realize } from "../engine/index.js";
import type { Array } from "../engine/jax.js";
import { alphaSigma, axpby, type LevelOptions, OdeLevelSampler, predictX0 } from "./predict.js";
import type { Denoiser, SampleOptions } from "./sampler.js";

/** σ̃ = σ/α = e^{γ/2} of a level (0 for the data). */
export function sigmaTilde(gamma: number): number {
  return Math.exp(gamma / 2);
}

/**
 * The ODE's slope d = (x̃ − x̂_0)/σ̃ at VP latent x (borrowed) of level i, in x̃ coordinates, and
 * x̃ itself: one network evaluation.
 */
export function karrasSlope(den: Denoiser, x: Array, t: number, gamma: number): { xTilde: Array; d: Array } {
  const x0 = predictX0(den, x, t, gamma);
  const { alpha } = alphaSigma(gamma);
  const xTilde = x.ref.mul(1 / alpha);
  return { xTilde: xTilde.ref, d: axpby(1 / sigmaTilde(gamma), xTilde, -1 / sigmaTilde(gamma), x0) };
}

/** Probability-flow ODE samplers in x̃, σ̃ over N levels: Euler (NFE = N) or Heun (NFE = 2N − 1). */
export class EulerSampler extends OdeLevelSampler {
  readonly name: string = "euler";
  constructor(
    process: DiffusionProcess,
    readonly options: LevelOptions = {},
  ) {
    super(process, options, "uniform");
  }

  /** x̃_s from x̃_t and slope d over σ̃_t → σ̃_s (consumes both); Heun overrides it with its correction. */
  protected advance(_den: Denoiser, xTilde: Array, d: Array, i: number): Array {
    const { gamma } = this.levels;
    return axpby(1, xTilde, sigmaTilde(gamma[i - 1]!) - sigmaTilde(gamma[i]!), d);
  }

  sample(den: Denoiser, shape: number[], rng: Rng, options: SampleOptions = {}): Array {
    const { onStep } = options;
    const { t, gamma } = this.levels;
    let x = rng.normal(shape);
    for (let i = t.length - 1; i >= 1; i--) {
      const { xTilde, d } = karrasSlope(den, x, t[i]!, gamma[i]!);
      x.dispose();
      x = this.advance(den, xTilde, d, i).mul(alphaSigma(gamma[i - 1]!).alpha);
      realize(x);
      onStep?.(i - 1, x);
    }
    return x;
  }
}
