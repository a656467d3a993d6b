/**
 * Rounding vectors back to words, and Diffusion-LM's "clamping" trick as a model wrapper: the
 * predicted x̂_0 is snapped to the nearest word embedding at every step of any sampler.
 */

import type { Model } from "../diffusion/model.js";
import { toX0 } from "../diffusion/parameterization.js";
import { type Array, type JsTree, lax, nn, numpy as np } from "../engine/jax.js";

/**
 * The nearest embedding row of every position: ids[b, ℓ] = argmin_v ‖x[b, ℓ] − E_v‖²
 * = argmax_v (2 x[b, ℓ]·E_v − ‖E_v‖²), as int32 [B, L], for x [B, L, d] and E [V, d]. Consumes both.
 */
export function nearestTokens(x: Array, embedding: Array): Array {
  const [B, L, d] = x.shape as [number, number, number];
  const V = embedding.shape[0]!;
  const norms = np.sum(np.square(embedding.ref), 1).reshape([1, V]);
  const scores = np
    .matmul(x.reshape([B * L, d]), embedding.transpose())
    .mul(2)
    .sub(norms);
  // Stryker disable next-line UnaryOperator: the scores are 2-D, where axis +1 is axis −1
  return np.argmax(scores, -1).reshape([B, L]).astype(np.int32);
}

/** x snapped to its nearest embeddings, E[nearestTokens(x, E)] [B, L, d] (a one-hot product; no gradient flows through the choice). Consumes both. */
export function clampToEmbeddings(x: Array, embedding: Array): Array {
  const [B, L, d] = x.shape as [number, number, number];
  const V = embedding.shape[0]!;
  const ids = nearestTokens(lax.stopGradient(x), embedding.ref);
  return np.matmul(nn.oneHot(ids.reshape([B * L]), V), embedding).reshape([B, L, d]);
}

/** Rounding on the host: the nearest word ids of x [B, L, d] as an Int32Array [B·L]. Consumes both. */
export function roundToIds(x: Array, embedding: Array): Int32Array {
  return Int32Array.from(nearestTokens(x, embedding).dataSync() as Int32Array);
}

/**
 * Clamping (Li et al. 2022, §4.2) as a model: predicts x̂_0 = E[nearest(x̂_0^model)], the model's
 * data prediction snapped to the nearest word embedding, at every level. `embeddingOf` finds E
 * [V, d] in the params (borrowed). Every sampler that reads x̂_0 (DDIM, DPM-Solver++, Euler, Heun,
 * ancestral) then walks between exact word vectors.
 */
export function clampedModel<P extends JsTree<Array>>(model: Model<P>, embeddingOf: (params: P) => Array): Model<P> {
  return {
    target: "x0",
    classes: model.classes,
    apply(params, xt, t, gamma, labels) {
      const E = embeddingOf(params).ref;
      const x0 = toX0(model.apply(params, xt.ref, t, gamma.ref, labels), model.target, xt, gamma);
      return clampToEmbeddings(x0, E);
    },
  };
}
