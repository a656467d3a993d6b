/**
 * What masked diffusion consumes: a denoiser p_θ(x | z) of clean tokens given partly masked ones,
 * and a classifier p_φ(y | z) of partly masked sequences. Tokens are ids 0..V−1 of a vocabulary of
 * V words and [MASK] = V; both read z as one-hot rows [B, L, V + 1] (a float input, so that
 * guidance can differentiate through it and gathers never enter a gradient). Neither reads the
 * time: how many tokens are masked says how noisy z is (MDLM), which makes sampling steps in which
 * no token changes free (a cached prediction is exact).
 */

import type { Array, JsTree } from "../engine/jax.js";

/** A masked-diffusion denoiser: logits [B, L, V] of p_θ(x_ℓ | z) over the V words (the [MASK] logit is −∞: it has none). */
export interface MaskedDenoiser<P extends JsTree<Array> = JsTree<Array>> {
  /** V, the number of words; id V is [MASK] */
  readonly vocabulary: number;
  /** classes of its labels (0: unconditional); label `classes` means "no label" (classifier-free guidance) */
  readonly classes: number;
  /** logits [B, L, V] for one-hot z [B, L, V + 1] and labels [B] (int32; required iff classes > 0). Consumes every argument. */
  logits(params: P, z: Array, labels?: Array): Array;
}

/** A noise-aware classifier of partly masked sequences: logits [B, classes] of p_φ(y | z) for one-hot z [B, L, V + 1]. */
export interface MaskedClassifier<P extends JsTree<Array> = JsTree<Array>> {
  readonly classes: number;
  /** Consumes both arguments. */
  logits(params: P, z: Array): Array;
}
