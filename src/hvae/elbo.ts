/**
 * The ELBO of a Markovian hierarchical VAE (Luo 2022, eqs. 37–45) with T latent levels z_1..z_T,
 * learned encoders q_φ(z_t | z_{t−1}) and decoders p_θ(z_{t−1} | z_t) (z_0 = x), and the prior
 * p(z_T) = N(0, I):
 *
 *   −ELBO = E_q[−log p_θ(x|z_1)] + Σ_{t=1}^{T−1} E_q[log q_φ(z_t|z_{t−1}) − log p_θ(z_t|z_{t+1})] + E_q[log q_φ(z_T|z_{T−1}) − log p(z_T)]
 *             reconstruction              consistency (one per level t < T)                       prior matching
 *
 * with q = q_φ(z_1|x) q_φ(z_2|z_1)…q_φ(z_T|z_{T−1}). Unlike a VDM's, the encoders are learned, so there
 * is no tractable q(z_t | z_{t+1}, x) to rewrite the consistency terms as KLs in one latent: each
 * needs the three latents z_{t−1}, z_t, z_{t+1} of one path (see `markovianHvaeElbo`).
 */
import { type DecoderKind, discretizedLogLikelihood } from "../diffusion/decoder.js";
import { type ElboSummary, summarizeElbo } from "../diffusion/elbo.js";
import { type DiagonalGaussian, gaussianKl, gaussianLogDensity, reparameterize, standardNormalLike } from "../diffusion/gaussian.js";
import type { Params } from "../engine/index.js";
import { type Array, numpy as np } from "../engine/jax.js";
import { ShapeError } from "../errors.js";

/** A conditional diagonal Gaussian: z ↦ (μ(z), log σ²(z)), any network. Consumes z. */
export type GaussianLayer = (z: Array) => DiagonalGaussian;

/** The T levels of a Markovian HVAE; T = `encoders.length` = `decoders.length` ≥ 1. */
export interface MarkovianHvae {
  /** encoders[t − 1] = q_φ(z_t | z_{t−1}) for t = 1..T (z_0 = x) */
  encoders: GaussianLayer[];
  /** decoders[t − 1] = p_θ(z_{t−1} | z_t) for t = 1..T (so decoders[0] = p_θ(x | z_1)) */
  decoders: GaussianLayer[];
  /**
   * log p_θ(x | z_1) [B] from the bottom decoder's output `decoders[0](z_1)` (default: its Gaussian
   * log-density, `gaussianLogDensity`); e.g. `discretizedReconstruction`. Consumes both.
   */
  reconstruction?: (x: Array, bottom: DiagonalGaussian) => Array;
}

/**
 * A Markovian HVAE's layers for its parameters, scored by a run's data decoder: what a network kind
 * declares (`NetworkKind.hvae`). x and every latent are [B, dim].
 */
export interface HvaeNetwork {
  /** T, the number of latent levels */
  readonly levels: number;
  /** the dimension of x and of every latent */
  readonly dim: number;
  /** The hierarchy of `params` with the data decoder `decoder`. Borrows the parameters: dispose them after its last use. */
  build(params: Params, decoder: DecoderKind): MarkovianHvae;
}

/**
 * The discretised 8-bit decoder of the pixel VDM (`discretizedLogLikelihood`) as an HVAE's
 * reconstruction: p(x = x_k | z_1) = softmax_k(−½ e^{−γ} (x̂ − x_k)²) with x̂ the bottom decoder's
 * mean and γ a learned scalar ([1], borrowed), the same for every example; the decoder's own
 * log-variance is not used. So bits/dim are a probability mass's, as the pixel VDM's.
 */
export function discretizedReconstruction(gamma: Array): (x: Array, bottom: DiagonalGaussian) => Array {
  return (x, bottom) => {
    bottom.logVar.dispose();
    return discretizedLogLikelihood(x, bottom.mean, gamma.ref.mul(np.ones([x.shape[0]!])));
  };
}

/** The −ELBO's terms per example ([B] each), as costs in nats. */
export interface HvaeElboTerms<A> {
  /** −log p_θ(x | z_1) */
  reconstruction: A;
  /** consistency[t − 1] = log q_φ(z_t | z_{t−1}) − log p_θ(z_t | z_{t+1}) for t = 1..T−1 (empty for T = 1) */
  consistency: A[];
  /** KL(q_φ(z_T | z_{T−1}) ‖ N(0, I)) */
  prior: A;
}

