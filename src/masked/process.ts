/**
 * The absorbing-state forward process and its bound (Austin et al. 2021; MDLM, Sahoo et al. 2024):
 *
 *   q(z_t | x) = Π_ℓ [α_t 1(z_ℓ = x_ℓ) + (1 − α_t) 1(z_ℓ = [MASK])]
 *
 * and, for a denoiser that carries unmasked tokens over and never predicts [MASK],
 *
 *   −log p(x) ≤ E_{t, z_t} [ w(t) Σ_{ℓ: z_ℓ = [MASK]} −log p_θ(x_ℓ | z_t) ]
 *
 * with w(t) = −α'(t)/(1 − α(t)) and t ~ U(0, 1) in continuous time, or, with T steps and t = i/T for
 * a uniform step i, T·(α(s) − α(t))/(1 − α(t)) = T·(1 − (1 − α(s))/(1 − α(t))) with s = (i − 1)/T. The reconstruction term is 0
 * (α(0) = 1) and so is the prior term (α(1) = 0).
 */

import { type Array, nn, numpy as np } from "../engine/jax.js";
import type { MaskingSchedule } from "./schedule.js";

/**
 * z_t for tokens `ids` [B, L] (float or int): position ℓ is [MASK] (id `vocabulary`) where
 * `uniforms`[b, ℓ] < 1 − α_t[b] (`oneMinusAlpha` [B]), else x_ℓ. Returns float ids [B, L]. Consumes all.
 */
export function maskTokens(ids: Array, uniforms: Array, oneMinusAlpha: Array, vocabulary: number): Array {
  const [B] = ids.shape as [number];
  const masked = uniforms.less(oneMinusAlpha.reshape([B, 1]));
  return np.where(masked, vocabulary, ids.astype(np.float32));
}

/**
 * The bound's time and weight for level uniforms u [B]: continuous (T = 0) t = u and
 * w = −α'(t)/(1 − α(t)); with T steps, i = ⌊u·T⌋ + 1, t = i/T and w = T·(α(s) − α(t))/(1 − α(t)),
 * s = (i − 1)/T. t is kept in [1e−6, 1] so that w stays finite. Consumes u.
 */
export function maskedLevels(schedule: MaskingSchedule, u: Array, T: number): { t: Array; oneMinusAlpha: Array; weight: Array } {
  if (T === 0) {
    const t = np.clip(u, 1e-6, 1);
    const oneMinusAlpha = schedule.oneMinusAlpha(t.ref);
    const weight = schedule.minusAlphaPrime(t.ref).div(oneMinusAlpha.ref);
    return { t, oneMinusAlpha, weight };
  }
  const i = np.floor(np.clip(u.mul(T), 0, T - 1)).add(1);
  const t = i.ref.div(T);
  const oneMinusAlpha = schedule.oneMinusAlpha(t.ref);
  const weight = np
    .negative(schedule.oneMinusAlpha(i.sub(1).div(T)).div(oneMinusAlpha.ref))
    .add(1)
    .mul(T);
  return { t, oneMinusAlpha, weight };
}

/**
 * The bound's per-example estimate in nats ([B]): w(t) Σ_{ℓ masked} −log p_θ(x_ℓ | z_t), with z_t
 * drawn from the token uniforms [B, L] and the level uniforms u [B] (`maskedLevels`, T steps or
 * T = 0). `logits` maps (one-hot z_t [B, L, V + 1]) to logits [B, L, V] (a denoiser with its
 * parameters and labels bound). Consumes ids, uniforms and u.
 */
export function maskedNelbo(
  logits: (z: Array) => Array,
  schedule: MaskingSchedule,
  vocabulary: number,
  ids: Array,
  uniforms: Array,
  u: Array,
  T: number,
): Array {
  const B = ids.shape[0]!;
  const V = vocabulary;
  const { t, oneMinusAlpha, weight } = maskedLevels(schedule, u, T);
  t.dispose();
  const x = ids.astype(np.int32);
  const z = maskTokens(x.ref, uniforms, oneMinusAlpha, V);
  const logp = nn.logSoftmax(logits(nn.oneHot(z.ref.astype(np.int32), V + 1)), -1);
  const ofX = np.sum(logp.mul(nn.oneHot(x, V)), -1); // log p_θ(x_ℓ | z_t) [B, L]
  const masked = z.equal(V).astype(np.float32);
  return np
    .negative(np.sum(ofX.mul(masked), 1))
    .mul(weight)
    .reshape([B]);
}
