/**
 * What a network kind declares, once, next to its network (mlp.ts, unet.ts, cnn.ts,
 * transformer.ts): its config's schema, how that config is made from a user's options and the
 * data, its initial parameters, its forwards (denoiser and/or classifier), the classes its labels
 * range over, its noise's shape and the objective that trains it. The table of kinds is kinds.ts;
 * training, checkpoints, ONNX and the command line read it. ONNX export traces a kind's denoiser
 * forward (onnx/export.ts knows no network), so a kind declares nothing of its own for it.
 */

import type { z } from "zod";
import type { DiagonalGaussian } from "../diffusion/gaussian.js";
import type { Model } from "../diffusion/model.js";
import type { Target } from "../diffusion/parameterization.js";
import type { Params, Rng } from "../engine/index.js";
import type { Array, JsTree } from "../engine/jax.js";
import type { HvaeNetwork } from "../hvae/elbo.js";
import type { LatentDecoding } from "../latent/bound.js";
import type { MaskedClassifier, MaskedDenoiser } from "../masked/denoiser.js";

/** A classifier of masked tokens that says its vocabulary's size V (its one-hot inputs have V + 1 rows). */
export type VocabularyClassifier = MaskedClassifier & { readonly vocabulary: number };

/** A noise-aware classifier: logits [B, classes] of p_φ(y | x_t, t). */
export interface Classifier<P extends JsTree<Array> = JsTree<Array>> {
  readonly classes: number;
  /** Consumes every argument, as Model.apply. */
  logits(params: P, xt: Array, t: Array, gamma: Array): Array;
}

/**
 * An autoencoder: the encoder q_φ(z|x) = N(μ(x), diag e^{logVar(x)}) and the decoder p_θ(x|z), whose
 * mean x̂(z) and log-variance γ score x as the run's data decoder does ("discretized" for 8-bit images),
 * so that a latent model's bound is in the data's bits/dim (latent/bound.ts).
 */
export interface Autoencoder<P extends JsTree<Array> = JsTree<Array>> {
  /** one latent's shape, e.g. [rows, cols, channels] */
  readonly latentShape: number[];
  /** β, the weight of KL(q(z|x) ‖ N(0, I)) in its training loss −log p(x|z) + β KL (absent: 1, the ELBO) */
  readonly klWeight?: number;
  /** q(z|x) for normalised data x [B, ...data shape], each part [B, ...latentShape]. Consumes both arguments. */
  encode(params: P, x: Array): DiagonalGaussian;
  /** p(x|z) for z [B, ...latentShape]: x̂(z) [B, ...data shape] and γ [B]. Consumes both arguments. */
  decode(params: P, z: Array): LatentDecoding;
}

/**
 * The objectives train/ knows, by name: VDM's denoising losses, Diffusion-LM's (x_0 holds token ids), an autoencoder's −ELBO with a KL weight, a hierarchical VAE's −ELBO,
 * masked diffusion's bound (x_0 holds token ids) and its noise-aware classifier's cross-entropy.
 */
export type ObjectiveName = "diffusion" | "diffusion-lm" | "autoencoder" | "hvae" | "masked" | "masked-classifier";

/** U-Net options a user may set; the rest are defaults. The CNN reads base and multipliers too (stage ℓ: base·multipliers[ℓ] channels). */
export interface UNetOptions {
  /** channels of the first stage (default 32; the CNN: 16) */
  base?: number;
  /** each stage's channels as multiples of `base` (default [1, 2, 2]; the CNN: [1, 2]) */
  multipliers?: number[];
  /** the stages with self-attention (default [2]) */
  attention?: number[];
}

/** The network options a user may set (`RunOptions` holds them); a kind reads those it has. */
export interface NetworkOptions {
  /** the MLP's hidden width (default 128; also the CNN classifier's) */
  hidden?: number;
  /** the MLP's hidden layers (default 3) */
  layers?: number;
  /** a hierarchical VAE's latent levels T (default 4) */
  levels?: number;
  /** random Fourier features of the MLP's input (default 0: none) */
  fourierFeatures?: number;
  /** the run's seed: initial parameters, batches and noise, the MLP's Fourier frequencies from seed + 1 (default 0) */
  seed?: number;
  /** the U-Net's (and CNN's) channels and attention (default: see `UNetOptions`); the autoencoder reads `base` */
  unet?: UNetOptions;
  /** the autoencoder's latent shape [rows, cols, channels] (default [rows/4, cols/4, 4]) and KL weight β (default 1e−3) */
  autoencoder?: { latent?: number[]; klWeight?: number };
}

