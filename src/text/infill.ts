/**
 * Infilling as a model wrapper: some positions are fixed words, the model generates the rest. The
 * predicted x̂_0 is replaced at the fixed positions by their embeddings,
 *   x̂_0' = m ⊙ E[w_known] + (1 − m) ⊙ x̂_0(x_t),    m_ℓ = 1 where position ℓ is fixed,
 * so every sampler's step moves the fixed positions along q(x_t | x_0 = E[w]) and the free ones
 * along the model's prediction, which attends to the fixed ones.
 */

import type { Model } from "../diffusion/model.js";
import { toX0 } from "../diffusion/parameterization.js";
import { type Array, type JsTree, numpy as np } from "../engine/jax.js";
import { ConfigError } from "../errors.js";
import { embed } from "../models/layers.js";
import { type Tokenizer, tokenize } from "./tokenizer.js";

/** Fixed words for infilling: ids and a mask (1 = fixed), each [n·length] row-major. */
export interface TextInfill {
  ids: Int32Array;
  mask: Float32Array;
}

/** The params of `infillModel`: the model's, the known ids [B, L] and the mask [B, L] (1 = fixed, 0 = generate). */
export type InfillParams<P extends JsTree<Array>> = { net: P; known: Array; mask: Array };

/** Infilling: predicts x̂_0' above; `embeddingOf` finds E [V, d] in the model's params (borrowed). */
export function infillModel<P extends JsTree<Array>>(model: Model<P>, embeddingOf: (params: P) => Array): Model<InfillParams<P>> {
  return {
    target: "x0",
    classes: model.classes,
    apply(params, xt, t, gamma, labels) {
      const { net, known, mask } = params;
      const [B, L] = mask.shape as [number, number];
      const fixed = embed(known, embeddingOf(net).ref);
      const x0 = toX0(model.apply(net, xt.ref, t, gamma.ref, labels), model.target, xt, gamma);
      const m = mask.reshape([B, L, 1]);
      return m.ref.mul(fixed).add(np.negative(m).add(1).mul(x0));
    },
  };
}

/**
 * One infilling row from a pattern of words and blanks ("_" = generate): the pattern's words fixed,
 * blanks free, positions after the pattern fixed to PAD (so the pattern sets the length). Returns
 * ids and mask ([length] each; ids 0 at free positions). Words outside the vocabulary are a ConfigError.
 */
export function infillPattern(tokenizer: Tokenizer, pattern: string, length: number): { ids: Int32Array; mask: Float32Array } {
  const tokens = tokenize(pattern);
  if (tokens.length > length)
    throw new ConfigError(`the infilling pattern has ${tokens.length} tokens, more than the model's length ${length}`);
  const unknown = tokens.filter((w) => w !== "_" && !tokenizer.has(w));
  if (unknown.length) throw new ConfigError(`the infilling pattern has words outside the vocabulary: ${unknown.join(", ")}`);
  const ids = new Int32Array(length);
  const mask = new Float32Array(length).fill(1);
  tokens.forEach((w, l) => {
    if (w === "_") mask[l] = 0;
    else ids[l] = tokenizer.id(w);
  });
  return { ids, mask };
}

/** `row` repeated `times` over ([times·length] each): the same infilling task for several samples. */
export function repeatRows(row: { ids: Int32Array; mask: Float32Array }, times: number): { ids: Int32Array; mask: Float32Array } {
  const L = row.ids.length;
  const ids = new Int32Array(times * L);
  const mask = new Float32Array(times * L);
  for (let k = 0; k < times; k++) {
    ids.set(row.ids, k * L);
    mask.set(row.mask, k * L);
  }
  return { ids, mask };
}
