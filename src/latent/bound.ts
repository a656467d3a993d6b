/**
 * The likelihood bound of a latent diffusion model, in nats and bits/dim of the data x (not of the
 * latent z). With an encoder q(z|x) = N(μ(x), diag σ²(x)), a decoder p(x|z) and a latent model whose
 * −log p(z) is bounded by `priorCost` (the latent VDM's −ELBO, or its −log-likelihood through the ODE),
 *
 *   −log p(x) ≤ E_q[−log p(x|z)] + E_q[log q(z|x)] + E_q[−log p(z)]
 *                 reconstruction      encoder          prior
 *
 * and, with K draws z_k ~ q(z|x), the importance-weighted bound (Burda et al. 2016)
 *
 *   −log p(x) ≤ −log (1/K) Σ_k p(x|z_k) p(z_k) / q(z_k|x),
 *
 * which falls (in expectation) towards −log p(x) as K grows; K = 1 is the first bound's one-draw estimate.
 * log q(z_k|x) is evaluated at the draw (not replaced by the entropy's closed form), so that with the
 * exact posterior as the encoder every draw gives −log p(x) exactly.
 */

import { type DecoderKind, decoderLogLikelihood } from "../diffusion/decoder.js";
import type { DiagonalGaussian } from "../diffusion/gaussian.js";
import { sumDims } from "../diffusion/shapes.js";
import type { Rng } from "../engine/index.js";
import { type Array, numpy as np } from "../engine/jax.js";
import { ShapeError } from "../errors.js";

/** The decoder's p(x|z) for a batch: centred on `mean` ([B, ...data shape]) with variance e^{gamma} ([B]), as the ELBO's decoders. */
export interface LatentDecoding {
  mean: Array;
  gamma: Array;
}

/** The decoder p(x|z) and the latent model's bound on −log p(z), the two networks the bound evaluates. */
export interface LatentBoundModel {
  /** how p(x|z) scores x: "discretized" (8-bit images, a probability mass) or "gaussian" (a density), as `decoderLogLikelihood` */
  decoder: DecoderKind;
  /** x̂(z) and γ of p(x|z) = decoder(x; x̂(z), e^γ). Consumes z. */
  decode: (z: Array) => LatentDecoding;
  /** an upper bound on (or the exact value of) −log p(z) per example, [B]. Consumes z. */
  priorCost: (z: Array) => Array;
}

/** Per-example costs in nats, each averaged over the K draws z_k ~ q(z|x) (the first three sum to the bound's estimate). */
export interface LatentBoundTerms {
  /** (1/K) Σ_k −log p(x|z_k) */
  reconstruction: Float64Array;
  /** (1/K) Σ_k log q(z_k|x): minus the encoder's entropy, in expectation */
  encoder: Float64Array;
  /** (1/K) Σ_k −log p(z_k), from `priorCost` */
  prior: Float64Array;
  /** −log (1/K) Σ_k exp(log p(x|z_k) + log p(z_k) − log q(z_k|x)), by log-sum-exp */
  importanceWeighted: Float64Array;
}

const read = (a: Array) => Float64Array.from(a.dataSync() as Float32Array | Float64Array);

/** −log (1/K) Σ_k e^{w_k} for log-weights w_k, shifted by their maximum so no term over- or underflows. */
export function negativeLogMeanExp(logWeights: Float64Array): number {
  const max = Math.max(...logWeights);
  if (max === Number.NEGATIVE_INFINITY || max === Number.POSITIVE_INFINITY) return -max;
  const sum = logWeights.reduce((s, w) => s + Math.exp(w - max), 0);
  return -(max + Math.log(sum / logWeights.length));
}

/**
 * `LatentBoundTerms` for each example of x ([B, ...data shape]) from `samples` = K draws
 * z_k = μ + σ ε_k, ε_k ~ N(0, I) from `rng` (one `rng.normal` of the latent shape per draw, in order),
 * with log q(z_k|x) = −½ Σ_d (ε_{k,d}² + log σ_d² + log 2π). Borrows x; consumes the encoding.
 */
