/**
 * What a training step minimises: a batch's mean loss with its gradient, and the batch variance of
 * the per-example loss estimates (logged by the trainer). Fixed-schedule runs differentiate a
 * per-example loss (`meanObjective`); runs with a learned schedule use the VDM objective
 * (learned.ts), whose schedule gradient is assembled from plain gradients.
 */

import type { DiffusionProcess } from "../../diffusion/process.js";
import type { Params } from "../../engine/index.js";
import { type Array, numpy as np, valueAndGrad } from "../../engine/jax.js";
import { tracingFor } from "../../engine/tracing.js";

/** What an `Objective` returns: the batch mean loss, the variance of its estimates, and d loss/d params. */
export type ObjectiveValue = {
  /** the batch mean of the loss (scalar) */
  loss: Array;
  /** the batch variance of the per-example estimates whose mean is minimised (scalar; see each objective) */
  variance: Array;
  grads: Params;
};

/** A step's objective at params (consumed) and a batch (consumed). */
export type Objective = (params: Params, batch: Batch) => ObjectiveValue;

/** The unbiased batch variance Σ_b (v_b − v̄)²/(B − 1) of v [B] (consumed); 0 for B = 1. */
export function batchVariance(v: Array): Array {
  const B = v.shape[0]!;
  const centred = v.ref.sub(np.mean(v));
  return np.sum(np.square(centred)).mul(1 / Math.max(1, B - 1));
}

/** The mean of a per-example loss, its gradient, and the variance of the per-example losses. */
export function meanObjective(perExample: (params: Params, batch: Batch) => Array): Objective {
  const lossWithValues = (params: Params, batch: Batch) => {
    const values = perExample(params, batch);
    return [np.mean(values.ref), values] as [Array, Array];
  };
  return (params, batch) => {
    const [[loss, values], grads] = tracingFor({ grad: true }, () => valueAndGrad(lossWithValues, { hasAux: true })(params, batch));
    return { loss, variance: batchVariance(values), grads };
  };
}

/** A training batch: data, noise, level uniforms, the γ table (empty in continuous time) and labels. */
export type Batch = { x0: Array; eps: Array; u: Array; table: Array; labels: Array };

/** The batch of x_0, ε, u and labels for a fixed schedule's `process` (its γ table added), or null for a learned schedule. */
export function batchOf(process: DiffusionProcess | null, x0: Array, eps: Array, u: Array, labels: Array): Batch {
  return { x0, eps, u, table: process?.gammaTable() ?? np.zeros([0]), labels };
}

/** The batch's γ table for `process`: null in continuous time (the batch's empty table is disposed). */
export function tableOf(process: DiffusionProcess, b: Batch): Array | null {
  if (!process.continuous) return b.table;
  b.table.dispose();
  return null;
}
