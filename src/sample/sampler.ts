/**
 * The sampler interface: a sampler walks a model's predictions from x_T ~ N(0, I) down to x_0.
 * Models are passed as (model, params), so trained networks and the exact oracle are
 * interchangeable. Each sampler lives in its own file and registers under a name.
 */

import type { Model } from "../diffusion/model.js";
import type { Rng } from "../engine/index.js";
import type { Array, JsTree } from "../engine/jax.js";

/** A model with its parameters: what samplers, the ELBO and evaluation take. */
export interface Denoiser {
  model: Model;
  params: JsTree<Array>;
}

/** Options of `Sampler.sample`. */
export interface SampleOptions {
  /** called after each step with the step index reached (0 = data) and the current x (borrowed; default: none) */
  onStep?: (index: number, x: Array) => void;
}

/** Draws samples by walking a denoiser's predictions from x_T ~ N(0, I) (or another start) down to x_0. */
export interface Sampler {
  readonly name: string;
  /** network evaluations (NFE) per sample: the cost of a draw */
  readonly nfe: number;
  /** Draw samples of `shape` ([n, ...]); borrows the denoiser's params. */
  sample(denoiser: Denoiser, shape: number[], rng: Rng, options?: SampleOptions): Array;
}
