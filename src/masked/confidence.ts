/**
 * Confidence-ordered unmasking (MaskGIT, Chang et al. 2022), on the masking schedule: a row that
 * started with m_0 masks keeps
 *
 *   m_s = round(m_0 · (1 − α_s))
 *
 * of them after the step to s (the number the schedule expects, made deterministic), so it unmasks
 * c = m_t − m_s tokens. At every masked position ℓ a word x̂_ℓ is drawn from p_θ(·|z_t) (drawn, not
 * the argmax: samples stay diverse); the c positions with the largest p_θ(x̂_ℓ | z_t) take their
 * words (ties broken at random), the others stay masked. Where the schedule unmasks at most one
 * token per step (linear schedule, N ≥ m_0), every token is drawn from the model's conditional
 * given all those before it, so the exact denoiser never leaves the data's support; the order is
 * the model's most certain first, which is what keeps few-step samples coherent. NFE ≤ N (with
 * caching, a row whose step unmasks nothing is not evaluated again).
 */

import { drawWord, type MaskedSampler, maskedSampler, type RowStep } from "./sampler.js";

/** One confidence-ordered step of a row (module doc): the first uniform of a position breaks ties, the second draws its word. */
export function confidenceRule(row: RowStep): boolean {
  const { z, offset, probabilities, probOffset, uniforms, length: L, vocabulary: V } = row;
  const candidates: { l: number; word: number; confidence: number; tie: number }[] = [];
  for (let l = 0; l < L; l++) {
    if (z[offset + l] !== V) continue;
    const word = drawWord(probabilities, probOffset + l * V, V, uniforms[2 * (offset + l) + 1]!);
    candidates.push({ l, word, confidence: probabilities[probOffset + l * V + word]!, tie: uniforms[2 * (offset + l)]! });
  }
  const keep = Math.round(row.initialMasked * row.oneMinusAlphaS);
  const count = candidates.length - Math.min(keep, candidates.length);
  candidates.sort((a, b) => b.confidence - a.confidence || a.tie - b.tie);
  for (const { l, word } of candidates.slice(0, count)) z[offset + l] = word;
  return count > 0;
}

/** Confidence-ordered unmasking (module doc). */
export const confidenceSampler: MaskedSampler = maskedSampler("confidence", confidenceRule);
