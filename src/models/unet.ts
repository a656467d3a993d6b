/**
 * A U-Net denoiser for images [B, H, W, C] (NHWC), in the style of Ho et al. 2020:
 *
 *   e = silu(W₂ silu(W₁ emb(t) + b₁) + b₂) (+ label embedding for conditional models)
 *   h = conv(x);  for each level ℓ: h = ResBlock(h, e) [+ attention];  skip_ℓ = h;  h = avgPool(h)
 *   middle: ResBlock, attention, ResBlock
 *   for each level ℓ, deepest first: h = upsample(h) (not at the deepest); h = ResBlock(h ⊕ skip_ℓ, e) [+ attention]
 *   output = conv(silu(GroupNorm(h)))
 *
 *   ResBlock(h, e) = skip(h) + conv₂(silu(GN₂(conv₁(silu(GN₁(h))) + A e)))
 *   Attention(h)   = h + selfAttention(GN(h))
 *
 * Level ℓ has `base · multipliers[ℓ]` channels at resolution H/2^ℓ; levels listed in `attention`
 * (and the middle) attend over their positions. The last convolution of each block and of the output
 * starts at zero scale, so an untrained network is close to the identity on its skip path.
 */

import { z } from "zod";
import type { Model } from "../diffusion/model.js";
import type { Target } from "../diffusion/parameterization.js";
import type { Rng } from "../engine/index.js";
import { type Array, numpy as np } from "../engine/jax.js";
import { tracing } from "../engine/tracing.js";
import { ConfigError, UnsupportedError } from "../errors.js";
import { silu } from "./activations.js";
import { count, evenWidth, expecting, heads, imageShape, list, positiveInt } from "./fields.js";
import { type Classifier, checkHeads, checkImageShape, headClasses, type NetworkKind } from "./kind.js";
import { avgPool2, channelAxis, conv3x3, groupNorm, type Layout, perChannel, pointwise, selfAttention, upsample2 } from "./layers.js";
import { affine, type Dense, dense, timeEmbedding } from "./mlp.js";

/** Shape of the U-Net denoiser (or noise-aware classifier) for images [H, W, C]. */
export const unetSchema = z.object(
  {
    /** image shape [H, W, C] */
    shape: imageShape(),
    /** channels of level 0 */
    base: count(4096),
    /** channels of level ℓ = base · multipliers[ℓ]; H must be divisible by 2^(levels − 1) */
    multipliers: list("positive integers", positiveInt(64), { maxLength: 8 }),
    /** levels with self-attention after each ResBlock (the middle always attends) */
    attention: list("non-negative integers", (x) => Number.isSafeInteger(x) && x >= 0 && x < 8, { maxLength: 8, empty: true }),
    heads: count(256),
    /** GroupNorm groups (must divide every channel count) */
    groups: count(4096),
    /** size of the sinusoidal time embedding (even); the block embedding is 4·base wide */
    timeEmbedding: evenWidth(),
    /** classes of a conditional model: a learned label embedding (last row: "no label") is added to e */
    classes: heads.classes,
    /**
     * A noise-aware classifier instead of a denoiser: the encoder (down path and middle) then
     * GroupNorm, SiLU, a spatial mean and a dense layer to this many logits.
     */
    outputs: heads.outputs,
  },
  expecting("an object"),
);

/** Shape of the U-Net denoiser (or noise-aware classifier); see `unetSchema`. */
export type UNetConfig = z.infer<typeof unetSchema>;

/**
 * A GroupNorm's per-channel scale and shift.
 * @inline
 */
export type Norm = { scale: Array; shift: Array };
/** A 3×3 convolution's weights: kernel w [3, 3, cin, cout] and bias b [cout]. */
export type Conv = { w: Array; b: Array };
/**
 * A residual block: two GroupNorm + SiLU + conv stages, the time projection (absent in a block
 * without a time input, as the autoencoder's) and an optional 1×1 skip.
 * @inline
 */
export type ResBlock = { norm1: Norm; conv1: Conv; time?: Dense; norm2: Norm; conv2: Conv; skip?: Dense };
/**
 * A self-attention block: GroupNorm, the q/k/v projection and the output projection.
 * @inline
 */
type Attention = { norm: Norm; qkv: Dense; out: Dense };
/**
 * One resolution level: a ResBlock and, where configured, attention.
 * @inline
 */
type Level = { block: ResBlock; attention?: Attention };

/** The U-Net's trainable parameters (`initUNet`); a classifier has no `up` path and a dense output. */
export type UNetParams = {
  embed: [Dense, Dense];
  label?: Array;
  input: Conv;
  down: Level[];
  middle: { first: ResBlock; attention: Attention; second: ResBlock };
  /** up[ℓ] mirrors down[ℓ]; applied deepest first */
  up?: Level[];
  output: { norm: Norm; conv?: Conv; dense?: Dense };
};

/** A GroupNorm's identity scale and shift for C channels. */
export const norm = (C: number): Norm => ({ scale: np.ones([C]), shift: np.zeros([C]) });