/**
 * The −ELBO's terms for one sample path z_t = μ_φ(z_{t−1}) + σ_φ(z_{t−1}) ε_t (`eps[t − 1]` = ε_t, each
 * [B, ...] of level t's shape), per example in nats; their sum is the −ELBO's estimate. Which parts
 * are Monte Carlo and which analytic:
 * - reconstruction −log p_θ(x|z_1): single-sample Monte Carlo at the path's z_1;
 * - consistency, t = 1..T−1: single-sample Monte Carlo, both log-densities at the path's z_{t−1}, z_t,
 *   z_{t+1}. The analytic KL(q_φ(z_t|z_{t−1}) ‖ p_θ(z_t|z_{t+1})) given z_{t−1} and z_{t+1} would take
 *   z_t independent of z_{t+1}, but under q z_{t+1} is drawn from z_t: its expectation is not the −ELBO
 *   (as the VDM's "consistency-kl" estimator, `ElboEstimator.chainEstimates`). These terms are not KLs:
 *   one may be negative, only their sum with the prior term is bounded below;
 * - prior: analytic in z_T given the path's z_{T−1}. Its integrand depends on z_{T−1} and z_T alone,
 *   so E_q[log q_φ(z_T|z_{T−1}) − log p(z_T)] = E_q KL(q_φ(z_T|z_{T−1}) ‖ N(0, I)): the same
 *   expectation with less variance. z_T still feeds the consistency term of level T − 1.
 * For T = 1 this is the VAE's reconstruction + KL(q_φ(z_1|x) ‖ N(0, I)). Differentiable in the layers'
 * parameters through the reparameterised draws. Consumes x and eps.
 */
export function markovianHvaeElbo(hvae: MarkovianHvae, x: Array, eps: Array[]): HvaeElboTerms<Array> {
  const T = hvae.encoders.length;
  if (T < 1 || hvae.decoders.length !== T || eps.length !== T) {
    throw new ShapeError(
      `a Markovian HVAE needs T >= 1 encoders, T decoders and T noise draws, got ${T}, ${hvae.decoders.length}, ${eps.length}`,
    );
  }
  // the path z_0 = x, z_1, …, z_T and the encoders' q_φ(z_t | z_{t−1}) (posteriors[t − 1])
  const path = [x];
  const posteriors: DiagonalGaussian[] = [];
  for (let t = 1; t <= T; t++) {
    const q = hvae.encoders[t - 1]!(path[t - 1]!.ref);
    posteriors.push(q);
    path.push(reparameterize({ mean: q.mean.ref, logVar: q.logVar.ref }, eps[t - 1]!));
  }
  const bottom = hvae.decoders[0]!(path[1]!.ref);
  const logLikelihood = hvae.reconstruction ? hvae.reconstruction(path[0]!, bottom) : gaussianLogDensity(path[0]!, bottom);
  const reconstruction = np.negative(logLikelihood);
  const consistency: Array[] = [];
  for (let t = 1; t < T; t++) {
    const z = path[t]!;
    const logQ = gaussianLogDensity(z.ref, posteriors[t - 1]!);
    const logP = gaussianLogDensity(z, hvae.decoders[t]!(path[t + 1]!.ref));
    consistency.push(logQ.sub(logP));
  }
  path[T]!.dispose();
  const top = posteriors[T - 1]!;
  const prior = gaussianKl(top, standardNormalLike(top.mean.ref));
  return { reconstruction, consistency, prior };
}

/** The −ELBO's estimate per example, reconstruction + Σ_t consistency_t + prior ([B]). Consumes the terms. */
export function hvaeNegativeElbo(terms: HvaeElboTerms<Array>): Array {
  return terms.consistency.reduce((sum, c) => sum.add(c), terms.reconstruction.add(terms.prior));
}

/** Batch means of `HvaeElboTerms`: the VDM's `ElboSummary` and each consistency term's mean. */
export interface HvaeElboSummary extends ElboSummary {
  /** consistency[t − 1]: the mean of level t's consistency term, in nats and in bits/dim */
  consistency: { nats: number; bpd: number }[];
}

/**
 * Means over examples, the total −ELBO in nats and bits/dim = nats/(D ln 2) for data of `dims`
 * dimensions, by `summarizeElbo`: the consistency terms' sum takes the place of the VDM's diffusion
 * term, so the two tables line up. Nats are in the space the model sees; as for a VDM, a caller adds
 * the data normalisation's −log|det| (`logDetJacobian`) to get data-space nats.
 */
export function summarizeHvaeElbo(terms: HvaeElboTerms<Float64Array>, dims: number): HvaeElboSummary {
  const levelSum = terms.reconstruction.map((_, b) => terms.consistency.reduce((s, level) => s + level[b]!, 0));
  const summary = summarizeElbo({ reconstruction: terms.reconstruction, prior: terms.prior, diffusion: levelSum }, dims);
  const consistency = terms.consistency.map((level) => {
    const { nats, bpd } = summarizeElbo(
      { reconstruction: level, prior: new Float64Array(level.length), diffusion: new Float64Array(level.length) },
      dims,
    );
    return { nats, bpd };
  });
  return { ...summary, consistency };
}
