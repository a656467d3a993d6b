/**
 * What the ODE samplers consume: the model's data prediction x̂_0(x_t) at one level, from any
 * target (one shared conversion, `toX0`), and the scalars α, σ of a level in float64 on the host.
 */

import { jitFor, type Model, timesFor } from "../diffusion/model.js";
import { toX0 } from "../diffusion/parameterization.js";
import type { DiffusionProcess, Levels, Spacing } from "../diffusion/process.js";
import { filled, type Rng } from "../engine/index.js";
import { type Array, type JsTree, tree } from "../engine/jax.js";
import type { Denoiser, SampleOptions, Sampler } from "./sampler.js";

/**
 * The noisiest level the ODE samplers start from, as σ̃ = σ/α = e^{γ/2} (Karras et al. 2022's
 * σ_max = 80): above it x̂_0 = (x − σ ε̂)/α amplifies a trained network's error in ε̂ by 1/α, and a
 * deterministic sampler cannot shake off what that does to its first steps (measured on moons,
 * cosine T = 1000, whose last steps reach σ̃ = 20,000: DDIM over all 1000 steps 0.14 energy distance,
 * from step 990 (σ̃ ≈ 60) on 1e−3, the noise floor). The marginal at σ̃ = 80 differs from N(0, I) by
 * α ≈ 0.0125 of the data's scale.
 */
export const ODE_SIGMA_MAX = 80;

/** Where an ODE sampler puts its N levels (see `DiffusionProcess.samplingLevels`). */
export interface LevelOptions {
  /** the number of steps N (default: every step of a discrete chain (up to σ̃_max), 1000 in continuous time) */
  steps?: number;
  /** where the N levels lie: "uniform" in t, evenly in "log-snr", or "trailing" (default: the sampler's own, "uniform" for most and "log-snr" for DPM-Solver++) */
  spacing?: Spacing;
  /** σ̃ of the noisiest level at most (default 80, `ODE_SIGMA_MAX`; ancestral sampling: the whole range) */
  sigmaMax?: number;
}

/** The levels of an ODE sampler: `options` with its defaults. */
export function odeLevels(process: DiffusionProcess, options: LevelOptions, spacing: Spacing) {
  return process.samplingLevels(options.steps, options.spacing ?? spacing, options.sigmaMax ?? ODE_SIGMA_MAX);
}

/**
 * What the samplers with one network evaluation per step of an ODE's N levels share (DDIM, Euler,
 * DPM-Solver++, UniPC, iPNDM): the levels of `options` (`odeLevels`, with the sampler's own default
 * spacing) and NFE = N.
 */
export abstract class OdeLevelSampler implements Sampler {
  abstract readonly name: string;
  readonly levels: Levels;
  constructor(
    readonly process: DiffusionProcess,
    options: LevelOptions,
    spacing: Spacing,
  ) {
    this.levels = odeLevels(process, options, spacing);
  }

  /** network evaluations (NFE) per sample: N */
  get nfe(): number {
    return this.levels.t.length - 1;
  }

  /** Draw samples of `shape` ([n, ...]); borrows the denoiser's params. */
  abstract sample(den: Denoiser, shape: number[], rng: Rng, options?: SampleOptions): Array;
}

const predictors = new WeakMap<Model, ReturnType<typeof makeX0Predictor>>();

function makeX0Predictor(model: Model) {
  return jitFor(model, (params: JsTree<Array>, x: Array, t: Array, gamma: Array) =>
    toX0(model.apply(params, x.ref, t, gamma.ref), model.target, x, gamma),
  );
}

/** x̂_0(x, t, γ) for a batch x [B, ...] at one level (t, γ): one network evaluation. Borrows x and params. */
export function predictX0(den: Denoiser, x: Array, t: number, gamma: number): Array {
  let f = predictors.get(den.model);
  // Stryker disable next-line ConditionalExpression: always compiling a fresh predictor (condition true) gives the same predictor, only slower
  if (!f) {
    f = makeX0Predictor(den.model);
    predictors.set(den.model, f);
  }
  const n = x.shape[0]!;
  return f(tree.ref(den.params), x.ref, timesFor(den.model, n, t), filled(n, gamma));
}

/** α = √sigmoid(−γ) and σ = √sigmoid(γ) of a level in float64 (γ = −∞: α = 1, σ = 0). */
export function alphaSigma(gamma: number): { alpha: number; sigma: number } {
  return { alpha: Math.sqrt(1 / (1 + Math.exp(gamma))), sigma: Math.sqrt(1 / (1 + Math.exp(-gamma))) };
}

/** a·x + b·y for scalars a, b (consumes x and y). */
export function axpby(a: number, x: Array, b: number, y: Array): Array {
  return x.mul(a).add(y.mul(b));
}