/** A 3×3 convolution's kernel [3, 3, cin, cout] ~ N(0, 2·scale²/(9·cin)) (He) and a zero bias. */
export function conv(rng: Rng, cin: number, cout: number, scale = 1): Conv {
  return { w: rng.normal([3, 3, cin, cout]).mul(scale * Math.sqrt(2 / (9 * cin))), b: np.zeros([cout]) };
}

/** A ResBlock from cin to cout channels, with a projection of an E-wide time embedding unless E is undefined; conv₂ starts at zero. */
export function resBlock(rng: Rng, cin: number, cout: number, E?: number): ResBlock {
  return {
    norm1: norm(cin),
    conv1: conv(rng, cin, cout),
    ...(E !== undefined ? { time: dense(rng, E, cout) } : {}),
    norm2: norm(cout),
    conv2: conv(rng, cout, cout, 0),
    ...(cin !== cout ? { skip: dense(rng, cin, cout) } : {}),
  };
}

function attention(rng: Rng, C: number): Attention {
  return { norm: norm(C), qkv: dense(rng, C, 3 * C, Math.SQRT1_2), out: dense(rng, C, C, 0) };
}

const channels = (config: UNetConfig, level: number) => config.base * config.multipliers[level]!;

/** Checks the shapes a config implies; returns it. */
export function validateUNet(config: UNetConfig): UNetConfig {
  const [H, W] = config.shape;
  const L = config.multipliers.length;
  if (L < 1) throw new ConfigError("a U-Net needs at least one level (multipliers)");
  const f = 2 ** (L - 1);
  if (H % f || W % f) throw new ConfigError(`a ${L}-level U-Net needs height and width divisible by ${f}, got ${H}×${W}`);
  for (let l = 0; l < L; l++) {
    const C = channels(config, l);
    if (C % config.groups) throw new ConfigError(`${C} channels at level ${l} do not split into ${config.groups} groups`);
    if (C % config.heads) throw new ConfigError(`${C} channels at level ${l} do not split into ${config.heads} heads`);
  }
  if (config.base % config.groups) throw new ConfigError(`${config.base} base channels do not split into ${config.groups} groups`);
  if (config.timeEmbedding % 2) throw new ConfigError(`timeEmbedding must be even, got ${config.timeEmbedding}`);
  return config;
}

/** Initial U-Net parameters for a validated config (He-scaled, zero-scale final convs), float32. */
export function initUNet(config: UNetConfig, rng: Rng): UNetParams {
  validateUNet(config);
  const L = config.multipliers.length;
  const E = 4 * config.base;
  const Cin = config.shape[2];
  const down: Level[] = [];
  let c = config.base;
  for (let l = 0; l < L; l++) {
    const C = channels(config, l);
    down.push({ block: resBlock(rng, c, C, E), ...(config.attention.includes(l) ? { attention: attention(rng, C) } : {}) });
    c = C;
  }
  const middle = { first: resBlock(rng, c, c, E), attention: attention(rng, c), second: resBlock(rng, c, c, E) };
  const params: UNetParams = {
    embed: [dense(rng, config.timeEmbedding, E), dense(rng, E, E)],
    ...(config.classes ? { label: rng.normal([config.classes + 1, E]).mul(0.1) } : {}),
    input: conv(rng, Cin, config.base),
    down,
    middle,
    output: { norm: norm(c) },
  };
  if (config.outputs) {
    params.output.dense = dense(rng, c, config.outputs, 0.1);
    return params;
  }
  const up: Level[] = new globalThis.Array(L);
  for (let l = L - 1; l >= 0; l--) {
    const C = channels(config, l);
    up[l] = { block: resBlock(rng, c + C, C, E), ...(config.attention.includes(l) ? { attention: attention(rng, C) } : {}) };
    c = C;
  }
  params.up = up;
  params.output = { norm: norm(c), conv: conv(rng, c, Cin, 0) };
  return params;
}

/** silu(GroupNorm(x)). Consumes x. */
export function normAct(x: Array, n: Norm, groups: number, layout: Layout): Array {
  return silu(groupNorm(x, n.scale, n.shift, groups, layout));
}

/**
 * skip(h) + conv₂(silu(GN₂(conv₁(silu(GN₁(h))) + A e))), the A e term only in a block with a time
 * projection (then e [B, E] is given). Consumes h and e.
 */
export function applyResBlock(h: Array, p: ResBlock, groups: number, layout: Layout, e?: Array): Array {
  const a = conv3x3(normAct(h.ref, p.norm1, groups, layout), p.conv1.w, p.conv1.b, layout);
  const withTime = p.time ? a.add(perChannel(affine(e!, p.time), layout)) : a;
  const r = conv3x3(normAct(withTime, p.norm2, groups, layout), p.conv2.w, p.conv2.b, layout);
  const skip = p.skip ? pointwise(h, p.skip, layout) : h;
  return skip.add(r);
}

function applyAttention(h: Array, p: Attention, heads: number, groups: number, layout: Layout): Array {
  return h.ref.add(selfAttention(groupNorm(h, p.norm.scale, p.norm.shift, groups, layout), p.qkv, p.out, heads, layout));
}

