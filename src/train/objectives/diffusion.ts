/**
 * VDM's denoising objective for a fixed schedule: the batch mean of the per-example loss,
 * "simple" (the target's own MSE) or "elbo" (the one-sample estimate of the ELBO's diffusion term).
 */

import { qSample } from "../../diffusion/forward.js";
import { simpleLoss, weightedEpsError } from "../../diffusion/losses.js";
import type { Model } from "../../diffusion/model.js";
import { toEps } from "../../diffusion/parameterization.js";
import type { DiffusionProcess, Weighting } from "../../diffusion/process.js";
import type { Params } from "../../engine/index.js";
import { type Array, tree } from "../../engine/jax.js";
import { ConfigError } from "../../errors.js";
import { meanObjective, type Objective, tableOf } from "./objective.js";

/**
 * The per-example training loss for x_0 [B, ...] with noise ε and uniforms u ([B]):
 * "simple" — the target's own MSE at a uniform level; "elbo" — the one-sample estimate of the
 * ELBO's diffusion term. Consumes everything.
 */
export function trainingLoss(
  model: Model,
  process: DiffusionProcess,
  weighting: Weighting,
  params: Params,
  x0: Array,
  eps: Array,
  u: Array,
  table: Array | null,
  labels?: Array,
): Array {
  const { t, gamma, weight } = process.levelsFromUniform(u, table, weighting);
  const xt = qSample(x0.ref, gamma.ref, eps.ref);
  const pred = model.apply(params, xt.ref, t, gamma.ref, labels);
  if (weighting === "simple") {
    tree.dispose([weight, xt]);
    return simpleLoss(pred, model.target, x0, eps, gamma);
  }
  x0.dispose();
  return weightedEpsError(eps, toEps(pred, model.target, xt, gamma), weight);
}

/**
 * The objective of a denoiser on a fixed schedule's `process`: the batch mean of `trainingLoss`
 * (labels only for conditional models). Refuses "elbo" with T = 1, whose ELBO has no diffusion term
 * (the only term this loss trains).
 */
export function diffusionObjective(model: Model, process: DiffusionProcess, weighting: Weighting): Objective {
  if (weighting === "elbo" && process.T === 1)
    throw new ConfigError(
      'with T = 1 the ELBO has no diffusion term, the only one a fixed schedule\'s "elbo" loss trains: take a learned schedule (its objective trains the reconstruction too) or the "simple" loss',
    );
  return meanObjective((params, b) => {
    if (model.classes <= 0) b.labels.dispose();
    const labels = model.classes > 0 ? b.labels : undefined;
    return trainingLoss(model, process, weighting, params, b.x0, b.eps, b.u, tableOf(process, b), labels);
  });
}
