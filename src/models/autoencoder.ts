/**
 * A convolutional autoencoder for images x [B, H, W, C] (NHWC) with latents z [B, h, w, c], H/h = W/w = 2^k,
 * the first stage of latent diffusion:
 *
 *   encoder  h = conv(x);  for ℓ = 0..k: h = ResBlock_ℓ(h), then avgPool2 (not after the last);
 *            [μ | log σ²] = conv(silu(GN(h)))                       q(z|x) = N(μ(x), diag σ²(x))
 *   decoder  h = conv(z);  for ℓ = k..0: upsample2 (not before the first), then ResBlock_ℓ(h);
 *            x̂(z) = conv(silu(GN(h)))                               p(x|z) = decoder(x; x̂(z), e^γ)
 *
 *   ResBlock(h) = skip(h) + conv₂(silu(GN₂(conv₁(silu(GN₁(h))))))   (the U-Net's, without a time input)
 *
 * Level ℓ has base channels at ℓ = 0 and 2·base below. The encoder's variance is learned per latent
 * (a VAE trained with a small KL weight β, train/objectives/autoencoder.ts) rather than fixed: the latent
 * bound's encoder term log q(z|x) (latent/bound.ts) then has the width the reconstruction tolerates.
 * γ, the decoder's log-variance, is one learned scalar, scored by the run's data decoder ("discretized"
 * for 8-bit images). Traced for ONNX export the network runs in NCHW inside, as the U-Net does.
 */

import { z } from "zod";
import type { Rng } from "../engine/index.js";
import { type Array, numpy as np, tree } from "../engine/jax.js";
import { tracing } from "../engine/tracing.js";
import { ConfigError } from "../errors.js";
import { silu } from "./activations.js";
import { count, expecting, imageShape, number } from "./fields.js";
import { type Autoencoder, checkImageShape, type NetworkKind } from "./kind.js";
import { avgPool2, conv3x3, groupNorm, type Layout, upsample2 } from "./layers.js";
import { applyResBlock, type Conv, conv, type Norm, norm, type ResBlock, resBlock } from "./unet.js";

/** Shape of the autoencoder: image shape, latent shape, channels, GroupNorm groups and the KL weight β. */
export const autoencoderSchema = z.object(
  {
    /** image shape [H, W, C] */
    shape: imageShape(),
    /** latent shape [h, w, c]: H/h = W/w a power of 2 */
    latent: imageShape(),
    /** channels of the full-resolution level (2·base below it) */
    base: count(4096),
    /** GroupNorm groups (must divide base) */
    groups: count(4096),
    /** β, the weight of KL(q(z|x) ‖ N(0, I)) in the training loss −log p(x|z) + β KL */
    klWeight: number({ min: 0, what: "a non-negative number" }),
  },
  expecting("an object"),
);

/** Shape of the autoencoder; see `autoencoderSchema`. */
export type AutoencoderConfig = z.infer<typeof autoencoderSchema>;

/** One half of the autoencoder: input conv, a ResBlock per level, output GroupNorm and conv. */
export type CoderParams = { input: Conv; blocks: ResBlock[]; norm: Norm; output: Conv };

/** The autoencoder's parameters: encoder, decoder and the decoder's log-variance γ ([1]). */
export type AutoencoderParams = { encoder: CoderParams; decoder: CoderParams; gamma: Array };

/** The autoencoder's sizes unless a run says otherwise: latents [H/4, W/4, 4], base channels, β, γ's start (σ = 0.1 in [−1, 1] pixels). */
export const autoencoderDefaults = { downsampling: 4, latentChannels: 4, base: 32, groups: 8, klWeight: 1e-3, gamma: 2 * Math.log(0.1) };

/** k, the number of 2× poolings from the image to the latent (H/h = 2^k); throws `ConfigError` when there is none. */
export function downsamplings(config: AutoencoderConfig): number {
  const [H, W] = config.shape;
  const [h, w] = config.latent;
  const k = Math.log2(H / h);
  if (!Number.isInteger(k) || k < 0 || H !== h * 2 ** k || W !== w * 2 ** k)
    throw new ConfigError(`a latent of ${h}×${w} must divide a ${H}×${W} image by a power of 2 in both height and width`);
  return k;
}

/** Checks the shapes a config implies; returns it. */
export function validateAutoencoder(config: AutoencoderConfig): AutoencoderConfig {
  downsamplings(config);
  if (config.base % config.groups) throw new ConfigError(`${config.base} base channels do not split into ${config.groups} groups`);
  return config;
}

/** Channels of level ℓ: base at full resolution, 2·base below. */
const channels = (config: AutoencoderConfig, level: number) => config.base * (level === 0 ? 1 : 2);