/** What a kind's config is made for: the data (`shape` for images: [rows, cols, channels]) and the run's task. */
export interface NetworkTarget {
  spec: string;
  dim: number;
  shape?: number[];
  /** a classifier's classes (absent: a denoiser) */
  outputs?: number;
  /** a conditional denoiser's classes */
  classes?: number;
}

/** A variant of a kind that a user names as an architecture of its own ("ncsn": the MLP with VE input scaling). */
export interface NetworkVariant<C> {
  /** the options it sets on the kind */
  options: Partial<C>;
  /** the run's defaults it changes: schedule and loss */
  schedule?: string;
  loss?: "simple" | "elbo";
  /** whether a config is this variant's */
  is(config: C): boolean;
}

/** Reports a problem found by a kind's cross-field check: the field (a dotted path from the run config's root), what it must be, the value. */
export type ConfigIssue = (field: string, what: string, got: unknown) => void;

/** A network kind: one entry of `networkKinds`, declared next to its network. */
export interface NetworkKind<C> {
  /** the schema of its config, config.json's `model[kind]` */
  readonly schema: z.ZodType<C>;
  /** the objective that trains its denoiser (train/'s table) */
  readonly objective: ObjectiveName;
  /** the objective that trains its classifier (absent: the noise-aware cross-entropy on the run's diffusion process) */
  readonly classifierObjective?: ObjectiveName;
  /** a classifier of clean data only (γ = −∞), no noise input */
  readonly clean?: boolean;
  /** variants a user names as architectures */
  readonly variants?: Readonly<Record<string, NetworkVariant<C>>>;
  /**
   * Its config for `target`'s data and task with the user's `options` (its defaults filled in);
   * throws `ConfigError` for data or a task it cannot take. Absent: the kind's runs are made by
   * their own domain (text/config.ts).
   */
  configure?(target: NetworkTarget, options: NetworkOptions): C;
  /** Checks across the run (`path`: where the config sits, "model.<kind>"): its data's dimension and task. */
  check?(config: C, run: { dim: number; task: "denoiser" | "classifier"; path: string; schedule?: string }, issue: ConfigIssue): void;
  /** Fresh parameters (the order of draws is the network's). */
  init(config: C, rng: Rng): Params;
  /** The denoiser predicting `target` (absent: a classifier only). */
  model?(config: C, target: Target): Model;
  /** The noise-aware (or clean) classifier (absent: a denoiser only). */
  classifier?(config: C): Classifier;
  /** The masked-diffusion denoiser (absent: not one). */
  maskedDenoiser?(config: C): MaskedDenoiser;
  /** The noise-aware classifier of masked tokens, with V, the words of its vocabulary (absent: not one). */
  maskedClassifier?(config: C): VocabularyClassifier;
  /** The autoencoder (absent: not an autoencoder). */
  autoencoder?(config: C): Autoencoder;
  /** The Markovian hierarchical VAE: its levels for given parameters (absent: not one). */
  hvae?(config: C): HvaeNetwork;
  /** Classes the labels range over: a conditional denoiser's, or a classifier's outputs (0 if unlabelled). */
  labelClasses(config: C): number;
  /** A denoiser's noise shape per example when it is not the data's (text: [length, embedDim], its data are token ids). */
  noiseShape?(config: C): number[];
}

/** A denoiser's or classifier's classes from its label heads. */
export function headClasses(config: { classes?: number; outputs?: number }): number {
  return config.classes ?? config.outputs ?? 0;
}

/** A classifier's config must say its number of classes (`outputs`). */
export function checkHeads(config: { outputs?: number }, run: { task: string; path: string }, issue: ConfigIssue): void {
  if (run.task === "classifier" && config.outputs === undefined)
    issue(`${run.path}.outputs`, "is missing (a classifier's number of classes)", undefined);
}

/** An image network's shape [rows, cols, channels] must hold the data's dimension. */
export function checkImageShape(shape: number[], run: { dim: number; path: string }, issue: ConfigIssue): void {
  if (shape.reduce((a, b) => a * b, 1) !== run.dim) issue(`${run.path}.shape`, `must hold data.dim = ${run.dim} values`, shape);
}
