/**
 * A diffusion process: a schedule run in discrete time (T steps) or continuous time (T = 0).
 * It says where the ELBO's three terms sit: the reconstruction latent (x_1 at t = 1/T, or
 * t = tMin), the prior latent (x_T at t = 1, or t = tMax), and the noise levels of training
 * examples and diffusion terms with their weights.
 */
import { exactArray, type Rng } from "../engine/index.js";
import { type Array, numpy as np } from "../engine/jax.js";
import { ConfigError } from "../errors.js";
import { type DiscreteSchedule, discretize } from "../schedule/discrete.js";
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

/**
 * How the continuous-time ELBO draws the level of its diffusion term L_∞ = ½ ∫ γ'(t) E‖ε − ε̂‖² dt
 * (see `DiffusionProcess.levelsFromUniform`): "gamma", uniform in γ (L_∞ = ½ ∫ E‖ε − ε̂‖² dγ from
 * γ(tMin) to γ(tMax), so the weight is constant, whatever the schedule's shape); "time", uniform in
 * t with weight ½γ'(t), which varies as much as γ' does (cosine: by orders of magnitude near t = 1).
 */
export const levelSamplings = ["gamma", "time"] as const;
/** One of `levelSamplings`: "gamma" (uniform in γ = −log SNR) or "time" (uniform in t). */
export type LevelSampling = (typeof levelSamplings)[number];

/** How a sampler places its N levels (see `DiffusionProcess.samplingLevels`). */
export const spacings = ["uniform", "log-snr", "trailing"] as const;
/** How a sampler places its levels: "uniform" in t, evenly in "log-snr" (γ), or "trailing". */
export type Spacing = (typeof spacings)[number];

/**
 * N distinct steps of a chain 1..T (ascending) following `spacing`, given the chain's γ_0..γ_T:
 * each step is the nearest to its target (uniform: 1 + (T−1)k/(N−1); trailing: T(k+1)/N;
 * log-snr: the step whose γ_i is nearest to γ_1 + (γ_T − γ_1)k/(N−1)), then pushed apart where
 * two targets share a step so that all N are distinct.
 */
export function respace(gamma: Float64Array, N: number, spacing: Spacing): number[] {
  const T = gamma.length - 1;
  const nearestGamma = (g: number) => {
    let best = 1;
    for (let i = 2; i <= T; i++) if (Math.abs(gamma[i]! - g) < Math.abs(gamma[best]! - g)) best = i;
    return best;
  };
  const target = (k: number): number => {
    if (spacing === "trailing") return Math.round((T * (k + 1)) / N);
    if (N === 1) return T;
    if (spacing === "log-snr") return nearestGamma(gamma[1]! + ((gamma[T]! - gamma[1]!) * k) / (N - 1));
    return Math.round(1 + ((T - 1) * k) / (N - 1));
  };
  const steps = globalThis.Array.from({ length: N }, (_, k) => Math.min(T, Math.max(1, target(k))));
  for (let k = 1; k < N; k++) steps[k] = Math.max(steps[k]!, steps[k - 1]! + 1); // distinct, ascending
  // Stryker disable next-line EqualityOperator: for N <= T the first step needs no cap: its target is step 1, or round(T/N) <= T − N + 1 since (N − 1)(N − T) <= 0
  for (let k = N - 1; k >= 0; k--) steps[k] = Math.min(steps[k]!, T - (N - 1 - k)); // within 1..T
  return steps;
}

/**
 * Discrete steps i ([B] int32) of a T-step chain for uniforms u ([B], consumed): uniform over
 * {1..T} ("simple") or {2..T} ("elbo", the diffusion terms), and how many steps there are to
 * choose from. For T = 1 the ELBO has no diffusion term (one latent x_1: reconstruction and prior
 * only): count is 0, and the step given is 1, which its weight count·(…) = 0 cancels. Pure jax:
 * usable inside jit.
 */
