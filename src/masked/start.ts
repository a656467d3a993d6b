/**
 * The initial z of masked sampling: every token [MASK] (= V) for unconditional generation, or
 * infilling's fixed words with [MASK] at the positions to generate. Every sampler carries unmasked
 * tokens over, so infilling needs nothing more than this start.
 */

import { ShapeError } from "../errors.js";

/** z for n rows of L tokens, all [MASK]: Int32Array [n·L] filled with `vocabulary`. */
export function allMasked(n: number, length: number, vocabulary: number): Int32Array {
  return new Int32Array(n * length).fill(vocabulary);
}

/**
 * Infilling's z: z_ℓ = ids_ℓ where mask_ℓ = 1 (fixed), [MASK] = `vocabulary` where mask_ℓ = 0
 * (generate); ids and mask [n·L] as `text.infillPattern`/`repeatRows` give them. Fixed ids must be words (< vocabulary).
 */
export function infillStart(known: { ids: Int32Array; mask: ArrayLike<number> }, vocabulary: number): Int32Array {
  const { ids, mask } = known;
  if (mask.length !== ids.length) throw new ShapeError(`infilling: ${ids.length} ids but ${mask.length} mask entries`);
  return Int32Array.from(ids, (w, i) => {
    if (mask[i] === 0) return vocabulary;
    if (w < 0 || w >= vocabulary) throw new ShapeError(`infilling: fixed id ${w} at ${i} is not a word (0..${vocabulary - 1})`);
    return w;
  });
}