function applyLevel(h: Array, e: Array, p: Level, config: UNetConfig, layout: Layout): Array {
  const out = applyResBlock(h, p.block, config.groups, layout, e);
  return p.attention ? applyAttention(out, p.attention, config.heads, config.groups, layout) : out;
}

/**
 * The network on x [B, H, W, C] at t [B] (labels [B] for a conditional network). Consumes all.
 * Traced for ONNX export it runs in NCHW inside (layers.ts), transposing x in and its output back.
 */
export function unetForward(params: UNetParams, x: Array, t: Array, config: UNetConfig, labels?: Array): Array {
  const B = x.shape[0]!;
  const layout: Layout = tracing().export ? "NCHW" : "NHWC";
  let e = affine(silu(affine(timeEmbedding(t, config.timeEmbedding), params.embed[0])), params.embed[1]);
  if (params.label) {
    const ids = labels ?? np.full([B], config.classes!, { dtype: np.int32 });
    e = e.add(np.take(params.label, ids, 0));
  } else if (labels) {
    throw new UnsupportedError("labels were given to an unconditional model");
  }
  e = silu(e);
  const L = config.multipliers.length;
  let h = conv3x3(layout === "NCHW" ? x.transpose([0, 3, 1, 2]) : x, params.input.w, params.input.b, layout);
  const skips: Array[] = [];
  params.down.forEach((level, l) => {
    h = applyLevel(h, e.ref, level, config, layout);
    if (params.up) skips.push(h.ref);
    if (l < L - 1) h = avgPool2(h, layout);
  });
  const m = params.middle;
  h = applyResBlock(h, m.first, config.groups, layout, e.ref);
  h = applyAttention(h, m.attention, config.heads, config.groups, layout);
  h = applyResBlock(h, m.second, config.groups, layout, e.ref);
  if (params.output.dense) {
    e.dispose();
    const pooled = np.mean(normAct(h, params.output.norm, config.groups, layout), layout === "NHWC" ? [1, 2] : [2, 3]);
    return affine(pooled, params.output.dense);
  }
  for (let l = L - 1; l >= 0; l--) {
    if (l < L - 1) h = upsample2(h, layout);
    h = applyLevel(np.concatenate([h, skips[l]!], channelAxis(layout)), e.ref, params.up![l]!, config, layout);
  }
  e.dispose();
  const out = conv3x3(normAct(h, params.output.norm, config.groups, layout), params.output.conv!.w, params.output.conv!.b, layout);
  return layout === "NCHW" ? out.transpose([0, 2, 3, 1]) : out;
}

/** The U-Net as a diffusion `Model` predicting `target`. */
export function unetModel(config: UNetConfig, target: Target): Model<UNetParams> {
  validateUNet(config);
  return {
    target,
    classes: config.classes ?? 0,
    apply(params, xt, t, gamma, labels) {
      gamma.dispose();
      return unetForward(params, xt, t, config, labels);
    },
  };
}

/** The U-Net encoder as a noise-aware classifier (config.outputs = number of classes). */
export function unetClassifier(config: UNetConfig): Classifier<UNetParams> {
  if (!config.outputs) throw new ConfigError("a classifier U-Net needs config.outputs = number of classes");
  validateUNet(config);
  return {
    classes: config.outputs,
    logits(params, xt, t, gamma) {
      gamma.dispose();
      return unetForward(params, xt, t, config);
    },
  };
}

/** The U-Net's sizes unless a run says otherwise: base channels, channel multipliers per level, the levels with self-attention. */
export const unetDefaults = { base: 32, multipliers: [1, 2, 2], attention: [2] } as const;

/**
 * The U-Net's kind: images [rows, cols, channels]; a denoiser, a conditional denoiser or (its
 * encoder) a noise-aware classifier.
 */
export const unetKind: NetworkKind<UNetConfig> = {
  schema: unetSchema,
  objective: "diffusion",
  configure(target, o) {
    if (target.shape?.length !== 3)
      throw new ConfigError(`the U-Net needs image data ([rows, cols, channels]); "${target.spec}" has ${target.dim}-D points`);
    return {
      shape: target.shape as [number, number, number],
      base: o.unet?.base ?? unetDefaults.base,
      multipliers: o.unet?.multipliers ?? [...unetDefaults.multipliers],
      attention: o.unet?.attention ?? [...unetDefaults.attention],
      heads: 1,
      groups: 8,
      timeEmbedding: 64,
      ...(target.outputs ? { outputs: target.outputs } : {}),
      ...(target.classes ? { classes: target.classes } : {}),
    };
  },
  check(config, run, issue) {
    checkImageShape(config.shape, run, issue);
    checkHeads(config, run, issue);
  },
  init: initUNet,
  model: unetModel as NetworkKind<UNetConfig>["model"],
  classifier: unetClassifier as NetworkKind<UNetConfig>["classifier"],
  labelClasses: headClasses,
};
