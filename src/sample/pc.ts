/** Options of `PredictorCorrectorSampler`. */
export interface PredictorCorrectorOptions {
  /** the signal-to-noise ratio r of the corrector's step rule (required) */
  snr: number;
  /** Langevin corrections per level (required) */
  correctorSteps: number;
  /** the predictor's (ancestral step's) variance (required) */
  variance: AncestralVariance;
  /** number of levels N (default: the whole chain, or 1000 in continuous time) */
  steps?: number;
}

import { jitFor, type Model } from "../diffusion/model.js";
import type { DiffusionProcess, Levels } from "../diffusion/process.js";
import { sumDims } from "../diffusion/shapes.js";
/**
 * Predictor–corrector sampling (Song et al. 2021) for the VP process: at each level i = N..1,
 * `correctorSteps` Langevin corrections on the VP score, then one ancestral prediction to i−1.
 * The corrector's step follows the signal-to-noise rule
 *   ε_i = 2 α_i (r ‖z‖ / ‖s‖)²,  x ← x + ε_i s(x, t_i) + √(2 ε_i) z,
 * with α_i = ᾱ_i/ᾱ_{i−1} and the norms averaged over the batch (as score_sde does).
 */
import { filled, type Rng, realize } from "../engine/index.js";
import { type Array, type JsTree, numpy as np, tree } from "../engine/jax.js";
import { type AncestralVariance, makeAncestralStep } from "./ancestral.js";
import type { Denoiser, SampleOptions, Sampler } from "./sampler.js";
import { vpScore } from "./score.js";

function makeCorrector(model: Model) {
  return jitFor(model, (params: JsTree<Array>, x: Array, z: Array, t: Array, gamma: Array, snr: Array, alpha: Array) => {
    const s = vpScore(model, params, x.ref, t, gamma);
    const norm = (v: Array) => np.mean(np.sqrt(sumDims(np.square(v))));
    const ratio = snr.mul(norm(z.ref)).div(norm(s.ref));
    const eps = np.square(ratio).mul(alpha).mul(2);
    return x.add(s.mul(eps.ref)).add(z.mul(np.sqrt(eps.mul(2))));
  });
}

/**
 * Predictor–corrector sampling (Song et al. 2021) for the VP process: at each level, `correctorSteps`
 * Langevin corrections with the signal-to-noise step rule (ratio `snr`), then one ancestral step.
 */
export class PredictorCorrectorSampler implements Sampler {
  readonly name = "pc";
  readonly #cache = new WeakMap<Model, { predict: ReturnType<typeof makeAncestralStep>; correct: ReturnType<typeof makeCorrector> }>();

  constructor(
    readonly process: DiffusionProcess,
    readonly options: PredictorCorrectorOptions,
  ) {
    this.levels = process.samplingLevels(options.steps);
  }

  readonly levels: Levels;

  /** per level: the corrector's evaluations and the predictor's one */
  get nfe(): number {
    return (this.levels.t.length - 1) * (1 + this.options.correctorSteps);
  }

  sample(den: Denoiser, shape: number[], rng: Rng, options: SampleOptions = {}): Array {
    const { onStep } = options;
    const { model, params } = den;
    let fns = this.#cache.get(model);
    // Stryker disable next-line ConditionalExpression: always compiling fresh steps (condition true) gives the same steps, only slower
    if (!fns) {
      fns = { predict: makeAncestralStep(model, this.options.variance), correct: makeCorrector(model) };
      this.#cache.set(model, fns);
    }
    const { t, gamma } = this.levels;
    const n = shape[0]!;
    const alphaBar = (g: number) => 1 / (1 + Math.exp(g));
    let x = rng.normal(shape);
    for (let i = t.length - 1; i >= 1; i--) {
      const full = (v: number) => filled(n, v);
      for (let k = 0; k < this.options.correctorSteps; k++) {
        x = fns.correct(
          tree.ref(params),
          x,
          rng.normal(shape),
          full(t[i]!),
          full(gamma[i]!),
          this.options.snr,
          alphaBar(gamma[i]!) / alphaBar(gamma[i - 1]!),
        );
      }
      x = fns.predict(tree.ref(params), x, rng.normal(shape), full(t[i]!), full(gamma[i - 1]!), full(gamma[i]!), i > 1 ? 1 : 0);
      realize(x);
      onStep?.(i - 1, x);
    }
    return x;
  }
}
