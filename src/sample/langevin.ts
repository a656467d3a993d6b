/**
 * Langevin dynamics on a model's score, in NCSN's (VE) coordinates:
 *   x ← x + (η/2)·s(x, σ) + √η·z,  z ~ N(0, I).
 * `LangevinSampler`: unadjusted Langevin at one noise level σ (σ = 0: the clean-data score).
 * `AnnealedLangevinSampler`: NCSN (Song & Ermon 2019) over σ_1 > … > σ_L with
 * η_i = ε·σ_i²/σ_L² and K steps per level, then (optionally) Tweedie's denoising step
 * x ← x + σ_L² s(x, σ_L).
 */

import { jitFor, type Model } from "../diffusion/model.js";
import type { DiffusionProcess } from "../diffusion/process.js";
import { filled, type Rng, realize } from "../engine/index.js";
import { type Array, type JsTree, numpy as np, tree } from "../engine/jax.js";
import { type Init, initialPoints } from "./init.js";
import type { Denoiser, SampleOptions, Sampler } from "./sampler.js";
import { gammaOfSigma, veScore } from "./score.js";

const steps = new WeakMap<Model, ReturnType<typeof makeLangevinStep>>();

function makeLangevinStep(model: Model) {
  return jitFor(model, (params: JsTree<Array>, x: Array, z: Array, t: Array, gamma: Array, eta: Array) => {
    const s = veScore(model, params, x.ref, t, gamma);
    return x.add(s.mul(eta.ref.mul(0.5))).add(z.mul(np.sqrt(eta)));
  });
}

function langevinStep(model: Model) {
  let step = steps.get(model);
  // Stryker disable next-line ConditionalExpression: always compiling a fresh step (condition true) gives the same step, only slower
  if (!step) {
    step = makeLangevinStep(model);
    steps.set(model, step);
  }
  return step;
}

/** Run K Langevin steps at level σ with step η from x (consumed); returns the new x. */
function runLevel(
  den: Denoiser,
  process: DiffusionProcess,
  x: Array,
  sigma: number,
  eta: number,
  K: number,
  rng: Rng,
  onStep?: (x: Array) => void,
): Array {
  const n = x.shape[0]!;
  const gamma = gammaOfSigma(sigma);
  const t = process.timeOfGamma(gamma);
  const step = langevinStep(den.model);
  for (let k = 0; k < K; k++) {
    x = step(tree.ref(den.params), x, rng.normal(x.shape), filled(n, t), filled(n, gamma), eta);
    realize(x);
    onStep?.(x);
  }
  return x;
}

/** Options of `LangevinSampler`. */
export interface LangevinOptions {
  /** the NCSN noise level σ̃ whose score is followed (0: the clean data's; required) */
  sigma: number;
  /** number of steps (= NFE; required) */
  steps: number;
  /** η, the step size (required) */
  stepSize: number;
  /** where the chains start (required) */
  init: Init;
}

/** Options of `AnnealedLangevinSampler`. */
export interface AnnealedLangevinOptions {
  /** the noise levels σ̃_1 > … > σ̃_L (required) */
  sigmas: number[];
  /** Langevin steps per level (required) */
  stepsPerLevel: number;
  /** ε: the step at level i is η_i = ε σ_i²/σ_L² (required) */
  epsilon: number;
  /** where the chains start (required) */
  init: Init;
  /** finish with Tweedie's denoising step x + σ_L² s(x, σ_L) (required) */
  denoise: boolean;
}

/**
 * Unadjusted Langevin dynamics x ← x + (η/2)·s(x, σ) + √η·z at one NCSN noise level σ (0: the clean
 * data's score), `steps` steps of size η = `stepSize` from `init`. NFE = steps.
 */
export class LangevinSampler implements Sampler {
  readonly name = "langevin";

  constructor(
    readonly process: DiffusionProcess,
    readonly options: LangevinOptions,
  ) {}

  get nfe(): number {
    return this.options.steps;
  }

  sample(den: Denoiser, shape: number[], rng: Rng, options: SampleOptions = {}): Array {
    const { onStep } = options;
    const { sigma, steps: K, stepSize, init } = this.options;
    let k = K;
    return runLevel(den, this.process, initialPoints(init, shape, rng), sigma, stepSize, K, rng, onStep && ((x) => onStep(--k, x)));
  }
}

/**
 * Annealed Langevin dynamics (NCSN, Song & Ermon 2019) over σ_1 > … > σ_L: K = `stepsPerLevel` steps
 * per level with η_i = ε·σ_i²/σ_L², then optionally Tweedie's denoising step x + σ_L² s(x, σ_L).
 */
export class AnnealedLangevinSampler implements Sampler {
  readonly name = "annealed-langevin";

  constructor(
    readonly process: DiffusionProcess,
    readonly options: AnnealedLangevinOptions,
  ) {}

  get nfe(): number {
    return this.options.sigmas.length * this.options.stepsPerLevel + (this.options.denoise ? 1 : 0);
  }

  sample(den: Denoiser, shape: number[], rng: Rng, options: SampleOptions = {}): Array {
    const { onStep } = options;
    const { sigmas, stepsPerLevel: K, epsilon, init, denoise } = this.options;
    const last = sigmas[sigmas.length - 1]!;
    let remaining = sigmas.length * K;
    let x = initialPoints(init, shape, rng);
    for (const sigma of sigmas) {
      x = runLevel(
        den,
        this.process,
        x,
        sigma,
        (epsilon * sigma * sigma) / (last * last),
        K,
        rng,
        onStep && ((xi) => onStep(--remaining, xi)),
      );
    }
    if (!denoise) return x;
    const n = shape[0]!;
    const gamma = gammaOfSigma(last);
    const s = veScore(den.model, tree.ref(den.params), x.ref, filled(n, this.process.timeOfGamma(gamma)), filled(n, gamma));
    return x.add(s.mul(last * last)); // Tweedie: E[x_0 | x̃] = x̃ + σ² ∇ log p_σ(x̃)
  }
}