export function stepsFromUniform(u: Array, T: number, weighting: Weighting): { steps: Array; count: number } {
  const first = weighting === "simple" ? 1 : 2;
  const count = T - first + 1;
  if (T < 1) throw new ConfigError(`a discrete chain needs T >= 1 steps, got T = ${T}`);
  return {
    steps: np
      .minimum(np.floor(u.mul(count)), count - 1)
      .astype(np.int32)
      .add(first),
    count,
  };
}

/** `DiffusionProcess.uniforms` for a process that is `continuous` or not. */
export function levelUniforms(rng: Rng, batch: number, continuous: boolean): Array {
  if (!continuous) return rng.uniform([batch]);
  const u = (rng.uniform([1]).dataSync() as Float32Array)[0]!;
  return np.array(Float32Array.from({ length: batch }, (_, b) => (u + b / batch) % 1));
}

function checkSteps(N: number, spacing: Spacing): void {
  if (!Number.isInteger(N) || N < 1) throw new ConfigError(`sampling steps must be an integer >= 1, got ${N}`);
  if (!(spacings as readonly string[]).includes(spacing))
    throw new ConfigError(`unknown spacing "${spacing}" (known: ${spacings.join(", ")})`, { unknown: { name: spacing, known: spacings } });
}

/** The levels of a sampler, index 0 the data (t = 0, γ = −∞), in float64. */
export interface Levels {
  t: Float64Array;
  gamma: Float64Array;
}

/** A single level (t, γ) as plain numbers. */
export interface Level {
  t: number;
  gamma: number;
}

/**
 * A noise schedule run in discrete time (T steps, with its chain) or continuous time (T = 0): where
 * the ELBO's reconstruction, prior and diffusion terms sit, and the levels training and samplers use.
 */
export class DiffusionProcess {
  readonly chain: DiscreteSchedule | null;
  readonly #gammaTable: Float32Array | null;
  #timeTable: { t: Float64Array; gamma: Float64Array } | null = null;
  /** [γ(tMin), γ(tMax)] in float64 for levels uniform in γ (continuous time, a schedule with an inverse), read here: not inside a trace */
  readonly #gammaEnds: [number, number] | null;

