/**
 * Evaluate a denoiser on held-out data: bits/dim with the three ELBO terms (in data space, so
 * the normalisation's Jacobian is included), and the energy distance between fresh samples and
 * the held-out points next to the same distance between two independent data samples (the
 * noise floor: what a perfect model would score at this sample size).
 */

import { denormalize, identityNormalization, logDetJacobian, type Normalization, normalize } from "../data/normalize.js";
import { exampleShape, type PointSet, subset } from "../data/sets.js";
import { isToy, toyData } from "../data/toy.js";
import type { DecoderKind } from "../diffusion/decoder.js";
import { ElboEstimator, type ElboMode, type ElboTerms, summarizeElbo } from "../diffusion/elbo.js";
import type { DiffusionProcess } from "../diffusion/process.js";
import { Rng } from "../engine/index.js";
import { numpy as np } from "../engine/jax.js";
import { defaultSampler } from "../sample/by-name.js";
import type { Denoiser, SampleOptions, Sampler } from "../sample/sampler.js";
import type { LatentSampling } from "../train/latent.js";
import { energyDistance } from "./energy.js";
import { meanAndStdError } from "./likelihood.js";

/** −ELBO on held-out data in data space: nats per example, bits/dim, and the three terms in nats. */
export interface HeldOutElbo {
  bpd: number;
  nats: number;
  /** the standard error of `nats` over the held-out examples (and the estimate's own noise) */
  stdError: number;
  terms: { reconstruction: number; prior: number; diffusion: number };
  /**
   * the variance of the one-draw estimate of an example's diffusion term (one t, one ε: what a
   * training step averages over its batch), averaged over examples; absent when the terms were summed exactly
   */
  diffusionVariance?: number;
}

/** The result of `evaluate`: the held-out −ELBO, the samples, and their energy distance to the test set with its noise floor. */
export interface Evaluation extends HeldOutElbo {
  energyDistance: number;
  /** energy distance between the held-out points and an independent data sample of the same size as the samples */
  noiseFloor: number;
  samples: Float32Array;
}

/**
 * n data points independent of the held-out ones, for the noise floor: fresh draws of a built-in
 * set, or the first n training points of a file.
 */
export function referenceSample(spec: string, train: PointSet, n: number, seed: number): PointSet {
  if (isToy(spec)) return toyData(spec, n, new Rng(seed + 2));
  return subset(
    train,
    Array.from({ length: Math.min(train.n, n) }, (_, i) => i),
  );
}

/** How evaluation splits its work into batches. */
export interface BatchOptions {
  /** examples per network call (bounds memory: activations grow with the batch; default: all at once) */
  batch?: number;
  /** called after each batch with the number of examples done (default: none) */
  onBatch?: (done: number) => void;
}

/** One denoiser for every batch, or one made for examples start..start+m−1 (e.g. holding their labels). */
export type BatchDenoiser = Denoiser | ((start: number, m: number) => Denoiser);

/** Options of `drawSamples`: what to draw, how many, from which stream and sampler, in which batches. */
export interface DrawSamplesOptions extends BatchOptions, SampleOptions {
  /** the shape of one example, e.g. [2] for points or [28, 28, 1] for images (required) */
  shape: number[];
  /** how many examples to draw (default 1000) */
  n?: number;
  /** the normalisation the model was trained in (`normalizationOf(config)`, `run.normalization`), undone on the samples (default: none, samples in the model's coordinates) */
  normalization?: Normalization;
  /** the random stream (default `new Rng(0)`) */
  rng?: Rng;
  /** the sampler (default `defaultSampler(process)`, what the CLI samples with: DPM-Solver++ 2M on 20 levels) */
  sampler?: Sampler;
  /** a latent model's latents and decoder: the sampler runs in `latent.shape` and each batch is decoded to `shape` (default: none, samples are the data) */
  latent?: LatentSampling;
}

/**
 * Samples in data space: draw n examples of `shape` in normalised space (ancestral sampling by
 * default), `batch` at a time, then map back through the normalisation. A latent model's sampler
 * draws latents instead, which its decoder maps to normalised data x̂(z).
 */
export function drawSamples(den: BatchDenoiser, process: DiffusionProcess, options: DrawSamplesOptions): Float32Array {
  const { shape, n = 1000, rng = new Rng(0), sampler = defaultSampler(process), batch = n, onBatch, onStep } = options;
  const dim = shape.reduce((a, b) => a * b, 1);
  const z = options.normalization ?? identityNormalization(dim);
  const out = new Float32Array(n * dim);
  for (let start = 0; start < n; start += batch) {
    const m = Math.min(batch, n - start);
    const { latent } = options;
    const x = sampler.sample(typeof den === "function" ? den(start, m) : den, [m, ...(latent?.shape ?? shape)], rng, { onStep });
    out.set((latent ? latent.decode(x) : x).dataSync() as Float32Array, start * dim);
    onBatch?.(start + m);
  }
  return denormalize(out, z);
}

