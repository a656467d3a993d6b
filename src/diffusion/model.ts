/** What a sampler or the ELBO needs from a denoiser: a pure function of (params, x_t, t, γ_t). */
import type { Array, JsTree } from "../engine/jax.js";
import type { Target } from "./parameterization.js";

export interface Model<P extends JsTree<Array> = JsTree<Array>> {
  /** What `apply` predicts. */
  readonly target: Target;
  /** Number of classes a conditional model knows (label `classes` is "no label"); 0 if unconditional. */
  readonly classes: number;
  /**
   * The prediction for x_t ([B, ...]) at times t ([B], in [0, 1]) with γ_t ([B]), conditioned on
   * `labels` ([B] int32) when the model is conditional (absent: unconditional). Networks usually
   * read t, analytic models α and σ from γ. Consumes every argument (params included: pass
   * `tree.ref(params)` to keep them).
   */
  apply(params: P, xt: Array, t: Array, gamma: Array, labels?: Array): Array;
}
