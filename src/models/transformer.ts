/**
 * Diffusion-LM's denoiser: a small pre-LayerNorm transformer over the sequence of noisy word
 * embeddings x_t [B, L, d], predicting x_0, with the word embeddings E [V, d] learned jointly
 * (they live in the same parameter tree). The same trunk with a mean over positions and a dense
 * layer is the noise-aware classifier p_φ(y | x_t, t) that guides sampling.
 *
 *   e   = W₂ silu(W₁ emb(t) + b₁) + b₂                      (the U-Net's sinusoidal time embedding)
 *   h   = x_t W_in + b_in + P + e                           (P: learned positions [L, W])
 *   h  ← h + Attention(LN(h))                               (the U-Net's multi-head self-attention)
 *   h  ← h + W_f₂ silu(W_f₁ LN(h) + b_f₁) + b_f₂            (per layer)
 *   x̂_0 = LN(h) W_out + b_out     or    logits = mean_ℓ LN(h)_ℓ W_out + b_out
 *
 * LN is a LayerNorm (GroupNorm with one group over one position's channels).
 */

import { z } from "zod";
import type { Model } from "../diffusion/model.js";
import type { Rng } from "../engine/index.js";
import { type Array, numpy as np, tree } from "../engine/jax.js";
import { ConfigError } from "../errors.js";
import { silu } from "./activations.js";
import { count, evenWidth, expecting, heads, MAX_WIDTH, optionalText } from "./fields.js";
import { type Classifier, checkHeads, type NetworkKind } from "./kind.js";
import { groupNorm, selfAttention } from "./layers.js";
import { affine, type Dense, dense, timeEmbedding } from "./mlp.js";

const words = { error: "must be a list of at least 3 words (the vocabulary)" };

/** Shape of the text denoiser (or classifier) and its vocabulary, as stored in a run's config. */
export const transformerSchema = z
  .object(
    {
      /** the vocabulary, id order (words[0] = "<pad>", words[1] = "<unk>") */
      words: z.custom<string[]>((w) => globalThis.Array.isArray(w) && w.length >= 3 && w.every((x) => typeof x === "string"), words),
      /** tokens per sequence (sentences padded to it) */
      length: count(MAX_WIDTH),
      /** word-embedding dimension d */
      embedDim: count(MAX_WIDTH),
      /** transformer width W (divisible by heads) */
      width: count(MAX_WIDTH),
      layers: count(1024),
      heads: count(256),
      /** size of the sinusoidal time embedding (even) */
      timeEmbedding: evenWidth(),
      classes: heads.classes,
      /** a classifier over this many classes instead of a denoiser (no embedding table then) */
      outputs: heads.outputs,
      /** a classifier's attribute and class names (for the command line) */
      attribute: optionalText(),
      classNames: z.array(z.string(expecting("a string")), expecting("a list of strings")).optional(),
    },
    expecting("an object"),
  )
  .superRefine((c, ctx) => {
    if (c.width % c.heads !== 0)
      ctx.addIssue({ code: "custom", continue: false, path: ["heads"], message: `must divide the width ${c.width}`, input: c.heads });
  });

/** Shape of the text denoiser (or classifier) and its vocabulary; see `transformerSchema`. */
export type TextNetConfig = z.infer<typeof transformerSchema>;

/**
 * A LayerNorm's scale and shift.
 * @inline
 */
export type Norm = { scale: Array; shift: Array };
/**
 * One transformer layer: attention and feed-forward, each behind a LayerNorm.
 * @inline
 */
export type Block = { norm1: Norm; qkv: Dense; out: Dense; norm2: Norm; ff1: Dense; ff2: Dense };

/** The trunk's parameters after the input: its layers and the final LayerNorm. */
export type TrunkParams = { blocks: Block[]; norm: Norm };

/** The text network's parameters; `embedding` [V, d] (denoisers only) is the word embedding E, also the rounding head. */
export type TextParams = {
  embedding?: Array;
  input: Dense;
  position: Array;
  time: [Dense, Dense];
  blocks: Block[];
  norm: Norm;
  output: Dense;
};

const norm = (C: number): Norm => ({ scale: np.ones([C]), shift: np.zeros([C]) });

/** `layers` fresh transformer layers of width W (He-scaled, the residual branches' outputs halved) and the final LayerNorm. */
export function initTrunk(rng: Rng, W: number, layers: number): TrunkParams {
  return {
    blocks: globalThis.Array.from({ length: layers }, () => ({
      norm1: norm(W),
      qkv: dense(rng, W, 3 * W, Math.SQRT1_2),
      out: dense(rng, W, W, 0.5),
      norm2: norm(W),
      ff1: dense(rng, W, 2 * W),
      ff2: dense(rng, 2 * W, W, 0.5),
    })),
    norm: norm(W),
  };
}

/** Checks a config's sizes; returns it. */
export function validateTextNet(config: TextNetConfig): TextNetConfig {
  if (config.words.length < 3)
    throw new ConfigError(
      `a text model needs a vocabulary of at least one word besides <pad> and <unk>, got ${config.words.length} entries`,
    );
  if (config.width % config.heads)
    throw new ConfigError(`the text model's width ${config.width} does not split into ${config.heads} heads`);
  if (config.timeEmbedding % 2) throw new ConfigError(`timeEmbedding must be even, got ${config.timeEmbedding}`);
  return config;
}

