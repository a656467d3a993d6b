/**
 * Evaluate a denoiser on held-out data: bits/dim with the three ELBO terms (in data space, so
 * the normalisation's Jacobian is included), and the energy distance between fresh samples and
 * the held-out points next to the same distance between two independent data samples (the
 * noise floor: what a perfect model would score at this sample size).
 */
import { Rng } from "../engine/index.js";
import { isToy, subset } from "../data/index.js";
import { toyData } from "../data/toy.js";
import { numpy as np } from "../engine/jax.js";
import { ElboEstimator, summarizeElbo } from "../diffusion/elbo.js";
import type { DiffusionProcess } from "../diffusion/process.js";
import type { PointSet } from "../data/toy.js";
import { denormalize, logDetJacobian, normalize, type Normalization } from "../data/normalize.js";
import { AncestralSampler } from "../sample/ancestral.js";
import type { Denoiser, Sampler } from "../sample/sampler.js";
import { energyDistance } from "./energy.js";

export interface Evaluation {
  bpd: number;
  nats: number;
  terms: { reconstruction: number; prior: number; diffusion: number };
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

/** Samples in data space: draw in normalised space (ancestral sampling by default), then map back. */
export function drawSamples(den: Denoiser, process: DiffusionProcess, z: Normalization, n: number, rng: Rng, sampler: Sampler = new AncestralSampler(process)): Float32Array {
  const x = sampler.sample(den, [n, z.mean.length], rng);
  return denormalize(x.dataSync() as Float32Array, z);
}

/** `reference` should hold n points, so that the noise floor is measured at the samples' size. */
export function evaluate(den: Denoiser, process: DiffusionProcess, z: Normalization, test: PointSet, reference: PointSet, rng: Rng, n = 1000, sampler?: Sampler): Evaluation {
  const D = test.dim;
  const x0 = np.array(normalize(test.points, z)).reshape([test.n, D]);
  const estimator = new ElboEstimator(den.model, process, "gaussian");
  // exact sum over t for short chains; an unbiased 64-draw estimate over t otherwise
  const mode = process.T > 0 && process.T <= 100 ? "exact" : "mc";
  const summary = summarizeElbo(estimator.terms(den.params, x0, rng, { mode, samples: 64 }), D);
  x0.dispose();
  // the reconstruction density is in normalised coordinates: log p(x) = log p(x') + log|∂x'/∂x|
  const reconstruction = summary.terms.reconstruction - logDetJacobian(z);
  const nats = summary.nats - logDetJacobian(z);
  const samples = drawSamples(den, process, z, n, rng, sampler);
  return {
    bpd: nats / (D * Math.LN2),
    nats,
    terms: { ...summary.terms, reconstruction },
    energyDistance: energyDistance(samples, test.points, D),
    noiseFloor: energyDistance(reference.points, test.points, D),
    samples,
  };
}
