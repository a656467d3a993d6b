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
 * a uniform step i, T·(α(s) − α(t))/(1 − α(t)) with s = (i − 1)/T. The reconstruction term is 0
 * (α(0) = 1) and so is the prior term (α(1) = 0).
 */

import { type Array, numpy as np } from "../engine/jax.js";
import type { MaskingSchedule } from "./schedule.js";

/**
 * z_t for tokens `ids` [B, L] (float or int): position ℓ is [MASK] (id `vocabulary`) where
 * `uniforms`[b, ℓ] < 1 − α_t[b], else x_ℓ. Returns float ids [B, L]. Consumes all.
 */
export function maskTokens(ids: Array, uniforms: Array, alpha: Array, vocabulary: number): Array {
  const [B] = ids.shape as [number];
  const masked = uniforms.less(np.negative(alpha).add(1).reshape([B, 1]));
  return np.where(masked, vocabulary, ids.astype(np.float32));
}

/**
 * The bound's time and weight for level uniforms u [B]: continuous (T = 0) t = u and
 * w = −α'(t)/(1 − α(t)); with T steps, i = ⌊u·T⌋ + 1, t = i/T and w = T·(α(s) − α(t))/(1 − α(t)),
 * s = (i − 1)/T. t is kept in [1e−6, 1] so that w stays finite. Consumes u.
 */
export function maskedLevels(schedule: MaskingSchedule, u: Array, T: number): { t: Array; alpha: Array; weight: Array } {
  if (T === 0) {
    const t = np.clip(u, 1e-6, 1);
    const alpha = schedule.alpha(t.ref);
    const weight = np.negative(schedule.alphaPrime(t.ref)).div(np.negative(alpha.ref).add(1));
    return { t, alpha, weight };
  }
  const i = np.floor(np.clip(u.mul(T), 0, T - 1)).add(1);
  const t = i.ref.div(T);
  const s = i.sub(1).div(T);
  const alpha = schedule.alpha(t.ref);
  const weight = schedule.alpha(s).sub(alpha.ref).mul(T).div(np.negative(alpha.ref).add(1));
  return { t, alpha, weight };
}
