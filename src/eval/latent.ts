/**
 * The likelihood bound of a latent diffusion model on held-out images, in the images' bits/dim
 * (latent/bound.ts): reconstruction E_q[−log p(x|z)], encoder E_q[log q(z|x)] and prior
 * E_q[−log p(z)], each with its standard error over the images, and the importance-weighted bound
 * with K draws. The prior is the latent VDM's −ELBO on z' = (z − mean)/std, the latents in its
 * normalised coordinates, plus the normalisation's −log |det ∂z'/∂z| = Σ log std, so that it bounds
 * −log p(z) of the unnormalised latent the decoder reads.
 */

import { logDetJacobian, normalize } from "../data/normalize.js";
import { exampleShape, type PointSet } from "../data/sets.js";
import { ElboEstimator } from "../diffusion/elbo.js";
import type { DiffusionProcess } from "../diffusion/process.js";
import { Rng } from "../engine/index.js";
import { type Array as JaxArray, numpy as np, tree } from "../engine/jax.js";
import { type LatentBoundModel, latentBoundTerms, summarizeLatentBound } from "../latent/bound.js";
import type { Denoiser } from "../sample/sampler.js";
import { normalizationOf } from "../train/build.js";
import type { LatentRun } from "../train/latent.js";
import { meanAndStdError } from "./likelihood.js";
import { type BatchOptions, elboMode } from "./run.js";

/** Options of `heldOutLatentBound`: the random streams, the draws per image and batching. */
export interface LatentBoundOptions extends BatchOptions {
  /** the stream of the latent ELBO's draws of t and ε (default `new Rng(0)`) */
  rng?: Rng;
  /** the stream of the draws z_k ~ q(z|x) (default `new Rng(1)`) */
  encoderRng?: Rng;
  /** draws of t per latent in the latent ELBO (default 16) */
  elboSamples?: number;
  /** K, the draws z_k ~ q(z|x) per image of the importance-weighted bound (default 1) */
  iwSamples?: number;
}

/** A number in nats and bits/dim, each with its standard error over the images. */
export interface BoundValue {
  nats: number;
  natsStdError: number;
  bpd: number;
  bpdStdError: number;
}

/** The latent bound on held-out images: the bound and its three parts, and the importance-weighted bound with K draws. */
export interface LatentBoundReport extends BoundValue {
  terms: { reconstruction: BoundValue; encoder: BoundValue; prior: BoundValue };
  importanceWeighted: BoundValue & { samples: number };
}

/**
 * The latent VDM's bound on −log p(z) per example ([B]) for unnormalised latents z: its −ELBO
 * (reconstruction + prior + diffusion terms, `samples` draws of t) on z' = (z − mean)/std, plus
 * Σ_d log std_d. Consumes z; borrows the denoiser's parameters for as long as the function is used.
 */
export function latentPriorCost(den: Denoiser, process: DiffusionProcess, latent: LatentRun, rng: Rng, samples: number) {
  const estimator = new ElboEstimator(den.model, process, "gaussian");
  const { mean, std } = latent.normalization;
  return (z: JaxArray): JaxArray => {
    const dim = z.size / z.shape[0]!;
    const shift = np.array(mean, { dtype: z.dtype });
    const scale = np.array(std, { dtype: z.dtype });
    const normalized = z.sub(shift).div(scale);
    const t = estimator.terms(den.params, normalized.ref, rng, { mode: elboMode(process), samples });
    normalized.dispose();
    const jacobian = logDetJacobian(latent.normalization, dim);
    return np.array(
      Array.from(t.reconstruction, (r, b) => r + t.prior[b]! + t.diffusion[b]! - jacobian),
      { dtype: z.dtype },
    );
  };
}

/** `nats` with the standard error of the mean of `perImage` (the same values, before any constant shift), and in bits/dim of `dims` dimensions. */
function boundValue(nats: number, perImage: Float64Array, dims: number): BoundValue {
  const { se } = meanAndStdError(perImage);
  const perBit = dims * Math.LN2;
  return { nats, natsStdError: se, bpd: nats / perBit, bpdStdError: se / perBit };
}

/**
 * The latent bound of `den` (the latent VDM on `process`) over `latent`'s autoencoder on the test
 * images (data space, normalised here as the autoencoder was trained), `batch` images at a time.
 * Each image's parts average K = `iwSamples` draws z_k ~ q(z|x); the importance-weighted bound is
 * −log (1/K) Σ_k p(x|z_k) p(z_k)/q(z_k|x). A Gaussian image decoder's density is brought to data
 * space by the image normalisation's log-det (summarizeLatentBound); the discretised one needs none.
 */
export function heldOutLatentBound(
  den: Denoiser,
  process: DiffusionProcess,
  latent: LatentRun,
  test: PointSet,
  options: LatentBoundOptions = {},
): LatentBoundReport {
  const { rng = new Rng(0), encoderRng = new Rng(1), elboSamples = 16, iwSamples = 1, batch = test.n, onBatch } = options;
  const ae = latent.autoencoder;
  const imageNormalization = normalizationOf(ae.config);
  const decoder = ae.config.data.decoder ?? "discretized";
  const model: LatentBoundModel = {
    decoder,
    decode: (z) => ae.network.decode(tree.ref(ae.params), z),
    priorCost: latentPriorCost(den, process, latent, rng, elboSamples),
  };
  const pixels = normalize(test.points, imageNormalization);
  const all = { reconstruction: new Float64Array(test.n), encoder: new Float64Array(test.n), prior: new Float64Array(test.n) };
  const iw = new Float64Array(test.n);
  for (let start = 0; start < test.n; start += batch) {
    const m = Math.min(batch, test.n - start);
    const x = np.array(pixels.subarray(start * test.dim, (start + m) * test.dim)).reshape([m, ...exampleShape(test)]);
    const terms = latentBoundTerms(x, ae.network.encode(tree.ref(ae.params), x.ref), model, encoderRng, iwSamples);
    x.dispose();
    for (const key of ["reconstruction", "encoder", "prior"] as const) all[key].set(terms[key], start);
    iw.set(terms.importanceWeighted, start);
    onBatch?.(start + m);
  }
  const D = test.dim;
  const summary = summarizeLatentBound({ ...all, importanceWeighted: iw }, D, decoder, logDetJacobian(imageNormalization, D));
  const total = all.reconstruction.map((r, b) => r + all.encoder[b]! + all.prior[b]!);
  return {
    ...boundValue(summary.nats, total, D),
    terms: {
      reconstruction: boundValue(summary.terms.reconstruction, all.reconstruction, D),
      encoder: boundValue(summary.terms.encoder, all.encoder, D),
      prior: boundValue(summary.terms.prior, all.prior, D),
    },
    importanceWeighted: { ...boundValue(summary.importanceWeighted.nats, iw, D), samples: iwSamples },
  };
}
