/** ELBO reports: the three terms, bits/dim and, where the density is known, the gap to log p(x_0). */

import { type MixtureParams, mixtureLogDensity } from "../densities/oracle.js";
import { type ElboEstimator, type ElboOptions, type ElboSummary, summarizeElbo } from "../diffusion/elbo.js";
import { dimsOf } from "../diffusion/shapes.js";
import type { Rng } from "../engine/index.js";
import { type Array, numpy as np, tree } from "../engine/jax.js";

export interface ElboReport extends ElboSummary {
  timesteps: number;
  /** Mean exact log p(x_0) over the same points, where the data density is known. */
  logLikelihood?: number;
  /** Mean of log p(x_0) − ELBO(x_0) (≥ 0 in expectation) and its standard error. */
  gap?: number;
  gapStdError?: number;
}

/** Mean and standard error of the mean (NaN for one value: 0/0). */
export function meanAndStdError(xs: ArrayLike<number>): { mean: number; se: number } {
  const n = xs.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += xs[i]!;
  mean /= n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (xs[i]! - mean) ** 2;
  return { mean, se: Math.sqrt(ss / (n - 1) / n) };
}

/**
 * The ELBO of `estimator`'s model on x0 ([B, ...], borrowed), and its gap to the exact
 * log-likelihood when the data are a known Gaussian mixture (`density`).
 */
export function elboReport(
  estimator: ElboEstimator,
  params: Parameters<ElboEstimator["terms"]>[0],
  x0: Array,
  rng: Rng,
  options: ElboOptions,
  density?: MixtureParams,
): ElboReport {
  const terms = estimator.terms(params, x0, rng, options);
  const report: ElboReport = { timesteps: estimator.process.T, ...summarizeElbo(terms, dimsOf(x0.shape)) };
  if (density) {
    const B = x0.shape[0]!;
    const logp = mixtureLogDensity(tree.ref(density), x0.ref, np.full([B], -Infinity)).dataSync() as Float32Array;
    const gaps = Float64Array.from(logp, (lp, b) => lp + terms.reconstruction[b]! + terms.prior[b]! + terms.diffusion[b]!);
    const { mean, se } = meanAndStdError(gaps);
    report.logLikelihood = meanAndStdError(logp).mean;
    report.gap = mean;
    report.gapStdError = se;
  }
  return report;
}
