/**
 * A likelihood bound for Diffusion-LM in nats per sentence and bits per token, the unit of the
 * masked model's bound. The embedding is a deterministic encoder: words w [L] give e = E[w] [L, d],
 * the process noises e into latents z_t ~ q(z_t | e) = N(α_t e, σ_t² I), and the model is
 * p(w) = ∫ p(w | z_0) p_θ(z_0) dz_0 with z_0 the least noisy latent (`reconstructionLevel`), p_θ(z_0)
 * the reverse diffusion's marginal started at N(0, I), and p(w | z_0) = Π_ℓ softmax(z_0,ℓ Eᵀ)_{w_ℓ}
 * the rounding head tied to E (as training reads it). Jensen's inequality on q(z_{0:1} | w), the
 * forward process from e, gives (VDM's bound, with the rounding head as the decoder):
 *
 *   −log p(w) ≤ E_q[−Σ_ℓ log softmax(z_0,ℓ Eᵀ)_{w_ℓ}]           rounding
 *             + Σ_{s<t} E_q KL(q(z_s | z_t, e) ‖ p_θ(z_s | z_t))   diffusion: the ELBO's T − 1 denoising KLs
 *                                                                (discrete), or their limit L_∞ = ½ ∫ E‖ε − ε̂(z_γ)‖² dγ
 *                                                                from γ_0 to γ_1 (continuous)
 *             + KL(q(z_1 | w) ‖ N(0, I))                          prior
 *
 * It is valid for any network x̂_0 and any embedding E: q(z | w) depends on w only through e, so
 * q(z_s | z_t, w) = q(z_s | z_t, e) and the KL between the forward and reverse paths splits exactly
 * into `ElboEstimator`'s prior and diffusion terms on the "data" e; p(w | z_0) is a probability over
 * the V^L token sequences, so the bound is on −log of a probability mass (not a density of e). The
 * diffusion and prior terms come from `ElboEstimator.terms` on e [B, L, d] with the transformer as
 * the model: sums over the L·d coordinates, in nats per sentence. Its Gaussian reconstruction term
 * (a density of the continuous e, one network pass besides the diffusion term's `draws`) is not part
 * of this bound; the rounding term replaces it, and needs no network pass (the head is E itself).
 */

import { ElboEstimator, type ElboMode } from "../diffusion/elbo.js";
import { qSample } from "../diffusion/forward.js";
import type { Model } from "../diffusion/model.js";
import { filled, Rng } from "../engine/index.js";
import { type Array, type JsTree, numpy as np } from "../engine/jax.js";
import { ConfigError } from "../errors.js";
import { meanAndStdError } from "../eval/likelihood.js";
import { type BatchOptions, elboMode } from "../eval/run.js";
import { embed } from "../models/layers.js";
import { roundingLogProbs } from "../train/objectives/diffusion-lm.js";
import type { TextLM } from "./sample.js";
import { encodeAll, tokenize } from "./tokenizer.js";

/** Per-sentence costs in nats, each averaged over the draws (their sum is the sentence's bound estimate). */
export interface DiffusionLMBoundTerms {
  /** E_q[−log p(w | z_0)]: −Σ_ℓ log softmax(z_0,ℓ Eᵀ)_{w_ℓ} */
  rounding: Float64Array;
  /** the diffusion term from the reconstruction level to the top (`ElboEstimator`'s) */
  diffusion: Float64Array;
  /** KL(q(z_1 | w) ‖ N(0, I)), in closed form */
  prior: Float64Array;
}

/** A mean over sentences and its standard error. */
export interface MeanWithError {
  /** the mean over sentences */
  mean: number;
  /** its standard error, sd/√n */
  se: number;
}

/** The bound on held-out sentences: its terms and total in nats per sentence, bits per sentence and per token. */
export interface DiffusionLMBound {
  /** sentences evaluated */
  sentences: number;
  /** L, the padded length: bits per token = nats / (L ln 2) */
  length: number;
  /** draws of z_0 (rounding) and of the diffusion term's level and noise per sentence */
  draws: number;
  /** sentences longer than L, scored on their first L tokens (as training reads them) */
  truncated: number;
  /** each term's mean and standard error over the sentences, nats per sentence */
  terms: { rounding: MeanWithError; diffusion: MeanWithError; prior: MeanWithError };
  /** the bound on −log p(w) in nats per sentence */
  nats: MeanWithError;
  /** the same in bits per sentence (nats / ln 2) */
  bitsPerSentence: MeanWithError;
  /** the same in bits per token (nats / (L ln 2)) */
  bitsPerToken: MeanWithError;
}

