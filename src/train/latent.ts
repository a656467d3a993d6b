/**
 * Latent diffusion runs: a VDM trained on the latents z ~ q(z|x) of an autoencoder's encoder, whose
 * samples are decoded x = x̂(z) by its decoder. The run holds a copy of the autoencoder's config and EMA
 * weights under DIR/autoencoder/ (self-contained); config.json's `latent` says where it came from and
 * the latent shape, and its `data` are the latents: shape [rows, cols, channels], the normalisation
 * z' = (z − mean)/std fitted per channel, the Gaussian decoder (the latents are continuous).
 */

import { join } from "node:path";
import type { Split } from "../data/index.js";
import { type Normalization, normalize } from "../data/normalize.js";
import type { PointSet } from "../data/sets.js";
import { type DiagonalGaussian, reparameterize } from "../diffusion/gaussian.js";
import { type Params, Rng } from "../engine/index.js";
import { type Array, jit, numpy as np, tree } from "../engine/jax.js";
import { ConfigError } from "../errors.js";
import { readCheckpointConfig, readStateFile, saveWeights } from "../io/checkpoint.js";
import { stateOrWeights } from "../io/state.js";
import type { Autoencoder } from "../models/kind.js";
import { networkOf } from "../models/kinds.js";
import { initParams, normalizationOf } from "./build.js";
import { type RunConfig, validateRunConfig } from "./config.js";
import { makeRunConfig, type RunOptions } from "./defaults.js";

/** Where a latent run keeps its autoencoder's copy, inside the run's directory. */
export const AUTOENCODER_DIR = "autoencoder";

/** Latents encoded per network call (activation memory grows with it: 250 images of a base-32 encoder exceed wasm's 4 GiB). */
const ENCODE_BATCH = 50;

/**
 * The latent U-Net's sizes unless a run says otherwise: one level (7 rows of a 7×7 latent do not halve),
 * base channels 64 with attention at that level (docs/latent.md: its forward time against the pixel U-Net's).
 */
export const latentUnetDefaults = { base: 64, multipliers: [1], attention: [0] } as const;

/** A trained autoencoder: its run config (its data are the images: shape, normalisation, decoder), network and EMA parameters. */
export interface LatentAutoencoder {
  config: RunConfig;
  network: Autoencoder;
  params: Params;
}

/** How a latent model's samples become images: the latent shape, and normalised latents z' → x̂(z) in normalised pixels. */
export interface LatentSampling {
  /** one latent's shape, where the samplers run */
  shape: number[];
  /** x̂(z) for z = z'·std + mean, the decoder's mean in the images' normalised coordinates. Consumes z'. */
  decode(latents: Array): Array;
}

/** A latent run's autoencoder and the latents' normalisation, with its decoder of samples. */
export interface LatentRun extends LatentSampling {
  autoencoder: LatentAutoencoder;
  /** z' = (z − mean)/std, per channel */
  normalization: Normalization;
}

/** The autoencoder of a run directory (a training checkpoint or exported weights; EMA parameters). */
export function loadAutoencoder(dir: string): LatentAutoencoder {
  const config = readCheckpointConfig(dir, validateRunConfig);
  const net = networkOf(config.model);
  if (!net.kind.autoencoder)
    throw new ConfigError(`${dir}: a ${config.model.kind} run is not an autoencoder (vdm train-autoencoder makes one)`);
  const template = initParams(config, new Rng(0));
  const loaded = stateOrWeights(readStateFile(dir), template);
  tree.dispose(template);
  let params: Params;
  if ("state" in loaded) {
    const { state } = loaded;
    tree.dispose([state.params, state.adam.m, state.adam.v]);
    params = state.ema;
  } else params = loaded.ema;
  return { config, network: net.kind.autoencoder(net.config), params };
}

/** Writes the autoencoder's config and EMA weights to DIR/autoencoder/, so the latent run in DIR stands alone. Borrows. */
export function saveAutoencoder(dir: string, ae: LatentAutoencoder): void {
  saveWeights(join(dir, AUTOENCODER_DIR), ae.config, ae.params);
}

/** An autoencoder's encoder network with its parameters bound: x → q(z|x) = N(μ(x), diag σ²(x)). Consumes x. */
export type LatentEncoder = (x: Array) => DiagonalGaussian;

/** Options of `encodeImages`/`encodeSplit`: where the encoder runs, and who hears the progress. */
export interface EncodeOptions {
  /** the encoder network (default: `ae`'s in jax-js, compiled once per batch size); the draw z = μ + σ ε stays in jax-js */
  encoder?: LatentEncoder;
  /** hears the images done */
  onBatch?: (done: number) => void;
}

/** `ae`'s encoder in jax-js, compiled (eager calls dispatch every operation of the encoder on its own). Borrows ae. */
export function jitEncoder(ae: LatentAutoencoder): LatentEncoder {
  const encode = jit((params: Params, x: Array): [Array, Array] => {
    const { mean, logVar } = ae.network.encode(params, x);
    return [mean, logVar];
  }) as unknown as (params: Params, x: Array) => [Array, Array];
  return (x) => {
    const [mean, logVar] = encode(tree.ref(ae.params), x);
    return { mean, logVar };
  };
}

