/**
 * Ancestral sampling of masked diffusion (MDLM, Sahoo et al. 2024, §3.2.2): the reverse of the
 * absorbing process with the denoiser's x̂ in place of x,
 *
 *   p(z_s,ℓ | z_t) = 1(z_s,ℓ = z_t,ℓ)                                          if z_t,ℓ ≠ [MASK]
 *                  = (1 − α_s)/(1 − α_t)            for z_s,ℓ = [MASK]
 *                    (α_s − α_t)/(1 − α_t) · p_θ(z_s,ℓ | z_t)   for a word     if z_t,ℓ = [MASK]
 *
 * so each [MASK] becomes a word with probability 1 − (1 − α_s)/(1 − α_t), the word drawn from
 * p_θ(·|z_t), independently across positions. With few steps many tokens are drawn in one step
 * from the product of their marginals (at N = 1: all of them), the factorisation error of few-step
 * sampling; with many steps tokens are drawn one at a time and the walk samples the model's joint.
 * NFE ≤ N, and with caching ≤ min(N, tokens masked + 1) per row.
 */

import { drawWord, type MaskedSampler, maskedSampler, type RowStep } from "./sampler.js";

/**
 * One ancestral step of a row: position ℓ masked at t is unmasked where its first uniform is below
 * 1 − (1 − α_s)/(1 − α_t), to the word its second uniform draws from p_θ(·|z_t).
 */
export function ancestralRule(row: RowStep): boolean {
  const { z, offset, probabilities, probOffset, uniforms, length: L, vocabulary: V } = row;
  const unmask = 1 - row.oneMinusAlphaS / row.oneMinusAlphaT;
  let changed = false;
  for (let l = 0; l < L; l++) {
    if (z[offset + l] !== V || !(uniforms[2 * (offset + l)]! < unmask)) continue;
    z[offset + l] = drawWord(probabilities, probOffset + l * V, V, uniforms[2 * (offset + l) + 1]!);
    changed = true;
  }
  return changed;
}

/** MDLM's ancestral sampler (module doc). */
export const ancestralSampler: MaskedSampler = maskedSampler("ancestral", ancestralRule);
