/**
 * The two discrete-time ELBO estimators of the derivation side by side (`ChainEstimates`): the
 * "consistency" form, whose terms each depend on two latents, and the denoising-matching form,
 * whose terms each depend on one. Both estimate the same −ELBO; the study measures how much each
 * varies from one draw of the forward chain to the next, per example and per t.
 */

import { type ChainEstimatorName, chainEstimatorNames, type ElboEstimator } from "../diffusion/elbo.js";
import { dimsOf } from "../diffusion/shapes.js";
import { Rng } from "../engine/index.js";
import type { Array as JaxArray } from "../engine/jax.js";
import { ConfigError } from "../errors.js";
import { meanAndStdError } from "./likelihood.js";

/** One chain estimator's −ELBO and how much its estimates vary across draws of the forward chain. */
export interface EstimatorSummary {
  /** −ELBO in nats per example (mean over examples and draws), its standard error over examples, and bits/dim */
  nats: number;
  stdError: number;
  bpd: number;
  /**
   * the variance of the all-terms estimate of one example's −ELBO (every term from the same draw
   * of the chain) across draws, averaged over examples
   */
  chainVariance: number;
  /**
   * the variance of the one-term estimate training uses, (T − 1)·ℓ_t with t uniform over the
   * T − 1 terms (recon and prior exact): (T − 1) Σ_t E ℓ_t² − (Σ_t E ℓ_t)², averaged over examples
   */
  oneTermVariance: number;
  /** per t: the variance across draws of that t's term, averaged over examples */
  perT: { t: number[]; variance: number[] };
}

/** The result of `studyElboEstimators`: the chain length T, examples, draws, and a summary per estimator. */
export interface EstimatorStudy {
  timesteps: number;
  examples: number;
  draws: number;
  estimators: Record<ChainEstimatorName, EstimatorSummary>;
}

/** Running per-example sums of a quantity over draws. */
class PerExample {
  readonly sum: Float64Array;
  readonly squares: Float64Array;
  constructor(n: number) {
    this.sum = new Float64Array(n);
    this.squares = new Float64Array(n);
  }
  add(values: ArrayLike<number>): void {
    // Stryker disable next-line EqualityOperator: sum[B] and squares[B] are past the typed arrays' end: the writes are dropped
    for (let b = 0; b < values.length; b++) {
      this.sum[b]! += values[b]!;
      this.squares[b]! += values[b]! ** 2;
    }
  }
  /** the per-example sample variance over `draws` draws, averaged over examples */
  meanVariance(draws: number): number {
    let total = 0;
    for (let b = 0; b < this.sum.length; b++) total += (this.squares[b]! - this.sum[b]! ** 2 / draws) / (draws - 1);
    return total / this.sum.length;
  }
}

/** (T − 1) Σ_t E ℓ_t² − (Σ_t E ℓ_t)² per example from the per-term sums over draws, averaged over examples. */
function oneTermVariance(terms: PerExample[], draws: number): number {
  if (terms.length === 0) return 0;
  const B = terms[0]!.sum.length;
  let total = 0;
  for (let b = 0; b < B; b++) {
    let [first, second] = [0, 0];
    for (const term of terms) {
      // Stryker disable next-line AssignmentOperator: first is only used squared
      first += term.sum[b]! / draws;
      second += term.squares[b]! / draws;
    }
    total += terms.length * second - first ** 2;
  }
  return total / B;
}

/** Options of `studyElboEstimators`: how many draws of the forward chain, from which stream. */
export interface EstimatorStudyOptions {
  /** independent draws of the forward chain per example, at least 2 (default 8) */
  draws?: number;
  /** the random stream of the chain's noise (default `new Rng(0)`) */
  rng?: Rng;
}

/**
 * `draws` independent draws of the forward chain for every example of x0 ([B, ...], borrowed),
 * both estimators from each (borrows params). Needs a discrete process and draws ≥ 2.
 */
export function studyElboEstimators(
  estimator: ElboEstimator,
  params: Parameters<ElboEstimator["chainEstimates"]>[0],
  x0: JaxArray,
  options: EstimatorStudyOptions = {},
): EstimatorStudy {
  const { draws = 8, rng = new Rng(0) } = options;
  if (!(Number.isInteger(draws) && draws >= 2)) throw new ConfigError(`the variance across draws needs at least 2 draws, got ${draws}`);
  const T = estimator.process.T;
  const B = x0.shape[0]!;
  const perExample = () => new PerExample(B);
  const totals = Object.fromEntries(chainEstimatorNames.map((name) => [name, perExample()])) as Record<ChainEstimatorName, PerExample>;
  const terms = Object.fromEntries(chainEstimatorNames.map((name) => [name, Array.from({ length: T - 1 }, perExample)])) as Record<
    ChainEstimatorName,
    PerExample[]
  >;
  for (let k = 0; k < draws; k++) {
    const e = estimator.chainEstimates(params, x0, rng);
    for (const name of chainEstimatorNames) {
      const total = Float64Array.from(
        e.reconstruction,
        (r, b) => r + e.prior[name][b]! + e.terms[name].reduce((s, term) => s + term[b]!, 0),
      );
      totals[name].add(total);
      e.terms[name].forEach((term, i) => terms[name][i]!.add(term));
    }
  }
  const D = dimsOf(x0.shape);
  const summary = (name: ChainEstimatorName): EstimatorSummary => {
    const { mean, se } = meanAndStdError(totals[name].sum.map((s) => s / draws));
    // denoising terms are indexed by t = 2..T, the consistency forms' by t = 1..T−1
    const first = name === "denoising" ? 2 : 1;
    return {
      nats: mean,
      stdError: se,
      bpd: mean / (D * Math.LN2),
      chainVariance: totals[name].meanVariance(draws),
      oneTermVariance: oneTermVariance(terms[name], draws),
      perT: { t: terms[name].map((_, i) => i + first), variance: terms[name].map((acc) => acc.meanVariance(draws)) },
    };
  };
  return {
    timesteps: T,
    examples: B,
    draws,
    estimators: Object.fromEntries(chainEstimatorNames.map((name) => [name, summary(name)])) as Record<
      ChainEstimatorName,
      EstimatorSummary
    >,
  };
}
