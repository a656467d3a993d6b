/**
 * A Markovian HVAE's held-out bound in data space, as `heldOutElbo` (run.ts) reports a VDM's: the
 * −ELBO's mean in nats and bits/dim with the normalisation's log-Jacobian, its standard error, and
 * each term's mean (hvae/elbo.ts `summarizeHvaeElbo`).
 */
import { logDetJacobian, type Normalization, normalize } from "../data/normalize.js";
import type { Rng } from "../engine/index.js";
import { type HvaeElboSummary, summarizeHvaeElbo } from "../hvae/elbo.js";
import type { HvaeMlpParams } from "../models/hvae.js";
import { hvaeHeldOutTerms } from "../train/hvae.js";
import { meanAndStdError } from "./likelihood.js";

/** The data-space bound: bits/dim = (nats − log|det ∂x'/∂x|)/(D ln 2), its standard error over points, and the model-space terms. */
export interface HvaeHeldOut {
  bpd: number;
  bpdStdError: number;
  nats: number;
  /** the terms' means in the model's (normalised) coordinates, in nats and bits/dim */
  summary: HvaeElboSummary;
}

/**
 * −ELBO of the held-out `points` ([n, D], data space, normalised here by `z`), each example's
 * estimate the mean over `draws` ε paths. Borrows params.
 */
export function hvaeHeldOut(params: HvaeMlpParams, points: Float32Array, z: Normalization, draws: number, rng: Rng): HvaeHeldOut {
  const D = z.mean.length;
  const normalised = normalize(points, z);
  const terms = hvaeHeldOutTerms(params, normalised, D, draws, rng);
  const summary = summarizeHvaeElbo(terms, D);
  const jacobian = logDetJacobian(z);
  const nats = summary.nats - jacobian;
  const perExample = terms.reconstruction.map((r, b) => r + terms.prior[b]! + terms.consistency.reduce((s, c) => s + c[b]!, 0));
  const { se } = meanAndStdError(perExample);
  return { bpd: nats / (D * Math.LN2), bpdStdError: se / (D * Math.LN2), nats, summary };
}