/** Options of `diffusionLMBound`. */
export interface DiffusionLMBoundOptions extends BatchOptions {
  /** draws per sentence of z_0 for the rounding term and of (t, ε) for the diffusion term (default 8) */
  draws?: number;
  /** the seed of the random stream (default 0) */
  seed?: number;
  /** how the discrete diffusion term is evaluated (default `elboMode(process)`: every step for T ≤ 100, else sampled steps) */
  mode?: ElboMode;
}

/**
 * The bound's terms per sentence for token ids [B, L] (int32; consumed), the word embedding E
 * [V, d] and a denoiser's `estimator` (`new ElboEstimator(model, process, "gaussian")`; the decoder
 * is not read) with its params (params and E borrowed). The rounding term averages `draws` latents
 * z_0 = α_0 e + σ_0 ε at the reconstruction level; then `estimator.terms` gives the prior and the
 * diffusion term, the latter from `draws` draws of (t, ε) in "mc" mode or every step in "exact" mode.
 * Draws from `rng` in that order: `draws` normals [B, L, d], then the estimator's.
 */
export function diffusionLMBoundTerms(
  estimator: ElboEstimator,
  params: JsTree<Array>,
  embedding: Array,
  ids: Array,
  rng: Rng,
  draws: number,
  mode: ElboMode = elboMode(estimator.process),
): DiffusionLMBoundTerms {
  if (!Number.isInteger(draws) || draws < 1) throw new ConfigError(`draws per sentence must be an integer >= 1, got ${draws}`);
  const B = ids.shape[0]!;
  const e = embed(ids.ref, embedding.ref);
  const rec = estimator.process.reconstructionLevel();
  let logp = np.zeros([B]);
  for (let k = 0; k < draws; k++) {
    const z0 = qSample(e.ref, filled(B, rec.gamma), rng.normal(e.shape));
    logp = logp.add(np.sum(roundingLogProbs(z0, ids.ref, embedding.ref), 1));
  }
  ids.dispose();
  const rounding = Float64Array.from(logp.dataSync() as Float32Array, (v) => -v / draws);
  const { diffusion, prior } = estimator.terms(params, e.ref, rng, { mode, samples: draws });
  e.dispose();
  return { rounding, diffusion, prior };
}

/**
 * The bound of `lm` on `sentences` (tokenised and padded to the run's length L; longer ones
 * truncated, as training reads them), `batch` sentences per network call: each term's mean and
 * standard error over the sentences (the SE of the per-sentence estimates, so it holds both the
 * sentences' spread and the draws' noise), the total in nats and bits per sentence, and bits per
 * token = nats / (L ln 2) with L the padded length (PAD positions are scored like any token: the
 * bound is on the padded sequence the model generates). Borrows the LM's parameters.
 */
export function diffusionLMBound(lm: TextLM, sentences: readonly string[], options: DiffusionLMBoundOptions = {}): DiffusionLMBound {
  const { draws = 8, seed = 0, mode = elboMode(lm.process), batch = sentences.length, onBatch } = options;
  const n = sentences.length;
  if (n < 2) throw new ConfigError(`the bound's standard error needs at least two sentences, got ${n}`);
  const L = lm.net.length;
  const ids = encodeAll(lm.tokenizer, sentences, L, true);
  const rng = new Rng(seed);
  const estimator = new ElboEstimator(lm.model as Model, lm.process, "gaussian");
  const all: DiffusionLMBoundTerms = { rounding: new Float64Array(n), diffusion: new Float64Array(n), prior: new Float64Array(n) };
  for (let start = 0; start < n; start += batch) {
    const m = Math.min(batch, n - start);
    const rows = np.array(ids.subarray(start * L, (start + m) * L), { dtype: np.int32 }).reshape([m, L]);
    const terms = diffusionLMBoundTerms(estimator, lm.params, lm.params.embedding!, rows, rng, draws, mode);
    for (const key of ["rounding", "diffusion", "prior"] as const) all[key].set(terms[key], start);
    onBatch?.(start + m);
  }
  const total = all.rounding.map((r, b) => r + all.diffusion[b]! + all.prior[b]!);
  const nats = meanAndStdError(total);
  const scaled = (f: number) => ({ mean: nats.mean * f, se: nats.se * f });
  return {
    sentences: n,
    length: L,
    draws,
    truncated: sentences.filter((s) => tokenize(s).length > L).length,
    terms: { rounding: meanAndStdError(all.rounding), diffusion: meanAndStdError(all.diffusion), prior: meanAndStdError(all.prior) },
    nats,
    bitsPerSentence: scaled(1 / Math.LN2),
    bitsPerToken: scaled(1 / (L * Math.LN2)),
  };
}
