/**
 * The ELBO of a diffusion model, split as its derivation does (Ho et al. 2020; Luo 2022):
 *
 *   log p(x_0) ≥ E_q[log p_θ(x_0|x_1)] − KL(q(x_T|x_0) ‖ N(0, I)) − Σ_{t=2}^T E_q KL(q(x_{t−1}|x_t,x_0) ‖ p_θ(x_{t−1}|x_t))
 *                 reconstruction          prior matching                denoising matching
 *
 * Each term is reported as a cost in nats per example (so −ELBO = reconstruction + prior +
 * diffusion) and in bits per dimension. In continuous time the sum becomes
 * L_∞ = ½ ∫ γ'(t) E‖ε − ε̂(x_t, t)‖² dt (Kingma et al. 2021).
 */
import type { Rng } from "../engine/index.js";
import { numpy as np, tree, type Array, type JsTree } from "../engine/jax.js";
import { decoderLogLikelihood, type DecoderKind } from "./decoder.js";
import { qSample } from "./forward.js";
import { priorKl, weightedEpsError } from "./losses.js";
import { jitFor, type Model } from "./model.js";
import { toEps, toX0 } from "./parameterization.js";
import type { DiffusionProcess, KlLevels } from "./process.js";

/** Per-example costs in nats. */
export interface ElboTerms {
  /** −E_q log p_θ(x_0 | x_1) */
  reconstruction: Float64Array;
  /** KL(q(x_T | x_0) ‖ N(0, I)) */
  prior: Float64Array;
  /** Σ_t E_q KL(q(x_{t−1} | x_t, x_0) ‖ p_θ(x_{t−1} | x_t)), or L_∞ in continuous time */
  diffusion: Float64Array;
}

/** Batch means of the terms, their total −ELBO, and bits/dim = nats/(D ln 2). */
export interface ElboSummary {
  nats: number;
  bpd: number;
  terms: { reconstruction: number; prior: number; diffusion: number };
  termsBpd: { reconstruction: number; prior: number; diffusion: number };
}

export type ElboMode = "exact" | "mc";

export interface ElboOptions {
  /**
   * "exact": every diffusion term t = 2..T (one noise draw each); "mc": an unbiased estimate
   * from `samples` uniformly drawn terms per example. Continuous time is always "mc".
   */
  mode?: ElboMode;
  samples?: number;
}

/** Model parameters as a tree of arrays. */
type Params = JsTree<Array>;

export class ElboEstimator {
  readonly #reconstruction;
  readonly #diffusionTerm;

  constructor(
    readonly model: Model,
    readonly process: DiffusionProcess,
    readonly decoder: DecoderKind,
  ) {
    const target = model.target;
    // −log p_θ(x_0 | x_1), x_1 = α_1 x_0 + σ_1 ε
    this.#reconstruction = jitFor(model, (params: Params, x0: Array, eps: Array, t: Array, gamma: Array) => {
      const x1 = qSample(x0.ref, gamma.ref, eps);
      const pred = model.apply(params, x1.ref, t, gamma.ref);
      const x0Hat = toX0(pred, target, x1, gamma.ref);
      return np.negative(decoderLogLikelihood(decoder, x0, x0Hat, gamma));
    });
    // weight · ‖ε − ε̂(x_t)‖²
    this.#diffusionTerm = jitFor(model, (params: Params, x0: Array, eps: Array, t: Array, gamma: Array, weight: Array) => {
      const xt = qSample(x0, gamma.ref, eps.ref);
      const pred = model.apply(params, xt.ref, t, gamma.ref);
      return weightedEpsError(eps, toEps(pred, target, xt, gamma), weight);
    });
  }

  /** The three terms for each example of x0 ([B, ...]). Borrows params and x0. */
  terms(params: Params, x0: Array, rng: Rng, { mode = "exact", samples = 1 }: ElboOptions = {}): ElboTerms {
    const process = this.process;
    const batch = x0.shape[0]!;
    const full = (v: number) => np.full([batch], v);

    const rec = process.reconstructionLevel();
    const reconstruction = this.#reconstruction(
      tree.ref(params),
      x0.ref,
      rng.normal(x0.shape),
      full(rec.t),
      full(rec.gamma),
    );

    const prior = priorKl(x0.ref, full(process.priorLevel().gamma));

    const diffusion = new Float64Array(batch);
    const add = (levels: KlLevels, factor: number) => {
      const kl = this.#diffusionTerm(tree.ref(params), x0.ref, rng.normal(x0.shape), levels.t, levels.gamma, levels.weight);
      const values = kl.dataSync() as Float32Array;
      for (let b = 0; b < batch; b++) diffusion[b]! += values[b]! * factor;
    };
    if (process.T === 1) {
      // no denoising terms: the chain is x_0 → x_1 only
    } else if (mode === "exact" && !process.continuous) {
      for (let i = 2; i <= process.T; i++) {
        add(process.levelsAtSteps(np.full([batch], i, { dtype: np.int32 }), process.gammaTable()!, 1), 1);
      }
    } else {
      for (let k = 0; k < samples; k++) add(process.levelsFromUniform(process.uniforms(rng, batch), process.gammaTable(), "elbo"), 1 / samples);
    }

    return {
      reconstruction: Float64Array.from(reconstruction.dataSync() as Float32Array),
      prior: Float64Array.from(prior.dataSync() as Float32Array),
      diffusion,
    };
  }
}

/** Means over examples, total −ELBO in nats, and bits/dim for data of `dims` dimensions. */
export function summarizeElbo(terms: ElboTerms, dims: number): ElboSummary {
  const mean = (a: Float64Array) => a.reduce((s, v) => s + v, 0) / a.length;
  const t = { reconstruction: mean(terms.reconstruction), prior: mean(terms.prior), diffusion: mean(terms.diffusion) };
  const toBpd = (nats: number) => nats / (dims * Math.LN2);
  const nats = t.reconstruction + t.prior + t.diffusion;
  return {
    nats,
    bpd: toBpd(nats),
    terms: t,
    termsBpd: { reconstruction: toBpd(t.reconstruction), prior: toBpd(t.prior), diffusion: toBpd(t.diffusion) },
  };
}

