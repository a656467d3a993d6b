/**
 * Control of Diffusion-LM by gradients on x_t, as model wrappers (so every sampler serves them):
 * the fluency term, combined with `classifierGuidedModel` (src/guidance) by `guidedTextModel`.
 *
 * Guided score (score space, like the library's classifier guidance):
 *   s̃(x_t) = ∇ log p_θ(x_t) + S·∇_{x_t} log p_φ(y | x_t, t) + λ·∇_{x_t} Σ_ℓ log p_θ(ŵ_ℓ | x̂_0(x_t)_ℓ)
 * The last term is the fluency term: the model's own log-probability of the words it is heading
 * for (ŵ = the argmax of its tied rounding head softmax(x̂_0 Eᵀ), held fixed), which pulls x_t
 * towards latents the denoiser decodes confidently. Li et al. (2022) regularise with
 * λ log p_θ(x_{t−1} | x_t) inside a few gradient steps on x_{t−1}; that form is tied to the
 * ancestral step, this one is a plain model and so plugs into the few-step samplers too.
 */

import type { Model } from "../diffusion/model.js";
import { convert, toX0 } from "../diffusion/parameterization.js";
import { type Array, type JsTree, lax, nn, numpy as np, tree, valueAndGrad } from "../engine/jax.js";
import { classifierGuidedModel } from "../guidance/guided.js";
import type { Classifier } from "../models/kind.js";

/**
 * Σ_ℓ log softmax(x̂_0,ℓ Eᵀ)_{ŵ_ℓ} per example ([B]), ŵ_ℓ = argmax of the same softmax (no gradient
 * through the choice): the rounding head's log-probability of its own best words. Consumes x0 and E.
 */
export function roundingLogProb(x0: Array, embedding: Array): Array {
  const [B, L, d] = x0.shape as [number, number, number];
  const V = embedding.shape[0]!;
  const logp = nn.logSoftmax(np.matmul(x0.reshape([B * L, d]), embedding.transpose()), -1);
  const best = nn.oneHot(np.argmax(lax.stopGradient(logp.ref), -1), V);
  return np.sum(np.sum(logp.mul(best), -1).reshape([B, L]), 1);
}

/**
 * `model` plus the fluency term: predicts the score ∇ log p(x_t) + λ·∇_{x_t} roundingLogProb(x̂_0(x_t), E)
 * (λ = `weight`, a number fixed at construction; `embeddingOf` finds E in the params, borrowed).
 * One network pass and its gradient per call.
 */
export function fluencyModel<P extends JsTree<Array>>(model: Model<P>, embeddingOf: (params: P) => Array, weight: number): Model<P> {
  return {
    target: "score",
    classes: model.classes,
    apply(params, xt, t, gamma, labels) {
      const E = embeddingOf(params);
      const f = (x: Array): [Array, Array] => {
        const x0 = toX0(model.apply(tree.ref(params), x.ref, t.ref, gamma.ref, labels?.ref), model.target, x, gamma.ref);
        return [np.sum(roundingLogProb(x0.ref, E.ref)), x0];
      };
      const [[, x0], g] = valueAndGrad(f, { hasAux: true })(xt.ref) as [[Array, Array], Array];
      const score = convert(x0, "x0", "score", xt, gamma);
      tree.dispose([params, t, labels]);
      return score.add(g.mul(weight));
    },
  };
}

/** The params of `guidedTextModel`: the LM's, the classifier's, the target labels [B] (int32) and the scale S ([1]). */
export type GuidedTextParams<P extends JsTree<Array>> = { net: P; classifier: JsTree<Array>; labels: Array; scale: Array };

/**
 * Classifier guidance for text: `classifierGuidedModel` (src/guidance) on top of `fluencyModel`
 * when `fluency` > 0. Predicts the guided score; params { net, classifier, labels, scale }.
 */
export function guidedTextModel<P extends JsTree<Array>>(
  model: Model<P>,
  embeddingOf: (params: P) => Array,
  classifier: Classifier,
  fluency = 0,
): Model<GuidedTextParams<P>> {
  const base = fluency > 0 ? fluencyModel(model, embeddingOf, fluency) : model;
  return classifierGuidedModel(base as Model, classifier) as unknown as Model<GuidedTextParams<P>>;
}
