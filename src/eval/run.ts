/**
 * Evaluate a denoiser on held-out data: bits/dim with the three ELBO terms (in data space, so
 * the normalisation's Jacobian is included), and the energy distance between fresh samples and
 * the held-out points next to the same distance between two independent data samples (the
 * noise floor: what a perfect model would score at this sample size).
 */
import { Rng } from "../engine/index.js";
import { subset } from "../data/sets.js";
import { exampleShape, isToy, toyData } from "../data/toy.js";
import { numpy as np } from "../engine/jax.js";
import type { DecoderKind } from "../diffusion/decoder.js";
import { meanAndStdError } from "./likelihood.js";
import { ElboEstimator, summarizeElbo, type ElboTerms } from "../diffusion/elbo.js";
import type { DiffusionProcess } from "../diffusion/process.js";
import type { PointSet } from "../data/toy.js";
import { denormalize, logDetJacobian, normalize, type Normalization } from "../data/normalize.js";
import { AncestralSampler } from "../sample/ancestral.js";
import type { Denoiser, SampleOptions, Sampler } from "../sample/sampler.js";
import { energyDistance } from "./energy.js";

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
  return subset(train, Array.from({ length: Math.min(train.n, n) }, (_, i) => i));
}

/** How evaluation splits its work into batches. */
export interface BatchOptions {
  /** examples per network call (bounds memory: activations grow with the batch) */
  batch?: number;
  /** called after each batch with the number of examples done */
  onBatch?: (done: number) => void;
}

/** One denoiser for every batch, or one made for examples start..start+m−1 (e.g. holding their labels). */
export type BatchDenoiser = Denoiser | ((start: number, m: number) => Denoiser);

/**
 * Samples in data space: draw n examples of `shape` in normalised space (ancestral sampling by
 * default), `batch` at a time, then map back.
 */
export function drawSamples(den: BatchDenoiser, process: DiffusionProcess, z: Normalization, shape: number[], n: number, rng: Rng, sampler: Sampler = new AncestralSampler(process), { batch = n, onBatch, onStep }: BatchOptions & SampleOptions = {}): Float32Array {
  const dim = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n * dim);
  for (let start = 0; start < n; start += batch) {
    const m = Math.min(batch, n - start);
    const x = sampler.sample(typeof den === "function" ? den(start, m) : den, [m, ...shape], rng, { onStep });
    out.set(x.dataSync() as Float32Array, start * dim);
    onBatch?.(start + m);
  }
  return denormalize(out, z);
}

/** Options of `heldOutElbo`: batching, the decoder (default "gaussian") and t-draws per example (default 64). */
export interface ElboEvalOptions extends BatchOptions {
  decoder?: DecoderKind;
  /** draws over t per example when the sum over t is estimated (long or continuous chains) */
  samples?: number;
}

/**
 * The three ELBO terms on held-out data, per example, in batches. With the Gaussian decoder the
 * density lives in normalised coordinates and the normalisation's Jacobian brings it back
 * (log p(x) = log p(x') + log|∂x'/∂x|); the discretised decoder is already a probability mass
 * on the 8-bit grid, so its bits/dim are the published kind.
 */
export function heldOutElbo(den: Denoiser, process: DiffusionProcess, z: Normalization, test: PointSet, rng: Rng, { decoder = "gaussian", batch = test.n, samples = 64, onBatch }: ElboEvalOptions = {}): HeldOutElbo {
  const shape = exampleShape(test);
  const normalized = normalize(test.points, z);
  const estimator = new ElboEstimator(den.model, process, decoder);
  // exact sum over t for short chains; an unbiased estimate over t otherwise
  const mode = process.T > 0 && process.T <= 100 ? "exact" : "mc";
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
  elbo?: BatchOptions;
  samples?: BatchOptions;
}

/** `reference` should hold n points, so that the noise floor is measured at the samples' size. */
export function evaluate(den: Denoiser, process: DiffusionProcess, z: Normalization, test: PointSet, reference: PointSet, rng: Rng, n = 1000, sampler?: Sampler, batches: EvaluationBatches = {}): Evaluation {
  const D = test.dim;
  const elbo = heldOutElbo(den, process, z, test, rng, batches.elbo);
  const samples = drawSamples(den, process, z, exampleShape(test), n, rng, sampler, batches.samples);
  return {
    ...elbo,
    energyDistance: energyDistance(samples, test.points, D),
    noiseFloor: energyDistance(reference.points, test.points, D),
    samples,
  };
}