/**
 * One draw z = μ(x) + σ(x) ε, ε ~ N(0, I) from `rng`, per image of `images` (data space, normalised
 * as the autoencoder was trained), `ENCODE_BATCH` at a time; labels kept. A draw rather than μ(x): the
 * latent VDM is the prior p(z) of the bound, which evaluates it on draws of q(z|x), so it models the
 * aggregate posterior E_x q(z|x) (the means alone are narrower by σ). The ε do not depend on where
 * `options.encoder` runs. Borrows ae.
 */
export function encodeImages(ae: LatentAutoencoder, images: PointSet, rng: Rng, options: EncodeOptions = {}): PointSet {
  const { encoder = jitEncoder(ae), onBatch } = options;
  const shape = ae.network.latentShape;
  const dim = shape.reduce((a, b) => a * b, 1);
  const pixels = normalize(images.points, normalizationOf(ae.config));
  const imageShape = ae.config.data.shape ?? [images.dim];
  const points = new Float32Array(images.n * dim);
  for (let start = 0; start < images.n; start += ENCODE_BATCH) {
    const m = Math.min(ENCODE_BATCH, images.n - start);
    const x = np.array(pixels.subarray(start * images.dim, (start + m) * images.dim)).reshape([m, ...imageShape]);
    const z = reparameterize(encoder(x), rng.normal([m, ...shape]));
    points.set(z.dataSync() as Float32Array, start * dim);
    onBatch?.(start + m);
  }
  return { points, n: images.n, dim, shape: [...shape], ...(images.labels ? { labels: images.labels } : {}) };
}

/**
 * The latents of the image split `images` (training images' draws from the stream `seed`, test
 * images' from `seed` + 1); `options.onBatch` hears the images done, training and test together.
 */
export function encodeSplit(ae: LatentAutoencoder, images: Split, seed: number, options: EncodeOptions = {}): Split {
  const { onBatch } = options;
  const encoder = options.encoder ?? jitEncoder(ae);
  const train = encodeImages(ae, images.train, new Rng(seed), { encoder, onBatch });
  const test = encodeImages(ae, images.test, new Rng(seed + 1), {
    encoder,
    onBatch: onBatch && ((done) => onBatch(images.train.n + done)),
  });
  return { train, test };
}

/** Per-channel mean and standard deviation of latents [n, ...spatial, C] (the last axis is the channel). */
export function channelNormalization(set: PointSet): Normalization {
  const C = set.shape?.at(-1) ?? set.dim;
  const sum = new Float64Array(C);
  const squares = new Float64Array(C);
  set.points.forEach((v, i) => {
    sum[i % C]! += v;
    squares[i % C]! += v * v;
  });
  const count = set.points.length / C;
  const mean = [...sum].map((s) => s / count);
  return { mean, std: mean.map((m, c) => Math.sqrt(Math.max(0, squares[c]! / count - m * m)) || 1) };
}

/**
 * The config of a latent run on `latents` (from `encodeSplit`) of the autoencoder read from `source`:
 * `options` over the image defaults, the latent U-Net's sizes (`latentUnetDefaults`) unless given,
 * the normalisation fitted per channel on the training latents, the Gaussian decoder; `dataDir` is
 * where the images were read from.
 */
export function latentRunConfig(source: string, ae: LatentAutoencoder, latents: Split, options: RunOptions, dataDir = ""): RunConfig {
  const { train, test } = latents;
  const z = channelNormalization(train);
  const config = makeRunConfig(
    {
      spec: ae.config.data.spec,
      dim: train.dim,
      mean: z.mean,
      std: z.std,
      train: train.n,
      test: test.n,
      shape: train.shape!,
      ...(dataDir ? { dataDir } : {}),
    },
    {
      ...options,
      unet: {
        base: latentUnetDefaults.base,
        multipliers: [...latentUnetDefaults.multipliers],
        attention: [...latentUnetDefaults.attention],
        ...options.unet,
      },
    },
  );
  return validateRunConfig(
    { ...config, data: { ...config.data, decoder: "gaussian" }, latent: { autoencoder: source, shape: train.shape! } },
    "latent run options",
  );
}

/**
 * The latent run of a run directory's config (undefined for a run on its data): the autoencoder of
 * DIR/autoencoder/ and the decoder of samples.
 */
export function loadLatentRun(dir: string, config: RunConfig): LatentRun | undefined {
  if (!config.latent) return undefined;
  return latentRun(config, loadAutoencoder(join(dir, AUTOENCODER_DIR)));
}

/**
 * The latent run of `config` over the autoencoder `ae`: its decoder of samples
 * x̂(z) = decode(z'·std + mean).mean (the decoder's mean, not a draw of p(x|z)).
 */
export function latentRun(config: RunConfig, ae: LatentAutoencoder): LatentRun {
  const normalization = normalizationOf(config);
  const shape = config.latent?.shape ?? ae.network.latentShape;
  if (shape.join(",") !== ae.network.latentShape.join(","))
    throw new ConfigError(`the run's latent shape [${shape}] is not its autoencoder's [${ae.network.latentShape}]`);
  const std = np.array(normalization.std);
  const mean = np.array(normalization.mean);
  return {
    autoencoder: ae,
    normalization,
    shape,
    decode: (latents) => {
      const decoded = ae.network.decode(tree.ref(ae.params), latents.mul(std.ref).add(mean.ref));
      decoded.gamma.dispose();
      return decoded.mean;
    },
  };
}
