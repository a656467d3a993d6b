/**
 * Control of masked diffusion as denoiser wrappers, so every masked sampler serves them:
 *
 * - classifier-free guidance (Ho & Salimans 2022) on a conditional denoiser, scale w ≥ 0:
 *     log p̃(x_ℓ | z, y) = (1 + w)·log p_θ(x_ℓ | z, y) − w·log p_θ(x_ℓ | z, ∅)
 *   (w = 0: the conditional denoiser; the sampler's softmax normalises p̃);
 * - classifier guidance with a noise-aware classifier p_φ(y | z) (Nisonoff et al. 2024, "Unlocking
 *   guidance for discrete state-space diffusion"): the exact reweighting of a masked position ℓ,
 *     p̃(x_ℓ = v | z, y) ∝ p_θ(x_ℓ = v | z) · p_φ(y | z with z_ℓ = v)^S,
 *   with the log-ratio taken to first order in the classifier's one-hot input around x̄, the
 *   denoiser's expectation of the clean sequence (each [MASK] row replaced by p_θ(· | z)):
 *     log p_φ(y | z^{ℓ←v}) − log p_φ(y | x̄) ≈ g_{ℓ,v} − Σ_v' p_θ(v' | z) g_{ℓ,v'},   g = ∂ log p_φ(y | x̄)/∂x̄,
 *   one classifier gradient per evaluation for every position and word at once. Expanded at the
 *   [MASK] one-hot itself (Nisonoff et al.'s point), a classifier of masked text is flat: on the
 *   restaurant grammar's food classifier the gain of the target food there was 0.03 nats, against
 *   43 at x̄ (docs/text.md), and guidance did next to nothing. For a classifier affine in its input
 *   both points give the same softmax. Unmasked positions are left as they are (the samplers carry
 *   them over).
 */

import { type Array, grad, type JsTree, lax, nn, numpy as np, tree } from "../engine/jax.js";
import { ConfigError } from "../errors.js";
import type { MaskedClassifier, MaskedDenoiser } from "./denoiser.js";

/** The labels a wrapper needs, with a clear error where they are missing. */
function required(labels: Array | undefined, what: string): Array {
  if (!labels) throw new ConfigError(`${what} needs labels (the target class of each row)`);
  return labels;
}

/**
 * Classifier-free guidance of a conditional denoiser with scale w (module doc): its labels are the
 * targets (label `classes`, "no label", gives the unconditional prediction). One call of the inner
 * denoiser on 2B rows (z with y, z with ∅).
 */
export function classifierFreeGuided<P extends JsTree<Array>>(denoiser: MaskedDenoiser<P>, w: number): MaskedDenoiser<P> {
  if (denoiser.classes === 0) throw new ConfigError("classifier-free guidance needs a conditional denoiser (one trained with labels)");
  if (!(w >= 0)) throw new ConfigError(`the classifier-free guidance scale must be ≥ 0, got ${w}`);
  return {
    vocabulary: denoiser.vocabulary,
    classes: denoiser.classes,
    logits(params, z, labels) {
      const y = required(labels, "classifier-free guidance");
      const B = z.shape[0]!;
      const none = np.fullLike(y.ref, denoiser.classes);
      const logp = nn.logSoftmax(denoiser.logits(params, np.concatenate([z.ref, z], 0), np.concatenate([y, none], 0)), -1);
      return logp.ref
        .slice([0, B])
        .mul(1 + w)
        .sub(logp.slice([B, 2 * B]).mul(w));
    },
  };
}

/** The params of a classifier-guided denoiser: the denoiser's and the classifier's. */
export type ClassifierGuidedParams<P extends JsTree<Array>, Q extends JsTree<Array>> = { denoiser: P; classifier: Q };

/**
 * Classifier guidance with scale S (module doc): logits log p_θ(x_ℓ | z) + S·(g_{ℓ,v} − Σ_v' p_θ(v' | z) g_{ℓ,v'})
 * at masked positions. Its labels are the targets y (label `classifier.classes`: no guidance for
 * that row); a conditional inner denoiser is given the same labels, an unconditional one none.
 */
export function classifierGuided<P extends JsTree<Array>, Q extends JsTree<Array>>(
  denoiser: MaskedDenoiser<P>,
  classifier: MaskedClassifier<Q>,
  scale: number,
): MaskedDenoiser<ClassifierGuidedParams<P, Q>> {
  if (denoiser.classes > 0 && denoiser.classes !== classifier.classes)
    throw new ConfigError(`the denoiser has ${denoiser.classes} classes but the classifier ${classifier.classes}`);
  const V = denoiser.vocabulary;
  return {
    vocabulary: V,
    classes: classifier.classes,
    logits(params, z, labels) {
      const y = required(labels, "classifier guidance");
      const logp = nn.logSoftmax(denoiser.logits(params.denoiser, z.ref, denoiser.classes > 0 ? y.ref : undefined), -1);
      // one-hot of y, all zero for "no label" (a product, not a gather, inside the gradient)
      const target = nn.oneHot(y, classifier.classes + 1).slice([], [0, classifier.classes]);
      const logLikelihood = (x: Array) => np.sum(nn.logSoftmax(classifier.logits(tree.ref(params.classifier), x), -1).mul(target.ref));
      // the expansion point x̄: z with each [MASK] row replaced by the denoiser's p_θ(· | z) (0 at [MASK])
      const masked = z.ref.slice([], [], [V, V + 1]); // [B, L, 1], 1 at [MASK] positions
      const probs = np.exp(lax.stopGradient(logp.ref));
      const words = z.slice([], [], [0, V]).add(probs.ref.mul(masked.ref));
      const expected = np.concatenate([words, np.zeros([...masked.shape])], -1);
      const g = grad(logLikelihood)(expected).slice([], [], [0, V]); // [B, L, V]
      tree.dispose([params.classifier, target]);
      // g_{ℓ,v} − Σ_v' p_θ(v' | z) g_{ℓ,v'}: the estimated log-ratio against x̄ (its second term, constant in v, leaves the sampler's softmax unchanged)
      const gain = g.ref.sub(np.sum(g.mul(probs), -1, { keepdims: true }));
      return logp.add(gain.mul(masked).mul(scale));
    },
  };
}

/**
 * A conditional denoiser used without its labels: every row gets "no label" (index `classes`),
 * so that it is p_θ(x | z) itself (e.g. under classifier guidance alone). An unconditional one is
 * returned as it is.
 */
export function unconditional<P extends JsTree<Array>>(denoiser: MaskedDenoiser<P>): MaskedDenoiser<P> {
  if (denoiser.classes === 0) return denoiser;
  return {
    vocabulary: denoiser.vocabulary,
    classes: 0,
    logits(params, z, labels) {
      labels?.dispose();
      return denoiser.logits(params, z.ref, np.full([z.shape[0]!], denoiser.classes, { dtype: np.int32 }));
    },
  };
}
