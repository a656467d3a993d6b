/**
 * DDPM ancestral sampling (Ho et al. 2020, Algorithm 2), from any prediction target:
 *   x_T ~ N(0, I);  for i = N..1:  x̂_0 = x̂_0(x_i, t_i),  x_{i−1} = μ_q(x_i, x̂_0) + σ_i z,
 * with σ_i² = Σ_q(i) = β̃_i ("posterior") or σ_i² = β_i ("beta"), and no noise on the last step.
 * On N < T levels of a chain (respaced), the same formulas between consecutive chosen levels.
 */

import { posteriorMean, posteriorVariance, transitionVariance } from "../diffusion/forward.js";
import { jitFor, type Model, timesFor } from "../diffusion/model.js";
import { toX0 } from "../diffusion/parameterization.js";
import type { DiffusionProcess, Levels } from "../diffusion/process.js";
import { perExample } from "../diffusion/shapes.js";
import { filled, type Rng, realize } from "../engine/index.js";
import { type Array, type JsTree, numpy as np, tree } from "../engine/jax.js";
import type { LevelOptions } from "./predict.js";
import type { Denoiser, SampleOptions, Sampler } from "./sampler.js";

/** The ancestral step's noise variance: the posterior's β̃_i ("posterior") or the forward step's β_i ("beta"). */
export type AncestralVariance = "posterior" | "beta";

/** Options of `AncestralSampler`: its levels (default: every level of the chain, up to the whole range) and the reverse steps' variance. */
export interface AncestralOptions extends LevelOptions {
  /** σ̃ of the noisiest level at most (default: the whole range) */
  sigmaMax?: number;
  /** the reverse steps' variance: the posterior's β̃_i or the forward step's β_i (default "posterior") */
  variance?: AncestralVariance;
}

/**
 * DDPM ancestral sampling (Ho et al. 2020, Algorithm 2) with any prediction target, on the whole
 * chain or N respaced levels: x_{i−1} = μ_q(x_i, x̂_0) + σ_i z. NFE = N.
 */
export class AncestralSampler implements Sampler {
  readonly name = "ancestral";
  readonly #steps = new WeakMap<Model, ReturnType<typeof makeAncestralStep>>();

  readonly levels: Levels;
  readonly variance: AncestralVariance;
  constructor(
    readonly process: DiffusionProcess,
    options: AncestralOptions = {},
  ) {
    this.variance = options.variance ?? "posterior";
    this.levels = process.samplingLevels(options.steps, options.spacing ?? "uniform", options.sigmaMax ?? Infinity);
  }

  /** network evaluations per sample: one per level */
  get nfe(): number {
    return this.levels.t.length - 1;
  }

  sample(denoiser: Denoiser, shape: number[], rng: Rng, options: SampleOptions = {}): Array {
    const { onStep } = options;
    const { model, params } = denoiser;
    let step = this.#steps.get(model);
    // Stryker disable next-line ConditionalExpression: always compiling a fresh step (condition true) gives the same step, only slower
    if (!step) {
      step = makeAncestralStep(model, this.variance);
      this.#steps.set(model, step);
    }
    const { t, gamma } = this.levels;
    const n = shape[0]!;
    let x = rng.normal(shape);
    for (let i = t.length - 1; i >= 1; i--) {
      x = step(
        tree.ref(params),
        x,
        rng.normal(shape),
        timesFor(model, n, t[i]!),
        filled(n, gamma[i - 1]!),
        filled(n, gamma[i]!),
        i > 1 ? 1 : 0,
      );
      realize(x);
      onStep?.(i - 1, x);
    }
    return x;
  }
}

/** The jitted step x_i → x_{i−1} of `model`: (params, x, z, t_i, γ_{i−1}, γ_i, noiseOn) → x_{i−1}. */
export function makeAncestralStep(model: Model, variance: AncestralVariance) {
  return jitFor(model, (params: JsTree<Array>, x: Array, z: Array, t: Array, gammaS: Array, gammaT: Array, noiseOn: Array) => {
    const shape = x.shape;
    const pred = model.apply(params, x.ref, t, gammaT.ref);
    const x0 = toX0(pred, model.target, x.ref, gammaT.ref);
    const mean = posteriorMean(x, x0, gammaS.ref, gammaT.ref);
    const v = variance === "posterior" ? posteriorVariance(gammaS, gammaT) : transitionVariance(gammaS, gammaT);
    return mean.add(perExample(np.sqrt(v), shape).mul(z).mul(noiseOn));
  });
}
