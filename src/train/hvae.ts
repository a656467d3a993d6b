/**
 * Training an MLP Markovian HVAE (models/hvae.ts) on points by its negative ELBO
 * (`markovianHvaeElbo`), a fresh ε_t ~ N(0, I) per level and step, with AdamW (adam.ts) in one
 * jitted step; and its per-example −ELBO terms on held-out points, averaged over several ε draws.
 */
import type { Params } from "../engine/index.js";
import { Rng } from "../engine/index.js";
import { type Array, jit, numpy as np, tree, valueAndGrad } from "../engine/jax.js";
import { tracingFor } from "../engine/tracing.js";
import { type HvaeElboTerms, markovianHvaeElbo } from "../hvae/elbo.js";
import { type HvaeMlpConfig, type HvaeMlpParams, hvaeOfMlp, initHvaeMlp } from "../models/hvae.js";
import { type AdamConfig, type AdamState, adamInit, adamUpdate, defaultAdam, stepScalars } from "./adam.js";

/** The −ELBO's per-example sum, reconstruction + Σ consistency + prior ([B]). Consumes x, eps; borrows params. */
function negativeElbo(params: HvaeMlpParams, x: Array, eps: Array[]): { total: Array; terms: HvaeElboTerms<Array> } {
  const terms = markovianHvaeElbo(hvaeOfMlp(params), x, eps);
  const total = terms.consistency.reduce((s, c) => s.add(c.ref), terms.reconstruction.ref.add(terms.prior.ref));
  return { total, terms };
}

/** mean_b −ELBO(x_b) for one draw of ε. Consumes params, x and eps. */
function meanNegativeElbo(params: HvaeMlpParams, x: Array, eps: Array[]): Array {
  const { total, terms } = negativeElbo(params, x, eps);
  tree.dispose([params, terms]);
  return np.mean(total);
}

/** One AdamW step on the mean −ELBO: (params, moments, x, ε, scalars) → new params, moments and the loss. */
function hvaeStep(adam: AdamConfig) {
  return (params: Params, opt: { m: Params; v: Params }, x: Array, eps: Array[], lr: Array, correction1: Array, correction2: Array) => {
    const [loss, grads] = tracingFor({ grad: true }, () =>
      valueAndGrad((p: Params, xb: Array, e: Array[]) => meanNegativeElbo(p as HvaeMlpParams, xb, e))(tree.ref(params), x, eps),
    );
    const next = adamUpdate(params, grads, opt, adam, { lr, correction1, correction2 });
    return { params: next.params, adam: next.state, loss };
  };
}

/** Options of `trainHvae`. */
export interface HvaeTrainOptions {
  config: HvaeMlpConfig;
  /** training points [n, dim], row-major, in the model's (normalised) coordinates */
  points: Float32Array;
  steps: number;
  batch: number;
  seed: number;
  /** default: `defaultAdam` */
  adam?: AdamConfig;
}

/** The trained parameters (owned by the caller) and each step's mean −ELBO in nats. */
export interface HvaeTrainResult {
  params: HvaeMlpParams;
  losses: Float32Array;
}

/**
 * `steps` AdamW steps from `initHvaeMlp(config, Rng(seed))`, each on `batch` points drawn uniformly
 * with replacement and fresh ε, both from the same seeded stream.
 */
export function trainHvae(options: HvaeTrainOptions): HvaeTrainResult {
  const { config, points, steps, batch, adam = defaultAdam } = options;
  const D = config.dim;
  const n = points.length / D;
  const rng = new Rng(options.seed);
  let params: Params = initHvaeMlp(config, rng);
  let opt = adamInit(params);
  const step = jit(hvaeStep(adam));
  const losses = new Float32Array(steps);
  const rows = new Float32Array(batch * D);
  for (let k = 0; k < steps; k++) {
    const u = rng.uniform([batch]).dataSync() as Float32Array;
    for (let b = 0; b < batch; b++) {
      const i = Math.min(n - 1, Math.floor(u[b]! * n));
      rows.set(points.subarray(i * D, (i + 1) * D), b * D);
    }
    const eps = globalThis.Array.from({ length: config.levels }, () => rng.normal([batch, D]));
    const s = stepScalars(adam, k);
    const out: { params: Params; adam: AdamState; loss: Array } = step(
      params,
      opt,
      np.array(rows).reshape([batch, D]),
      eps,
      np.array(s.lr),
      np.array(s.correction1),
      np.array(s.correction2),
    );
    losses[k] = (out.loss.dataSync() as Float32Array)[0]!;
    params = out.params;
    opt = out.adam;
  }
  step.dispose();
  tree.dispose(opt);
  return { params: params as HvaeMlpParams, losses };
}

/**
 * Per-example −ELBO terms of `points` ([n, dim], model coordinates), each the mean over `draws`
 * independent ε paths (an unbiased estimate of the same bound with less variance), in nats.
 * Borrows params.
 */
export function hvaeHeldOutTerms(
  params: HvaeMlpParams,
  points: Float32Array,
  dim: number,
  draws: number,
  rng: Rng,
): HvaeElboTerms<Float64Array> {
  const n = points.length / dim;
  const T = params.encoders.length;
  const sum: HvaeElboTerms<Float64Array> = {
    reconstruction: new Float64Array(n),
    consistency: globalThis.Array.from({ length: T - 1 }, () => new Float64Array(n)),
    prior: new Float64Array(n),
  };
  const add = (into: Float64Array, a: Array) => (a.dataSync() as Float32Array).forEach((v, b) => (into[b]! += v / draws));
  for (let k = 0; k < draws; k++) {
    const eps = globalThis.Array.from({ length: T }, () => rng.normal([n, dim]));
    const { total, terms } = negativeElbo(params, np.array(points).reshape([n, dim]), eps);
    total.dispose();
    add(sum.reconstruction, terms.reconstruction);
    terms.consistency.forEach((c, t) => add(sum.consistency[t]!, c));
    add(sum.prior, terms.prior);
  }
  return sum;
}
