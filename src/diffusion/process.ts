/**
 * A diffusion process: a schedule run in discrete time (T steps) or continuous time (T = 0).
 * It says where the ELBO's three terms sit: the reconstruction latent (x_1 at t = 1/T, or
 * t = tMin), the prior latent (x_T at t = 1, or t = tMax), and the noise levels of the
 * diffusion terms with their KL weights.
 */
import { exactArray, type Rng } from "../engine/index.js";
import { numpy as np, type Array } from "../engine/jax.js";
import { discretize, type DiscreteSchedule } from "../schedule/discrete.js";
import { gammaWithDerivative, type NoiseSchedule } from "../schedule/schedule.js";
import { continuousWeight, klWeight } from "./losses.js";

/** Per-example noise levels with the factor in front of ‖ε − ε̂‖². All [B]. */
export interface KlLevels {
  t: Array;
  gamma: Array;
  weight: Array;
}

/** A single level (t, γ) as plain numbers. */
export interface Level {
  t: number;
  gamma: number;
}

export class DiffusionProcess {
  readonly chain: DiscreteSchedule | null;
  /** γ_0..γ_T as float32 (γ_0 = −∞), for gathering levels of a batch. */
  readonly #gammaTable: Float32Array | null;

  constructor(
    readonly schedule: NoiseSchedule,
    /** Number of diffusion steps; 0 = continuous time. */
    readonly T: number,
  ) {
    if (!Number.isInteger(T) || T < 0) throw new Error(`timesteps must be an integer >= 0, got ${T}`);
    this.chain = T > 0 ? discretize(schedule, T) : null;
    this.#gammaTable = this.chain ? Float32Array.from(this.chain.gamma) : null;
  }

  get continuous(): boolean {
    return this.T === 0;
  }

  /** The least noisy latent, decoded by the reconstruction term. */
  reconstructionLevel(): Level {
    return this.chain
      ? { t: this.chain.t[1]!, gamma: this.chain.gamma[1]! }
      : this.#continuousLevel(this.schedule.tMin);
  }

  /** The most noisy latent, matched to N(0, I) by the prior term. */
  priorLevel(): Level {
    return this.chain
      ? { t: this.chain.t[this.T]!, gamma: this.chain.gamma[this.T]! }
      : this.#continuousLevel(this.schedule.tMax);
  }

  #continuousLevel(t: number): Level {
    return { t, gamma: (this.schedule.gamma(exactArray([t])).dataSync() as Float64Array)[0]! };
  }

  /**
   * Levels of the discrete diffusion term at steps `steps` (each in 2..T): the KL between
   * q(x_{i−1}|x_i,x_0) and p_θ(x_{i−1}|x_i), weighted by `scale` (T − 1 for a one-sample
   * Monte-Carlo estimate of the sum over i).
   */
  discreteKlLevels(steps: Int32Array, scale = 1): KlLevels {
    const table = this.#gammaTable;
    if (!table || this.T < 2) throw new Error("discrete diffusion terms need T >= 2");
    for (const i of steps) {
      if (i < 2 || i > this.T) throw new Error(`diffusion term step ${i} is outside 2..${this.T}`);
    }
    const gammaT = np.array(Float32Array.from(steps, (i) => table[i]!));
    const gammaS = np.array(Float32Array.from(steps, (i) => table[i - 1]!));
    return {
      t: np.array(Float32Array.from(steps, (i) => i / this.T)),
      gamma: gammaT.ref,
      weight: klWeight(gammaS, gammaT).mul(scale),
    };
  }

  /** Continuous time at t ([B]): weight ½ γ'(t)·scale, scale = tMax − tMin for a uniform t. */
  continuousKlLevels(t: Array, scale: number): KlLevels {
    const [gamma, dgamma] = gammaWithDerivative(this.schedule, t.ref);
    return { t, gamma, weight: continuousWeight(dgamma).mul(scale) };
  }

  /**
   * An unbiased one-sample estimate of the whole diffusion term for each of B examples:
   * discrete, a uniform step i ∈ {2..T} weighted by T − 1; continuous, stratified uniform t
   * (t_b = tMin + (tMax − tMin)·((u + b/B) mod 1), Kingma et al.'s low-variance sampler).
   */
  sampleKlLevels(rng: Rng, batch: number): KlLevels {
    const u = rng.uniform([this.chain ? batch : 1]).dataSync() as Float32Array;
    if (this.chain) {
      const steps = Int32Array.from(u, (v) => 2 + Math.min(Math.floor(v * (this.T - 1)), this.T - 2));
      return this.discreteKlLevels(steps, this.T - 1);
    }
    const { tMin, tMax } = this.schedule;
    const t = Float32Array.from({ length: batch }, (_, b) => tMin + (tMax - tMin) * ((u[0]! + b / batch) % 1));
    return this.continuousKlLevels(np.array(t), tMax - tMin);
  }
}
