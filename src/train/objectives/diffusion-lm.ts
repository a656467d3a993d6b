/**
 * Diffusion-LM's training loss (Li et al. 2022, L_e2e with the x_0 parameterisation), per sentence
 * w of L tokens with embeddings e = E[w] ([L, d]), x_t = α_t e + σ_t ε and x̂_0 the network's
 * prediction:
 *
 *   L(w) = mean‖x̂_0(x_t, t) − e‖²          denoising, t uniform (or a uniform step of the chain)
 *        + mean‖x̂_0(x_1, t_1) − e‖²        the t = 0 term: the least noisy latent x_1 (Diffusion-LM's
 *                                           x_0 ~ q_φ(x_0 | w)) must give back the embedding itself;
 *                                           estimated on the first Q = ⌈B/4⌉ sentences of a batch and
 *                                           weighted B/Q there (0 elsewhere), an unbiased batch mean at
 *                                           1.25 network passes per sentence instead of 2
 *        + mean‖α_T e‖²                     the prior term (keeps E from growing)
 *        − (1/L) Σ_ℓ log softmax(x_1,ℓ Eᵀ)_{w_ℓ}   rounding: a head tied to the embeddings
 *
 * Means are over the L·d coordinates; x_1 shares ε with x_t. The embeddings E are part of the
 * parameters and receive gradients from all four terms.
 */

import { qSample } from "../../diffusion/forward.js";
import type { Model } from "../../diffusion/model.js";
import type { DiffusionProcess } from "../../diffusion/process.js";
import { type Array, type JsTree, nn, numpy as np } from "../../engine/jax.js";
import { embed } from "../../models/layers.js";
import { meanObjective, type Objective, tableOf } from "./objective.js";

/** The parameters Diffusion-LM's loss reads: a network's, holding the word embedding E [V, d] as `embedding`. */
export type EmbeddingParams = JsTree<Array> & { embedding?: Array };

/** The four terms of `textLoss` per example ([B] each). */
export interface TextLossTerms {
  denoising: Array;
  reconstruction: Array;
  prior: Array;
  rounding: Array;
}

/** The levels at the chain's ends that the loss reads: the least noisy latent x_1 (t, γ) and the prior's γ_T. */
export interface TextLossEnds {
  first: { t: number; gamma: number };
  priorGamma: number;
}

/** `process`'s ends for `textLossTerms`, computed on the host (outside jit: they are float64 evaluations of γ). */
export function textLossEnds(process: DiffusionProcess): TextLossEnds {
  return { first: process.reconstructionLevel(), priorGamma: process.priorLevel().gamma };
}

/**
 * The terms of Diffusion-LM's loss for token ids [B, L] (float or int), noise ε [B, L, d] and
 * level uniforms u [B] (`table`: the discrete chain's γ table, null in continuous time). One
 * network pass on the B + Q latents (x_t and the first Q = ⌈B/4⌉ sentences' x_1 stacked). `ends`: `textLossEnds(process)`, computed
 * once outside jit. Consumes everything (params included).
 */
export function textLossTerms<P extends EmbeddingParams>(
  model: Model<P>,
  process: DiffusionProcess,
  params: P,
  ids: Array,
  eps: Array,
  u: Array,
  table: Array | null,
  ends: TextLossEnds,
): TextLossTerms {
  const B = ids.shape[0]!;
  const E = params.embedding!;
  const e = embed(ids.ref, E.ref);
  const head = E.ref; // the tied rounding head (model.apply consumes params, E included)
  const { t, gamma, weight } = process.levelsFromUniform(u, table, "simple");
  weight.dispose();
  const xt = qSample(e.ref, gamma.ref, eps.ref);
  const { first } = ends;
  const x1 = qSample(e.ref, np.full([B], first.gamma), eps);
  const Q = Math.ceil(B / 4);
  const pred = model.apply(
    params,
    np.concatenate([xt, x1.ref.slice([0, Q])], 0),
    np.concatenate([t, np.full([Q], first.t)], 0),
    np.concatenate([gamma, np.full([Q], first.gamma)], 0),
  );
  const sq = (a: Array) => np.mean(np.square(a), [1, 2]);
  const denoising = sq(pred.ref.slice([0, B]).sub(e.ref));
  const firstQ = sq(pred.slice([B, B + Q]).sub(e.ref.slice([0, Q]))).mul(B / Q);
  const reconstruction = np.concatenate([firstQ, np.zeros([B - Q])], 0);
  const alphaT2 = 1 / (1 + Math.exp(ends.priorGamma)); // α_T² = sigmoid(−γ_T)
  const prior = sq(e).mul(alphaT2);
  const rounding = np.negative(np.mean(roundingLogProbs(x1, ids, head), 1));
  return { denoising, reconstruction, prior, rounding };
}

/**
 * The rounding head's log-probabilities log p(w_ℓ | x_1,ℓ) = log softmax(x_1,ℓ Eᵀ)_{w_ℓ}, [B, L], for the
 * least noisy latents x_1 [B, L, d], token ids [B, L] (float or int) and the tied head E [V, d]. Consumes all.
 */
export function roundingLogProbs(x1: Array, ids: Array, head: Array): Array {
  const [B, L, d] = x1.shape as [number, number, number];
  const V = head.shape[0]!;
  const logits = np.matmul(x1.reshape([B * L, d]), head.transpose());
  // Stryker disable next-line UnaryOperator: logits and log-probabilities are 2-D, where axis +1 is axis −1
  const logp = np.sum(nn.logSoftmax(logits, -1).mul(nn.oneHot(ids.astype(np.int32).reshape([B * L]), V)), -1);
  return logp.reshape([B, L]);
}

/** The per-example loss, the sum of `textLossTerms` ([B]). Consumes everything. */
export function textLoss<P extends EmbeddingParams>(
  model: Model<P>,
  process: DiffusionProcess,
  params: P,
  ids: Array,
  eps: Array,
  u: Array,
  table: Array | null,
  ends: TextLossEnds,
): Array {
  const { denoising, reconstruction, prior, rounding } = textLossTerms(model, process, params, ids, eps, u, table, ends);
  return denoising.add(reconstruction).add(prior).add(rounding);
}

/**
 * The training objective of a Diffusion-LM run: the batch mean of `textLoss`, for the trainer. The
 * batch's x0 holds token ids [B, L], its eps noise [B, L, d]; labels are unused.
 */
export function textObjective<P extends EmbeddingParams>(model: Model<P>, process: DiffusionProcess): Objective {
  const ends = textLossEnds(process);
  return meanObjective((params, b) => {
    b.labels.dispose();
    return textLoss(model, process, params as P, b.x0, b.eps, b.u, tableOf(process, b), ends);
  });
}
