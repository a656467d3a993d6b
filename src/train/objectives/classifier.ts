/**
 * A classifier's objective: the cross-entropy of a noise-aware classifier p_φ(y | x_t, t) at
 * uniformly drawn levels, or of a classifier of clean data p_φ(y | x_0).
 */

import { qSample } from "../../diffusion/forward.js";
import type { DiffusionProcess } from "../../diffusion/process.js";
import type { Params } from "../../engine/index.js";
import { type Array, nn, numpy as np, tree } from "../../engine/jax.js";
import type { Classifier } from "../../models/kind.js";
import { meanObjective, type Objective, tableOf } from "./objective.js";

/**
 * The cross-entropy −log p_φ(y | x_t, t) of a noise-aware classifier on x_t ~ q(x_t | x_0) at
 * uniformly drawn levels, per example. Consumes everything.
 */
export function classifierLoss(
  classifier: Classifier,
  process: DiffusionProcess,
  params: Params,
  x0: Array,
  eps: Array,
  u: Array,
  table: Array | null,
  labels: Array,
): Array {
  const { t, gamma, weight } = process.levelsFromUniform(u, table, "simple");
  weight.dispose();
  const xt = qSample(x0, gamma.ref, eps);
  return crossEntropy(classifier.logits(params, xt, t, gamma), labels, classifier.classes);
}

/**
 * The cross-entropy −log p_φ(y | x_0) of a classifier of clean data (t = 0, γ = −∞: no noise),
 * per example. Consumes everything.
 */
export function cleanClassifierLoss(classifier: Classifier, params: Params, x0: Array, labels: Array): Array {
  const B = x0.shape[0]!;
  return crossEntropy(classifier.logits(params, x0, np.zeros([B]), np.full([B], -Infinity)), labels, classifier.classes);
}

/** −log softmax(logits)_y per example: logits [B, K], labels [B] → [B]. Consumes both. */
export function crossEntropy(logits: Array, labels: Array, classes: number): Array {
  return np.negative(np.sum(nn.logSoftmax(logits, -1).mul(nn.oneHot(labels, classes)), -1));
}

/** The objective of a classifier: noise-aware on `process`'s levels, or (`clean`) of x_0 itself. */
export function classifierObjective(classifier: Classifier, process: DiffusionProcess, clean: boolean): Objective {
  if (clean) {
    // the batch's noise, levels and γ table are unused: the classifier sees x_0
    return meanObjective((params, b) => {
      tree.dispose([b.eps, b.u, b.table]);
      return cleanClassifierLoss(classifier, params, b.x0, b.labels);
    });
  }
  return meanObjective((params, b) => classifierLoss(classifier, process, params, b.x0, b.eps, b.u, tableOf(process, b), b.labels));
}
