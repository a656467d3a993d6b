/**
 * Masked diffusion's objectives: the denoiser's bound (masked/process.ts) per sentence, and the
 * cross-entropy of a noise-aware classifier p_φ(y | z_t) of partly masked sentences. The batch's x0
 * holds token ids [B, L] and its eps one normal per token, made into the masking uniforms
 * U = Φ(ε) = ½(1 + erf(ε/√2)) (the trainer draws normals for every run).
 */

import type { Params } from "../../engine/index.js";
import { type Array, lax, nn, numpy as np } from "../../engine/jax.js";
import type { MaskedClassifier, MaskedDenoiser } from "../../masked/denoiser.js";
import { maskedNelbo, maskTokens } from "../../masked/process.js";
import type { MaskingSchedule } from "../../masked/schedule.js";
import type { VocabularyClassifier } from "../../models/kind.js";
import { crossEntropy } from "./classifier.js";
import { meanObjective, type Objective } from "./objective.js";

/** The standard normal CDF Φ(ε) = ½(1 + erf(ε/√2)), elementwise: normals to uniforms on (0, 1). Consumes ε. */
export function normalCdf(eps: Array): Array {
  return lax.erf(eps.mul(Math.SQRT1_2)).add(1).mul(0.5);
}

/**
 * The training objective of a masked denoiser: the batch mean of `maskedNelbo` (nats per sentence),
 * T steps (0: continuous time); the batch's labels are read by a conditional denoiser (the trainer
 * has dropped some to "no label"), its γ table is unused.
 */
export function maskedObjective(denoiser: MaskedDenoiser, schedule: MaskingSchedule, T: number): Objective {
  return meanObjective((params, b) => {
    b.table.dispose();
    let labels: Array | undefined = b.labels;
    if (denoiser.classes === 0) {
      b.labels.dispose();
      labels = undefined;
    }
    const logits = (z: Array) => denoiser.logits(params, z, labels);
    return maskedNelbo(logits, schedule, denoiser.vocabulary, b.x0, normalCdf(b.eps), b.u, T);
  });
}

/**
 * −log p_φ(y | z_t) per example for token ids [B, L], token uniforms [B, L] and t [B] (z_t drawn by
 * `maskTokens` at 1 − α(t)). Consumes everything (params included).
 */
export function maskedClassifierLoss(
  classifier: MaskedClassifier,
  schedule: MaskingSchedule,
  vocabulary: number,
  params: Params,
  ids: Array,
  uniforms: Array,
  t: Array,
  labels: Array,
): Array {
  const z = maskTokens(ids, uniforms, schedule.oneMinusAlpha(t), vocabulary);
  const logits = classifier.logits(params, nn.oneHot(z.astype(np.int32), vocabulary + 1));
  return crossEntropy(logits, labels, classifier.classes);
}

/** The objective of a classifier of masked tokens: the cross-entropy at t ~ U(0, 1) (the batch's level uniforms). */
export function maskedClassifierObjective(classifier: VocabularyClassifier, schedule: MaskingSchedule): Objective {
  return meanObjective((params, b) => {
    b.table.dispose();
    return maskedClassifierLoss(classifier, schedule, classifier.vocabulary, params, b.x0, normalCdf(b.eps), b.u, b.labels);
  });
}
