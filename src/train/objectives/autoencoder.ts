/**
 * An autoencoder's objective: per example the VAE's −ELBO with the KL weighted by β (β-VAE),
 *
 *   L(x) = −log p(x|z) + β KL(q(z|x) ‖ N(0, I)),   z = μ(x) + σ(x) ε,  ε ~ N(0, I),
 *
 * with p(x|z) the run's data decoder at x̂(z) and γ ("discretized" for 8-bit images, so the first
 * term is in the image's own nats). β = 1 is the ELBO itself; a small β keeps latents near N(0, I)
 * in scale while the reconstruction dominates, as latent diffusion's first stage wants.
 */

import { type DecoderKind, decoderLogLikelihood } from "../../diffusion/decoder.js";
import { type DiagonalGaussian, gaussianKl, reparameterize, standardNormalLike } from "../../diffusion/gaussian.js";
import type { Params } from "../../engine/index.js";
import { type Array, numpy as np, tree } from "../../engine/jax.js";
import type { Autoencoder } from "../../models/kind.js";
import { meanObjective, type Objective } from "./objective.js";

/** The two parts of an autoencoder's −ELBO per example, in nats ([B] each). */
export interface AutoencoderTerms {
  /** −log p(x|z) at z = μ + σ ε */
  reconstruction: Array;
  /** KL(q(z|x) ‖ N(0, I)) in closed form */
  kl: Array;
}

/**
 * −log p(x|z) at the reparameterised z = μ(x) + σ(x) ε, and KL(q(z|x) ‖ N(0, I)), per example.
 * Consumes params, x [B, ...data shape] and ε [B, ...latent shape].
 */
export function autoencoderTerms(ae: Autoencoder, decoder: DecoderKind, params: Params, x: Array, eps: Array): AutoencoderTerms {
  return encodedTerms(ae, decoder, params, x, ae.encode(tree.ref(params), x.ref), eps);
}

/** `autoencoderTerms` for x's encoding q = q(z|x), already computed. Consumes params, x, q and ε. */
export function encodedTerms(
  ae: Autoencoder,
  decoder: DecoderKind,
  params: Params,
  x: Array,
  q: DiagonalGaussian,
  eps: Array,
): AutoencoderTerms {
  const z = reparameterize({ mean: q.mean.ref, logVar: q.logVar.ref }, eps);
  const kl = gaussianKl(q, standardNormalLike(z.ref));
  const { mean, gamma } = ae.decode(params, z);
  return { reconstruction: np.negative(decoderLogLikelihood(decoder, x, mean, gamma)), kl };
}

/** L(x) = −log p(x|z) + β KL(q(z|x) ‖ N(0, I)) per example ([B]). Consumes params, x and ε. */
export function autoencoderLoss(ae: Autoencoder, decoder: DecoderKind, beta: number, params: Params, x: Array, eps: Array): Array {
  const { reconstruction, kl } = autoencoderTerms(ae, decoder, params, x, eps);
  return reconstruction.add(kl.mul(beta));
}

/** The batch mean of L over the batch's x_0 and ε (its levels, γ table and labels unused), with β = ae.klWeight (absent: 1, the ELBO). */
export function autoencoderObjective(ae: Autoencoder, decoder: DecoderKind): Objective {
  const beta = ae.klWeight ?? 1;
  return meanObjective((params, b) => {
    tree.dispose([b.u, b.table, b.labels]);
    return autoencoderLoss(ae, decoder, beta, params, b.x0, b.eps);
  });
}
