/**
 * Scores from any model. A VP latent x_t = α_t x_0 + σ_t ε is a scaled VE latent
 * x̃ = x_t/α_t = x_0 + σ̃ ε with σ̃ = σ_t/α_t = e^{γ/2} (NCSN's noise level), so
 *   ∇_{x_t} log q_t(x_t) = convert(prediction → score)                 (VP score)
 *   ∇_{x̃} log p_σ̃(x̃)   = α_t · ∇_{x_t} log q_t(α_t x̃)                 (VE score)
 * γ = −∞ is the clean data (α = 1, σ̃ = 0). Both consume x, t and gamma; params as in Model.apply.
 */

import type { Model } from "../diffusion/model.js";
import { convert } from "../diffusion/parameterization.js";
import { alphaOf } from "../diffusion/shapes.js";
import type { Array, JsTree } from "../engine/jax.js";
import { ConfigError } from "../errors.js";

/** The VP score ∇_{x_t} log q_t(x_t) = −ε̂/σ_t at x_t, from any prediction target; consumes its arrays, params included. */
export function vpScore(model: Model, params: JsTree<Array>, xt: Array, t: Array, gamma: Array): Array {
  const pred = model.apply(params, xt.ref, t, gamma.ref);
  return convert(pred, model.target, "score", xt, gamma);
}

/**
 * NCSN's VE score ∇_x̃ log p_σ̃(x̃) = α_t · ∇_{x_t} log q_t(α_t x̃) at the scaled latent x̃ = x_t/α_t,
 * σ̃ = e^{γ/2}; consumes its arrays, params included.
 */
export function veScore(model: Model, params: JsTree<Array>, x: Array, t: Array, gamma: Array): Array {
  const alpha = alphaOf(gamma.ref, x.shape);
  return vpScore(model, params, x.mul(alpha.ref), t, gamma).mul(alpha);
}

/** γ of NCSN's noise level σ̃: γ = 2 log σ̃ (σ̃ = 0 ⇒ −∞, the clean data). */
export function gammaOfSigma(sigma: number): number {
  if (!(sigma >= 0)) throw new ConfigError(`noise level σ must be >= 0, got ${sigma}`);
  return 2 * Math.log(sigma);
}

/** NCSN's geometric ladder σ_1 > … > σ_L from sigmaMax down to sigmaMin. */
export function geometricSigmas(sigmaMax: number, sigmaMin: number, levels: number): number[] {
  if (!(sigmaMax > sigmaMin && sigmaMin > 0)) throw new ConfigError(`need sigmaMax > sigmaMin > 0, got ${sigmaMax} and ${sigmaMin}`);
  if (!Number.isInteger(levels) || levels < 1) throw new ConfigError(`levels must be an integer >= 1, got ${levels}`);
  if (levels === 1) return [sigmaMax];
  return globalThis.Array.from({ length: levels }, (_, i) => sigmaMax * (sigmaMin / sigmaMax) ** (i / (levels - 1)));
}