export function latentBoundTerms(x: Array, encoding: DiagonalGaussian, model: LatentBoundModel, rng: Rng, samples = 1): LatentBoundTerms {
  const { mean, logVar } = encoding;
  if (!Number.isInteger(samples) || samples < 1) throw new ShapeError(`the bound needs samples >= 1 draws, got ${samples}`);
  if (mean.shape[0] !== x.shape[0] || mean.shape.join(",") !== logVar.shape.join(",")) {
    throw new ShapeError(`encoding [${mean.shape}] / [${logVar.shape}] does not match a batch of ${x.shape[0]}`);
  }
  const batch = x.shape[0]!;
  const std = np.exp(logVar.ref.mul(0.5));
  // Σ_d (log σ_d² + log 2π): the part of −2 log q(z|x) shared by every draw
  const logNormalizer = read(sumDims(logVar.add(Math.log(2 * Math.PI))));
  const reconstruction = new Float64Array(batch);
  const encoder = new Float64Array(batch);
  const prior = new Float64Array(batch);
  // log w_{b,k} = log p(x_b|z_k) + log p(z_k) − log q(z_k|x_b) at b·K + k
  const logWeights = new Float64Array(batch * samples);
  for (let k = 0; k < samples; k++) {
    const eps = rng.normal(mean.shape).astype(mean.dtype);
    const z = mean.ref.add(std.ref.mul(eps.ref));
    const logQ = read(sumDims(np.square(eps))).map((s, b) => -0.5 * (s + logNormalizer[b]!));
    const priorCost = read(model.priorCost(z.ref));
    const decoding = model.decode(z);
    const logPx = read(decoderLogLikelihood(model.decoder, x.ref, decoding.mean, decoding.gamma));
    for (let b = 0; b < batch; b++) {
      reconstruction[b]! -= logPx[b]! / samples;
      encoder[b]! += logQ[b]! / samples;
      prior[b]! += priorCost[b]! / samples;
      logWeights[b * samples + k] = logPx[b]! - priorCost[b]! - logQ[b]!;
    }
  }
  mean.dispose();
  std.dispose();
  return {
    reconstruction,
    encoder,
    prior,
    importanceWeighted: reconstruction.map((_, b) => negativeLogMeanExp(logWeights.subarray(b * samples, (b + 1) * samples))),
  };
}

/** Batch means in data-space nats and bits/dim: the bound, its three parts, and the importance-weighted bound. */
export interface LatentBoundSummary {
  nats: number;
  bpd: number;
  terms: { reconstruction: number; encoder: number; prior: number };
  termsBpd: { reconstruction: number; encoder: number; prior: number };
  importanceWeighted: { nats: number; bpd: number };
}

/**
 * Batch means of `terms` for data of `dims` dimensions, bits/dim = nats/(D ln 2). The data's
 * normalisation x' = (x − mean)/std enters as the pixel model's bits/dim does (`evaluateElbo`): for the
 * "gaussian" decoder, a density in normalised space, `logDetJacobian` = log |det ∂x'/∂x| (from
 * data/normalize.ts's `logDetJacobian(z, D)`) is subtracted from the reconstruction term and the totals;
 * the "discretized" decoder is a probability mass over the 8-bit values, which no rescaling changes.
 */
export function summarizeLatentBound(terms: LatentBoundTerms, dims: number, decoder: DecoderKind, logDetJacobian = 0): LatentBoundSummary {
  const mean = (a: Float64Array) => a.reduce((s, v) => s + v, 0) / a.length;
  const jacobian = decoder === "gaussian" ? logDetJacobian : 0;
  const toBpd = (nats: number) => nats / (dims * Math.LN2);
  const t = { reconstruction: mean(terms.reconstruction) - jacobian, encoder: mean(terms.encoder), prior: mean(terms.prior) };
  const nats = t.reconstruction + t.encoder + t.prior;
  const iw = mean(terms.importanceWeighted) - jacobian;
  return {
    nats,
    bpd: toBpd(nats),
    terms: t,
    termsBpd: { reconstruction: toBpd(t.reconstruction), encoder: toBpd(t.encoder), prior: toBpd(t.prior) },
    importanceWeighted: { nats: iw, bpd: toBpd(iw) },
  };
}
