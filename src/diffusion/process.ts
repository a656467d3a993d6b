/**
 * A diffusion process: a schedule run in discrete time (T steps) or continuous time (T = 0).
 * It says where the ELBO's three terms sit: the reconstruction latent (x_1 at t = 1/T, or
 * t = tMin), the prior latent (x_T at t = 1, or t = tMax), and the noise levels of training
 * examples and diffusion terms with their weights.
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

/** "simple": t uniform, weight 1. "elbo": the diffusion term's unbiased one-sample estimate. */
export type Weighting = "simple" | "elbo";

/** A single level (t, γ) as plain numbers. */
export interface Level {
  t: number;
  gamma: number;
}

export class DiffusionProcess {
  readonly chain: DiscreteSchedule | null;
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

  /** γ_0..γ_T (γ_0 = −∞) as a fresh float32 array for lookups inside jit; null in continuous time. */
  gammaTable(): Array | null {
    return this.#gammaTable ? np.array(this.#gammaTable) : null;
  }

  /** The least noisy latent, decoded by the reconstruction term. */
  reconstructionLevel(): Level {
    return this.chain ? { t: this.chain.t[1]!, gamma: this.chain.gamma[1]! } : this.#continuousLevel(this.schedule.tMin);
  }

  /** The most noisy latent, matched to N(0, I) by the prior term. */
  priorLevel(): Level {
    return this.chain ? { t: this.chain.t[this.T]!, gamma: this.chain.gamma[this.T]! } : this.#continuousLevel(this.schedule.tMax);
  }

  #continuousLevel(t: number): Level {
    return { t, gamma: this.gammaAt(t) };
  }

  /** γ(t) of the continuous schedule at one time, in float64. */
  gammaAt(t: number): number {
    return (this.schedule.gamma(exactArray([t])).dataSync() as Float64Array)[0]!;
  }

  /**
   * The time at which the schedule reaches γ (bisection on the continuous γ(t), clamped to
   * [tMin, tMax]): how a network conditioned on t is asked about a noise level given as γ.
   */
  timeOfGamma(gamma: number): number {
    const { tMin, tMax } = this.schedule;
    if (!(gamma > this.gammaAt(tMin))) return tMin;
    if (!(gamma < this.gammaAt(tMax))) return tMax;
    let [lo, hi] = [tMin, tMax];
    for (let k = 0; k < 60; k++) {
      const mid = (lo + hi) / 2;
      if (this.gammaAt(mid) < gamma) lo = mid;
      else hi = mid;
    }
    return (lo + hi) / 2;
  }

  /**
   * The levels a sampler walks down, index 0 being the data (t = 0, γ = −∞): the chain itself in
   * discrete time; in continuous time `steps` points evenly spaced over [tMin, tMax].
   */
  samplingLevels(steps = 1000): { t: Float64Array; gamma: Float64Array } {
    if (this.chain) return { t: this.chain.t, gamma: this.chain.gamma };
    if (!Number.isInteger(steps) || steps < 1) throw new Error(`sampling steps must be an integer >= 1, got ${steps}`);
    const { tMin, tMax } = this.schedule;
    const t = Float64Array.from({ length: steps + 1 }, (_, i) => (i === 0 ? 0 : steps === 1 ? tMax : tMin + ((tMax - tMin) * (i - 1)) / (steps - 1)));
    const gamma = Float64Array.from([-Infinity, ...(this.schedule.gamma(exactArray(t.subarray(1))).dataSync() as Float64Array)]);
    return { t, gamma };
  }

  /**
   * Discrete levels at integer steps i ([B], int32) from the γ table: t = i/T, γ_i, and the
   * KL weight ½ expm1(γ_i − γ_{i−1}) · scale. Pure jax: usable inside jit. Consumes its arrays.
   */
  levelsAtSteps(steps: Array, table: Array, scale: number): KlLevels {
    const gammaT = np.take(table.ref, steps.ref);
    const gammaS = np.take(table, steps.ref.sub(1));
    return { t: steps.astype(np.float32).mul(1 / this.T), gamma: gammaT.ref, weight: klWeight(gammaS, gammaT).mul(scale) };
  }

  /**
   * Levels for uniforms u ∈ [0, 1) ([B]); pure jax, usable inside jit. Consumes u and table.
   * Discrete, "simple": i ∈ {1..T}; "elbo": i ∈ {2..T} weighted by (T − 1)·½ expm1(γ_i − γ_{i−1}).
   * Continuous: t = tMin + (tMax − tMin)u; "elbo" weight (tMax − tMin)·½ γ'(t).
   */
  levelsFromUniform(u: Array, table: Array | null, weighting: Weighting): KlLevels {
    const T = this.T;
    if (table) {
      const first = weighting === "simple" ? 1 : 2;
      const count = T - first + 1;
      if (count < 1) throw new Error(`the ELBO weighting needs T >= 2, got T = ${T}`);
      const steps = np.minimum(np.floor(u.mul(count)), count - 1).astype(np.int32).add(first);
      return this.levelsAtSteps(steps, table, weighting === "simple" ? 1 : count);
    }
    const { tMin, tMax } = this.schedule;
    const t = u.mul(tMax - tMin).add(tMin);
    if (weighting === "simple") {
      const gamma = this.schedule.gamma(t.ref);
      return { t, gamma, weight: np.onesLike(gamma.ref) };
    }
    const [gamma, dgamma] = gammaWithDerivative(this.schedule, t.ref);
    return { t, gamma, weight: continuousWeight(dgamma).mul(tMax - tMin) };
  }

  /**
   * Uniforms for a batch: independent for discrete steps; stratified in continuous time,
   * u_b = (u + b/B) mod 1 (Kingma et al.'s low-variance sampler for the batch mean).
   */
  uniforms(rng: Rng, batch: number): Array {
    if (this.chain) return rng.uniform([batch]);
    const u = (rng.uniform([1]).dataSync() as Float32Array)[0]!;
    return np.array(Float32Array.from({ length: batch }, (_, b) => (u + b / batch) % 1));
  }
}
