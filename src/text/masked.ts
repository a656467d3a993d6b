/**
 * Masked diffusion on text: a trained masked language model (a "masked-text" run and its
 * parameters), its training points (token ids, with an attribute's labels for a conditional run),
 * and its held-out bound: `maskedNelbo` (masked/process.ts) over given sentences, in nats per
 * sentence and bits per token of the padded length L.
 */
import type { PointSet } from "../data/sets.js";
import { Rng } from "../engine/index.js";
import { type Array, type JsTree, jit, numpy as np, tree } from "../engine/jax.js";
import { ConfigError, DataError } from "../errors.js";
import type { MaskedDenoiser } from "../masked/denoiser.js";
import { maskedNelbo } from "../masked/process.js";
import { getMaskingSchedule, type MaskingSchedule } from "../masked/schedule.js";
import { configOf } from "../models/kinds.js";
import { maskedTransformerKind } from "../models/masked-transformer.js";
import type { TextNetConfig } from "../models/transformer.js";
import { buildMaskedDenoiser } from "../train/build.js";
import type { RunConfig } from "../train/config.js";
import { loadMaskedDenoiser } from "../train/load.js";
import { type Attribute, attributeClass } from "./grammar.js";
import { encodeAll, Tokenizer, tokenize } from "./tokenizer.js";

/** A masked language model: its run's config, network config, denoiser, parameters, masking schedule and vocabulary. */
export interface MaskedLM {
  config: RunConfig;
  net: TextNetConfig;
  denoiser: MaskedDenoiser;
  /** the (EMA) parameters, borrowed by whoever uses the LM */
  params: JsTree<Array>;
  schedule: MaskingSchedule;
  tokenizer: Tokenizer;
}

/** The masked LM of a masked-text run's config and parameters (`params` borrowed). */
export function maskedLM(config: RunConfig, params: JsTree<Array>): MaskedLM {
  const net = configOf(config.model, maskedTransformerKind);
  if (!net || config.task === "classifier") throw new ConfigError(`run "${config.data.spec}" is not a masked language model`);
  return {
    config,
    net,
    denoiser: buildMaskedDenoiser(config),
    params,
    schedule: getMaskingSchedule(config.schedule),
    tokenizer: new Tokenizer(net.words),
  };
}

/** A masked language model from its checkpoint directory (EMA parameters). */
export function loadMaskedLM(dir: string): MaskedLM {
  const { config, params } = loadMaskedDenoiser(dir);
  return maskedLM(config, params);
}

/**
 * Sentences as a masked run's training points: token ids (float32) [n, length], and with an
 * `attribute` each sentence's class (`attributeClass`) as its label, sentences of unknown class
 * (unparsable) or longer than `length` left out; without one, longer sentences are truncated.
 */
export function maskedPoints(tokenizer: Tokenizer, sentences: readonly string[], length: number, attribute?: Attribute): PointSet {
  if (!attribute) return { points: Float32Array.from(encodeAll(tokenizer, sentences, length, true)), n: sentences.length, dim: length };
  const kept: string[] = [];
  const labels: number[] = [];
  for (const s of sentences) {
    const tokens = tokenize(s);
    const y = tokens.length > length ? -1 : attributeClass(attribute, tokens);
    if (y < 0) continue;
    kept.push(s);
    labels.push(y);
  }
  if (kept.length === 0) throw new DataError(`no training sentence has a known ${attribute}`);
  return { points: Float32Array.from(encodeAll(tokenizer, kept, length)), n: kept.length, dim: length, labels: Int32Array.from(labels) };
}

/** Options of `maskedBound`. */
export interface MaskedBoundOptions {
  /** independent draws of (t, z_t) per sentence, averaged (default 4) */
  draws?: number;
  /** the draws' seed (default 0) */
  seed?: number;
  /** T of the discrete-time bound (default 0: continuous time) */
  timesteps?: number;
  /** sentences per network pass (default 250) */
  batch?: number;
}

/** A masked LM's bound on sentences: per-sentence estimates, their mean and standard error, in nats per sentence and bits per token. */
export interface MaskedBound {
  /** each sentence's estimate (the mean of its draws), nats */
  nats: Float64Array;
  /** the mean over sentences, nats per sentence */
  mean: number;
  /** its standard error sd(nats)/√n (sentences and draws both random) */
  se: number;
  /** the mean in bits per token, mean/(L ln 2) for the padded length L */
  bitsPerToken: number;
  /** its standard error in bits per token */
  seBitsPerToken: number;
  /** L, the tokens per (padded) sentence */
  length: number;
}

/**
 * The bound −log p(x) ≤ E w(t) Σ_{ℓ masked} −log p_θ(x_ℓ | z_t) of each sentence (padded to the LM's
 * length, longer ones truncated), estimated by `draws` draws of (t, z_t), in continuous time or with
 * T steps, the draws' levels stratified (draw d's u uniform on [d/draws, (d + 1)/draws)); a conditional
 * LM is scored without a label ("no label": p_θ(x) itself). Borrows the LM.
 */
export function maskedBound(lm: MaskedLM, sentences: readonly string[], options: MaskedBoundOptions = {}): MaskedBound {
  const { draws = 4, seed = 0, timesteps = 0, batch = 250 } = options;
  const n = sentences.length;
  if (n === 0) throw new DataError("the bound needs at least one sentence");
  const L = lm.net.length;
  const V = lm.denoiser.vocabulary;
  const ids = encodeAll(lm.tokenizer, sentences, L, true);
  const { denoiser, schedule } = lm;
  const bound = jit((params: JsTree<Array>, x: Array, uniforms: Array, u: Array) => {
    const B = x.shape[0]!;
    const labels = denoiser.classes > 0 ? np.full([B], denoiser.classes, { dtype: np.int32 }) : undefined;
    return maskedNelbo((z) => denoiser.logits(params, z, labels), schedule, V, x, uniforms, u, timesteps);
  });
  const rng = new Rng(seed);
  const nats = new Float64Array(n);
  for (let d = 0; d < draws; d++)
    for (let start = 0; start < n; start += batch) {
      const B = Math.min(batch, n - start);
      const x = np.array(ids.subarray(start * L, (start + B) * L), { dtype: np.int32 }).reshape([B, L]);
      // stratified levels: draw d's u lies in [d/draws, (d + 1)/draws) (unbiased; the 1/t weight makes t's spread the main noise)
      const u = rng.uniform([B]).add(d).div(draws);
      const values = bound(tree.ref(lm.params), x, rng.uniform([B, L]), u).dataSync() as Float32Array;
      for (let b = 0; b < B; b++) nats[start + b]! += values[b]! / draws;
    }
  bound.dispose();
  const mean = nats.reduce((a, v) => a + v, 0) / n;
  const variance = n > 1 ? nats.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1) : 0;
  const se = Math.sqrt(variance / n);
  const perToken = 1 / (L * Math.LN2);
  return { nats, mean, se, bitsPerToken: mean * perToken, seBitsPerToken: se * perToken, length: L };
}