  constructor(
    readonly schedule: NoiseSchedule,
    /** Number of diffusion steps; 0 = continuous time. */
    readonly T: number,
  ) {
    if (!Number.isInteger(T) || T < 0) throw new ConfigError(`timesteps must be an integer >= 0, got ${T}`);
    this.chain = T > 0 ? discretize(schedule, T) : null;
    this.#gammaTable = this.chain ? Float32Array.from(this.chain.gamma) : null;
    // Stryker disable next-line ConditionalExpression: a discrete process never reads the ends (its levels come from the chain)
    this.#gammaEnds = T === 0 && schedule.inverse ? [this.gammaAt(schedule.tMin), this.gammaAt(schedule.tMax)] : null;
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
      // Stryker disable next-line EqualityOperator: at γ(mid) = γ exactly either half keeps the root, and both close on it
      if (this.gammaAt(mid) < gamma) lo = mid;
      else hi = mid;
    }
    return (lo + hi) / 2;
  }

  /**
   * t at level γ, cheap enough for every evaluation of an ODE in γ: in continuous time the schedule's
   * closed-form γ⁻¹ where it has one, clamped to [tMin, tMax]; otherwise linear interpolation in a
   * table, the chain's (γ_i, i/T) in discrete time or 4,097 points of the continuous γ(t) (a learned
   * schedule), clamped to the table's ends. (A table uniform in t cannot serve the fixed schedules:
   * near tMin, where t grows like e^γ, its first interval put t at up to 3× `timeOfGamma`'s.)
   */
  timeAtGamma(gamma: number): number {
    const { tMin, tMax, inverse } = this.schedule;
    if (!this.chain && inverse) return Math.min(tMax, Math.max(tMin, (inverse(exactArray([gamma])).dataSync() as Float64Array)[0]!));
    // Stryker disable next-line ConditionalExpression: a cache; building the same table again gives the same numbers
    if (!this.#timeTable) {
      const t = this.chain ? this.chain.t.subarray(1) : Float64Array.from({ length: 4097 }, (_, k) => tMin + ((tMax - tMin) * k) / 4096);
      const g = this.chain ? this.chain.gamma.subarray(1) : (this.schedule.gamma(exactArray(t)).dataSync() as Float64Array);
      this.#timeTable = { t, gamma: g };
    }
    const { t, gamma: g } = this.#timeTable;
    // Stryker disable next-line EqualityOperator: at γ = g[0] the interpolation below also gives t[0]
    if (!(gamma > g[0]!)) return t[0]!;
    // Stryker disable next-line EqualityOperator: at γ = the last g the interpolation below gives the last t (to rounding)
    if (!(gamma < g[g.length - 1]!)) return t[t.length - 1]!;
    // Stryker disable next-line ArithmeticOperator: a hi past the end halves back (g[mid] is undefined there, so hi = mid) before any use
    let [lo, hi] = [0, g.length - 1];
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      // Stryker disable next-line EqualityOperator: at g[mid] = γ exactly both intervals interpolate to t[mid] (to rounding)
      if (g[mid]! <= gamma) lo = mid;
      else hi = mid;
    }
    return t[lo]! + ((t[hi]! - t[lo]!) * (gamma - g[lo]!)) / (g[hi]! - g[lo]!);
  }

  /**
   * The levels a sampler walks down: index 0 is the data (t = 0, γ = −∞), indices 1..N the N
   * latent levels it evaluates the network at, ascending in noise (so N network evaluations for a
   * one-evaluation-per-level sampler). `steps` = N (default: the whole chain in discrete time,
   * 1000 in continuous time). `spacing` places the N levels:
   * - "uniform": evenly in t from the least to the most noisy level (both included);
   * - "log-snr": evenly in γ = −log SNR between the same two ends;
   * - "trailing": t_k = t_max·k/N, k = 1..N (the most noisy level included, the least noisy not:
   *   the last step is as long as the others).
   * A discrete process respaces its chain: the N levels are N distinct steps i of 1..T (DDIM's
   * sub-sequence), each the nearest step to the spacing's target (t = i/T, or γ_i).
   * `sigmaMax` caps the noisiest level at σ̃ = e^{γ/2} ≤ sigmaMax (γ ≤ 2 log sigmaMax): the top of
   * the range becomes the last level (or chain step) below the cap.
   */
  samplingLevels(steps?: number, spacing: Spacing = "uniform", sigmaMax = Infinity): Levels {
    if (!(sigmaMax > 0)) throw new ConfigError(`the largest noise level σ̃_max must be > 0, got ${sigmaMax}`);
    const maxGamma = 2 * Math.log(sigmaMax);
    if (this.chain) {
      const gamma = this.chain.gamma;
      let top = this.T;
      while (top > 1 && gamma[top]! > maxGamma) top--;
      const N = steps ?? top;
      checkSteps(N, spacing);
      if (N > top)
        throw new ConfigError(
          `a chain of T = ${this.T} steps${top < this.T ? ` capped at σ̃ ≤ ${sigmaMax} (step ${top})` : ""} can be sampled in at most ${top} steps, got ${N}`,
        );
      const chosen = respace(gamma.subarray(0, top + 1), N, spacing);
      return {
        t: Float64Array.from([0, ...chosen.map((i) => this.chain!.t[i]!)]),
        gamma: Float64Array.from([-Infinity, ...chosen.map((i) => gamma[i]!)]),
      };
    }
    const N = steps ?? 1000;
    checkSteps(N, spacing);
    const tMin = this.schedule.tMin;
    // Stryker disable next-line ConditionalExpression,EqualityOperator: timeOfGamma(γ) is tMax itself for γ >= γ(tMax)
    const tMax = this.gammaAt(this.schedule.tMax) > maxGamma ? this.timeOfGamma(maxGamma) : this.schedule.tMax;
    let t: Float64Array;
    if (spacing === "log-snr") {
      const [g0, g1] = [this.gammaAt(tMin), this.gammaAt(tMax)];
      t = Float64Array.from({ length: N }, (_, k) => (N === 1 ? tMax : this.timeOfGamma(g0 + ((g1 - g0) * k) / (N - 1))));
    } else if (spacing === "trailing") {
      t = Float64Array.from({ length: N }, (_, k) => tMin + ((tMax - tMin) * (k + 1)) / N);
    } else {
      t = Float64Array.from({ length: N }, (_, k) => (N === 1 ? tMax : tMin + ((tMax - tMin) * k) / (N - 1)));
    }
    const gamma = Float64Array.from([-Infinity, ...(this.schedule.gamma(exactArray(t)).dataSync() as Float64Array)]);
    return { t: Float64Array.from([0, ...t]), gamma };
  }

  /**
   * Discrete levels at integer steps i ([B], int32) from the γ table: t = i/T, γ_i, and the
   * KL weight ½ expm1(γ_i − γ_{i−1}) · scale, or weight 1 for `scale` null (the simple loss, which
   * reads no γ_{i−1}). Pure jax: usable inside jit. Consumes its arrays.
   */
  levelsAtSteps(steps: Array, table: Array, scale: number | null): KlLevels {
    const gammaT = np.take(table.ref, steps.ref);
    let weight: Array;
    if (scale === null || scale === 0) {
      // scale 0 (T = 1, no diffusion term): a zero weight, not ∞·0 from step 1's γ_0 = −∞
      table.dispose();
      weight = scale === 0 ? np.zerosLike(gammaT.ref) : np.onesLike(gammaT.ref);
    } else {
      weight = klWeight(np.take(table, steps.ref.sub(1)), gammaT.ref).mul(scale);
    }
    return { t: steps.astype(np.float32).mul(1 / this.T), gamma: gammaT, weight };
  }

  /**
   * Levels for uniforms u ∈ [0, 1) ([B]); pure jax, usable inside jit. Consumes u and table.
   * Discrete, "simple": i ∈ {1..T}, weight 1; "elbo": i ∈ {2..T} weighted by (T − 1)·½ expm1(γ_i − γ_{i−1}).
   * Continuous, "simple": t = tMin + (tMax − tMin)u. Continuous, "elbo": with `sampling` "gamma"
   * (the default) and a schedule with an inverse, γ = γ_min + (γ_max − γ_min)u (γ_min = γ(tMin),
   * γ_max = γ(tMax)), t = γ⁻¹(γ) for the network, weight ½(γ_max − γ_min): the same expectation as
   * "time" (by the substitution γ = γ(t)) with a constant weight, so for a schedule other than
   * linear log-SNR a lower variance. Otherwise ("time", or a learned schedule, whose shape is
   * itself trained as this distribution) t = tMin + (tMax − tMin)u, weight (tMax − tMin)·½ γ'(t).
   */
  levelsFromUniform(u: Array, table: Array | null, weighting: Weighting, sampling: LevelSampling = "gamma"): KlLevels {
    if (table) {
      const { steps, count } = stepsFromUniform(u, this.T, weighting);
      return this.levelsAtSteps(steps, table, weighting === "elbo" ? count : null);
    }
    const { tMin, tMax } = this.schedule;
    if (weighting === "elbo" && sampling === "gamma" && this.#gammaEnds) {
      const [gammaMin, gammaMax] = this.#gammaEnds;
      const gamma = u.mul(gammaMax - gammaMin).add(gammaMin);
      const t = np.clip(this.schedule.inverse!(gamma.ref), tMin, tMax);
      return { t, gamma: gamma.ref, weight: np.onesLike(gamma).mul(0.5 * (gammaMax - gammaMin)) };
    }
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
    return levelUniforms(rng, batch, this.continuous);
  }
}