/**
 * Initial parameters: He-scaled dense layers, positions ~ N(0, 0.02²)·…, the embedding E ~ N(0, 1)
 * (Diffusion-LM's initialisation), the output layer at scale 0.1 (the classifier's too).
 */
export function initTextNet(config: TextNetConfig, rng: Rng): TextParams {
  validateTextNet(config);
  const { length: L, embedDim: d, width: W, timeEmbedding: E } = config;
  return {
    ...(config.outputs ? {} : { embedding: rng.normal([config.words.length, d]) }),
    input: dense(rng, d, W),
    position: rng.normal([L, W]).mul(0.1),
    time: [dense(rng, E, W), dense(rng, W, W)],
    ...initTrunk(rng, W, config.layers),
    output: dense(rng, W, config.outputs ?? d, 0.1),
  };
}

/** LayerNorm of h [B, L, W] over each position's W channels (`groupNorm` with one group). Consumes h. */
export function layerNorm(h: Array, p: Norm): Array {
  const [B, L, W] = h.shape as [number, number, number];
  return groupNorm(h.reshape([B * L, 1, 1, W]), p.scale, p.shift, 1).reshape([B, L, W]);
}

/**
 * The layers and final LayerNorm on the input features h [B, L, W] (the input projection, positions
 * and any conditioning already added): LN(h) after every layer's attention and feed-forward.
 * Consumes h and params.
 */
export function trunkLayers(params: TrunkParams, h: Array, heads: number): Array {
  const [B, L, W] = h.shape as [number, number, number];
  for (const block of params.blocks) {
    const a = selfAttention(layerNorm(h.ref, block.norm1).reshape([B, 1, L, W]), block.qkv, block.out, heads).reshape([B, L, W]);
    h = h.add(a);
    const f = affine(silu(affine(layerNorm(h.ref, block.norm2).reshape([B * L, W]), block.ff1)), block.ff2).reshape([B, L, W]);
    h = h.add(f);
  }
  return layerNorm(h, params.norm);
}

/** The trunk: final LayerNorm'd features [B, L, W] of x [B, L, d] at t [B]. Consumes x, t and params (embedding included). */
function trunk(params: TextParams, x: Array, t: Array, config: TextNetConfig): { h: Array; output: Dense } {
  const [B, L, d] = x.shape as [number, number, number];
  const W = config.width;
  params.embedding?.dispose();
  const e = affine(silu(affine(timeEmbedding(t, config.timeEmbedding), params.time[0])), params.time[1]);
  const h = affine(x.reshape([B * L, d]), params.input)
    .reshape([B, L, W])
    .add(params.position.reshape([1, L, W]))
    .add(e.reshape([B, 1, W]));
  return { h: trunkLayers(params, h, config.heads), output: params.output };
}

/** The denoiser's x̂_0 [B, L, d] for x_t [B, L, d] at t [B]. Consumes all (params included). */
export function textForward(params: TextParams, x: Array, t: Array, config: TextNetConfig): Array {
  const [B, L, d] = x.shape as [number, number, number];
  const { h, output } = trunk(params, x, t, config);
  return affine(h.reshape([B * L, config.width]), output).reshape([B, L, d]);
}

/** The transformer as a diffusion `Model` predicting x_0 (Diffusion-LM's parameterisation). */
export function textModel(config: TextNetConfig): Model<TextParams> {
  validateTextNet(config);
  if (config.outputs) throw new ConfigError("this text network is a classifier, not a denoiser");
  return {
    target: "x0",
    classes: 0,
    apply(params, xt, t, gamma, labels) {
      gamma.dispose();
      if (labels) {
        tree.dispose([params, xt, t, labels]);
        throw new ConfigError("labels were given to an unconditional text model");
      }
      return textForward(params, xt, t, config);
    },
  };
}

/** The transformer as a noise-aware classifier of x_t [B, L, d]: logits [B, outputs] from the mean over positions. */
export function textClassifier(config: TextNetConfig): Classifier<TextParams> {
  validateTextNet(config);
  if (!config.outputs) throw new ConfigError("a text classifier needs outputs = its number of classes");
  return {
    classes: config.outputs,
    logits(params, xt, t, gamma) {
      gamma.dispose();
      const { h, output } = trunk(params, xt, t, config);
      return affine(np.mean(h, 1), output);
    },
  };
}

/**
 * The transformer's kind, Diffusion-LM's network: a denoiser of word embeddings [length, embedDim]
 * trained by Diffusion-LM's objective (its data are token ids), or a noise-aware classifier of
 * them. Its runs are made by text/config.ts.
 */
export const transformerKind: NetworkKind<TextNetConfig> = {
  schema: transformerSchema,
  objective: "diffusion-lm",
  check(config, run, issue) {
    checkHeads(config, run, issue);
    const expected = run.task === "classifier" ? config.length * config.embedDim : config.length;
    if (run.dim !== expected) issue("data.dim", `must be ${expected} for this text ${run.task}`, run.dim);
  },
  init: initTextNet,
  model: textModel as NetworkKind<TextNetConfig>["model"],
  classifier: textClassifier as NetworkKind<TextNetConfig>["classifier"],
  labelClasses: (config) => config.outputs ?? 0,
  noiseShape: (config) => [config.length, config.embedDim],
};