/** Initial parameters: He-scaled convs, zero-scale last convs in each block and at the decoder's output, γ = log 0.1². */
export function initAutoencoder(config: AutoencoderConfig, rng: Rng): AutoencoderParams {
  const k = downsamplings(validateAutoencoder(config));
  const C = config.shape[2];
  const c = config.latent[2];
  const blocks = (from: number, levels: number[]) =>
    levels.map((l) => {
      const block = resBlock(rng, from, channels(config, l));
      from = channels(config, l);
      return block;
    });
  const down = globalThis.Array.from({ length: k + 1 }, (_, l) => l);
  const deepest = channels(config, k);
  const encoder: CoderParams = {
    input: conv(rng, C, config.base),
    blocks: blocks(config.base, down),
    norm: norm(deepest),
    output: conv(rng, deepest, 2 * c),
  };
  const decoder: CoderParams = {
    input: conv(rng, c, deepest),
    blocks: blocks(deepest, [...down].reverse()),
    norm: norm(config.base),
    output: conv(rng, config.base, C, 0),
  };
  return { encoder, decoder, gamma: np.full([1], autoencoderDefaults.gamma) };
}

/** The layout a forward pass runs in: NCHW when traced for ONNX export (layers.ts), else NHWC. */
const layoutNow = (): Layout => (tracing().export ? "NCHW" : "NHWC");

/**
 * One half on h [B, …] (NHWC): conv, then ResBlock per level with `resample` between levels, then
 * conv(silu(GN(·))). Consumes h.
 */
function applyCoder(p: CoderParams, h: Array, groups: number, resample: (h: Array, layout: Layout) => Array): Array {
  const layout = layoutNow();
  let x = conv3x3(layout === "NCHW" ? h.transpose([0, 3, 1, 2]) : h, p.input.w, p.input.b, layout);
  p.blocks.forEach((block, i) => {
    if (i > 0) x = resample(x, layout);
    x = applyResBlock(x, block, groups, layout);
  });
  const out = conv3x3(silu(groupNorm(x, p.norm.scale, p.norm.shift, groups, layout)), p.output.w, p.output.b, layout);
  return layout === "NCHW" ? out.transpose([0, 2, 3, 1]) : out;
}

/** The encoder's [μ | log σ²] split along channels: each [B, h, w, c]. Consumes params (the decoder's unused) and x. */
export function encodeImage(config: AutoencoderConfig, params: AutoencoderParams, x: Array) {
  const c = config.latent[2];
  tree.dispose([params.decoder, params.gamma]);
  const both = applyCoder(params.encoder, x, config.groups, avgPool2);
  return { mean: both.ref.slice([], [], [], [0, c]), logVar: both.slice([], [], [], [c, 2 * c]) };
}

/** The decoder's x̂(z) [B, H, W, C] and γ broadcast to [B]. Consumes params (the encoder's unused) and z. */
export function decodeLatent(config: AutoencoderConfig, params: AutoencoderParams, z: Array) {
  const B = z.shape[0]!;
  tree.dispose(params.encoder);
  const mean = applyCoder(params.decoder, z, config.groups, upsample2);
  return { mean, gamma: np.broadcastTo(params.gamma, [B]) };
}

/** The network as an `Autoencoder`. */
export function autoencoder(config: AutoencoderConfig): Autoencoder<AutoencoderParams> {
  validateAutoencoder(config);
  return {
    latentShape: [...config.latent],
    klWeight: config.klWeight,
    encode: (params, x) => encodeImage(config, params, x),
    decode: (params, z) => decodeLatent(config, params, z),
  };
}

/**
 * The autoencoder's kind: images [rows, cols, channels] to latents (default [rows/4, cols/4, 4]);
 * `unet.base` sets its channels; `autoencoder.latent` and `autoencoder.klWeight` its latent and β.
 * Its ε is the reparameterisation's (z = μ + σ ε, latent-shaped); it has no labels.
 */
export const autoencoderKind: NetworkKind<AutoencoderConfig> = {
  schema: autoencoderSchema,
  objective: "autoencoder",
  configure(target, o) {
    if (target.shape?.length !== 3)
      throw new ConfigError(`the autoencoder needs image data ([rows, cols, channels]); "${target.spec}" has ${target.dim}-D points`);
    if (target.outputs || target.classes) throw new ConfigError("the autoencoder is neither a classifier nor a conditional denoiser");
    const [H, W] = target.shape as [number, number, number];
    const f = autoencoderDefaults.downsampling;
    const config: AutoencoderConfig = {
      shape: target.shape as [number, number, number],
      latent: (o.autoencoder?.latent as [number, number, number] | undefined) ?? [H / f, W / f, autoencoderDefaults.latentChannels],
      base: o.unet?.base ?? autoencoderDefaults.base,
      groups: autoencoderDefaults.groups,
      klWeight: o.autoencoder?.klWeight ?? autoencoderDefaults.klWeight,
    };
    return validateAutoencoder(config);
  },
  check(config, run, issue) {
    if (run.task !== "denoiser") issue("task", `must be absent for an autoencoder model (it is not a classifier)`, run.task);
    checkImageShape(config.shape, run, issue);
  },
  init: initAutoencoder,
  autoencoder: autoencoder as NetworkKind<AutoencoderConfig>["autoencoder"],
  labelClasses: () => 0,
  noiseShape: (config) => [...config.latent],
};