/** Options of `heldOutElbo`: the data's normalisation, the random stream, the decoder, t-draws per example and batching. */
export interface ElboEvalOptions extends BatchOptions {
  /** the normalisation the model was trained in (`normalizationOf(config)`, `run.normalization`): the test points are normalised and its log-Jacobian added (default: none, the test points are in the model's coordinates) */
  normalization?: Normalization;
  /** the random stream for the draws over t and ε (default `new Rng(0)`) */
  rng?: Rng;
  /** the decoder p(x | z_0): "gaussian" or "discretized" for 8-bit data (default "gaussian") */
  decoder?: DecoderKind;
  /** draws over t per example when the sum over t is estimated (long or continuous chains; default 64) */
  samples?: number;
}

/** How held-out ELBOs sum over t: exactly for short chains (T ≤ 100), an unbiased estimate over t otherwise. */
export const elboMode = (process: DiffusionProcess): ElboMode => (process.T > 0 && process.T <= 100 ? "exact" : "mc");

/**
 * The three ELBO terms on held-out data, per example, in batches. With the Gaussian decoder the
 * density lives in normalised coordinates and the normalisation's Jacobian brings it back
 * (log p(x) = log p(x') + log|∂x'/∂x|); the discretised decoder is already a probability mass
 * on the 8-bit grid, so its bits/dim are the published kind.
 */
export function heldOutElbo(den: Denoiser, process: DiffusionProcess, test: PointSet, options: ElboEvalOptions = {}): HeldOutElbo {
  const {
    normalization: z = identityNormalization(test.dim),
    rng = new Rng(0),
    decoder = "gaussian",
    batch = test.n,
    samples = 64,
    onBatch,
  } = options;
  const shape = exampleShape(test);
  const normalized = normalize(test.points, z);
  const estimator = new ElboEstimator(den.model, process, decoder);
  const mode = elboMode(process);
  const all: ElboTerms = { reconstruction: new Float64Array(test.n), prior: new Float64Array(test.n), diffusion: new Float64Array(test.n) };
  const variances = new Float64Array(test.n);
  for (let start = 0; start < test.n; start += batch) {
    const m = Math.min(batch, test.n - start);
    const x0 = np.array(normalized.subarray(start * test.dim, (start + m) * test.dim)).reshape([m, ...shape]);
    const terms = estimator.terms(den.params, x0, rng, { mode, samples });
    x0.dispose();
    for (const key of ["reconstruction", "prior", "diffusion"] as const) all[key].set(terms[key], start);
    if (terms.diffusionVariance) variances.set(terms.diffusionVariance, start);
    onBatch?.(start + m);
  }
  const summary = summarizeElbo(all, test.dim);
  const jacobian = decoder === "gaussian" ? logDetJacobian(z) : 0;
  const nats = summary.nats - jacobian;
  const { se } = meanAndStdError(all.reconstruction.map((r, b) => r + all.prior[b]! + all.diffusion[b]!));
  const sampled = mode === "mc" && samples >= 2;
  return {
    bpd: nats / (test.dim * Math.LN2),
    nats,
    stdError: se,
    terms: { ...summary.terms, reconstruction: summary.terms.reconstruction - jacobian },
    ...(sampled ? { diffusionVariance: meanAndStdError(variances).mean } : {}),
  };
}

/** How `evaluate` batches its two phases (and reports their progress). */
export interface EvaluationBatches {
  /** the held-out ELBO's batches and progress (default: one batch, no progress) */
  elbo?: BatchOptions;
  /** the samples' batches and progress (default: one batch, no progress) */
  samples?: BatchOptions;
}

/** Options of `evaluate`: the noise floor's reference sample, the data's normalisation, the random stream, how many samples, the sampler and the batches. */
export interface EvaluateOptions {
  /** an independent data sample of n points, for the noise floor: the energy distance between it and `test` at the samples' size (required) */
  reference: PointSet;
  /** the normalisation the model was trained in, for both the ELBO and the samples (default: none) */
  normalization?: Normalization;
  /** the random stream, used by the ELBO and then the samples (default `new Rng(0)`) */
  rng?: Rng;
  /** how many samples to draw (default 1000) */
  n?: number;
  /** the sampler (default `defaultSampler(process)`, as `drawSamples`) */
  sampler?: Sampler;
  /** how the ELBO and the samples are batched, with progress (default: one batch each) */
  batches?: EvaluationBatches;
}

/** The held-out −ELBO (`heldOutElbo`), n fresh samples (`drawSamples`) and their energy distance to `test`, with the noise floor. */
export function evaluate(den: Denoiser, process: DiffusionProcess, test: PointSet, options: EvaluateOptions): Evaluation {
  const { reference, normalization, rng = new Rng(0), n = 1000, sampler, batches = {} } = options;
  const D = test.dim;
  const elbo = heldOutElbo(den, process, test, { normalization, rng, ...batches.elbo });
  const samples = drawSamples(den, process, { shape: exampleShape(test), n, normalization, rng, sampler, ...batches.samples });
  return {
    ...elbo,
    energyDistance: energyDistance(samples, test.points, D),
    noiseFloor: energyDistance(reference.points, test.points, D),
    samples,
  };
}
