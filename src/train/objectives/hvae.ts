/**
 * A Markovian hierarchical VAE's objective: the batch mean of the per-example −ELBO
 * (`markovianHvaeElbo`) on one path z_t = μ_φ(z_{t−1}) + σ_φ(z_{t−1}) ε_t, with the batch's noise
 * [B, T, D] as ε_1..ε_T and the run's data decoder scoring x.
 */

import type { DecoderKind } from "../../diffusion/decoder.js";
import type { Params } from "../../engine/index.js";
import { type Array, tree } from "../../engine/jax.js";
import { type HvaeNetwork, hvaeNegativeElbo, markovianHvaeElbo } from "../../hvae/elbo.js";
import { type Batch, meanObjective, type Objective } from "./objective.js";

/** ε [B, T, D] → [ε_1, …, ε_T], each [B, D]. Consumes eps. */
export function levelNoise(eps: Array, levels: number): Array[] {
  const [B, , D] = eps.shape as [number, number, number];
  const draws = globalThis.Array.from({ length: levels }, (_, t) => eps.ref.slice([], [t, t + 1]).reshape([B, D]));
  eps.dispose();
  return draws;
}

/**
 * −ELBO(x) per example [B] for the batch's x_0 (flattened to [B, D]) and noise (`levelNoise`);
 * the batch's levels, γ table and labels are not used. Borrows params; consumes the batch.
 */
export function hvaeLoss(network: HvaeNetwork, decoder: DecoderKind, params: Params, b: Batch): Array {
  tree.dispose([b.u, b.table, b.labels]);
  const x = b.x0.reshape([b.x0.shape[0]!, network.dim]);
  return hvaeNegativeElbo(markovianHvaeElbo(network.build(params, decoder), x, levelNoise(b.eps, network.levels)));
}

/** The objective of `network` scored by `decoder`: the batch mean of `hvaeLoss`, its gradient and the batch variance. */
export function hvaeObjective(network: HvaeNetwork, decoder: DecoderKind): Objective {
  return meanObjective((params, b) => {
    const loss = hvaeLoss(network, decoder, params, b);
    tree.dispose(params);
    return loss;
  });
}
