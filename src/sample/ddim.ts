/**
 * DDIM (Song, Meng & Ermon 2021, eq. 12) on N levels, from any prediction target:
 *   x̂_0 = x̂_0(x_t),  ε̂ = (x_t − α_t x̂_0)/σ_t,
 *   x_s = α_s x̂_0 + √(σ_s² − σ_η²)·ε̂ + σ_η z,   σ_η² = η²·Σ_q(s|t) = η² σ_s² (1 − e^{γ_s − γ_t}).
 * η = 0 is deterministic (the probability-flow ODE's exponential-integrator step, and exactly
 * Euler's step in x̃ = x/α, σ̃ = e^{γ/2}); η = 1 is ancestral sampling with the posterior variance
 * on the same levels. The last step, to the data (σ_s = 0), returns x̂_0. NFE = N.
 */

import type { DiffusionProcess } from "../diffusion/process.js";
import { type Rng, realize } from "../engine/index.js";
import type { Array } from "../engine/jax.js";
import { ConfigError } from "../errors.js";
import { alphaSigma, axpby, type LevelOptions, OdeLevelSampler, predictX0 } from "./predict.js";
import type { Denoiser, SampleOptions } from "./sampler.js";

/** Options of `DdimSampler`: its levels, and η. */
export interface DdimOptions extends LevelOptions {
  /** 0 (default): the deterministic ODE step; 1: ancestral sampling on the same levels */
  eta?: number;
}

/**
 * DDIM (Song et al. 2021) on N levels (default spacing "uniform", σ̃ ≤ 80): deterministic with η = 0
 * (default), ancestral with η = 1; also inverts x_0 → x_T (`invert`). NFE = N.
 */
export class DdimSampler extends OdeLevelSampler {
  readonly name = "ddim";
  constructor(
    process: DiffusionProcess,
    readonly options: DdimOptions = {},
  ) {
    const eta = options.eta ?? 0;
    if (!(eta >= 0)) throw new ConfigError(`DDIM's η must be >= 0, got ${eta}`);
    super(process, options, "uniform");
  }

  sample(den: Denoiser, shape: number[], rng: Rng, options: SampleOptions = {}): Array {
    const { onStep } = options;
    const { t, gamma } = this.levels;
    const eta = this.options.eta ?? 0;
    let x = rng.normal(shape);
    for (let i = t.length - 1; i >= 1; i--) {
      const x0 = predictX0(den, x, t[i]!, gamma[i]!);
      const { alpha: at, sigma: st } = alphaSigma(gamma[i]!);
      const { alpha: as, sigma: ss } = alphaSigma(gamma[i - 1]!);
      const noiseSd = eta * ss * Math.sqrt(-Math.expm1(gamma[i - 1]! - gamma[i]!));
      // x_s = c·x_t + (α_s − c·α_t)·x̂_0 + σ_η z with c = √(σ_s² − σ_η²)/σ_t
      const c = Math.sqrt(Math.max(ss * ss - noiseSd * noiseSd, 0)) / st;
      x = axpby(c, x, as - c * at, x0);
      if (noiseSd > 0) x = x.add(rng.normal(shape).mul(noiseSd));
      realize(x);
      onStep?.(i - 1, x);
    }
    return x;
  }

  /**
   * DDIM inversion (η = 0 run upwards): x_0 ([B, ...], borrowed) → x_T on the same levels. The step
   * from level s to t uses the prediction at (x_s, s): x_t = α_t x̂_0 + σ_t ε̂; from the data
   * (σ_s = 0) the slope ε̂ is its limit 0, so x_1 = α_1 x_0. NFE = N − 1.
   */
  invert(den: Denoiser, x0: Array, options: SampleOptions = {}): Array {
    const { onStep } = options;
    const { t, gamma } = this.levels;
    let x = x0.ref.mul(alphaSigma(gamma[1]!).alpha);
    onStep?.(1, x);
    for (let i = 1; i < t.length - 1; i++) {
      const pred = predictX0(den, x, t[i]!, gamma[i]!);
      const { alpha: as, sigma: ss } = alphaSigma(gamma[i]!);
      const { alpha: at, sigma: st } = alphaSigma(gamma[i + 1]!);
      // x_t = α_t x̂_0 + σ_t (x_s − α_s x̂_0)/σ_s
      x = axpby(st / ss, x, at - (st / ss) * as, pred);
      realize(x);
      onStep?.(i + 1, x);
    }
    return x;
  }
}
