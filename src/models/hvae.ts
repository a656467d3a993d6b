/**
 * A Markovian HVAE (hvae/elbo.ts) whose encoders q_φ(z_t | z_{t−1}) and decoders p_θ(z_{t−1} | z_t)
 * are small MLPs, every latent as large as the data (dim D):
 *   h_1 = silu(z W_1 + b_1),  h_2 = silu(h_1 W_2 + b_2),  [μ, log σ²] = h_2 W_3 + b_3   (W_3: [H, 2D])
 */

import type { Rng } from "../engine/index.js";
import type { Array } from "../engine/jax.js";
import { ConfigError } from "../errors.js";
import type { GaussianLayer, MarkovianHvae } from "../hvae/elbo.js";
import { silu } from "./activations.js";
import { affine, type Dense, dense } from "./mlp.js";

/** The shape of an MLP HVAE: data (and latent) dimension, levels T and hidden width H. */
export interface HvaeMlpConfig {
  dim: number;
  levels: number;
  hidden: number;
}

/** One conditional Gaussian's MLP: two hidden layers and the (μ, log σ²) head. */
export type GaussianMlpParams = { input: Dense; hidden: Dense; output: Dense };

/** encoders[t − 1] parameterises q_φ(z_t | z_{t−1}), decoders[t − 1] p_θ(z_{t−1} | z_t), t = 1..T. */
export type HvaeMlpParams = { encoders: GaussianMlpParams[]; decoders: GaussianMlpParams[] };

/** He-scaled hidden weights, zero biases, a small head (so every μ ≈ 0 and log σ² ≈ 0 at the start), float32. */
export function initHvaeMlp(config: HvaeMlpConfig, rng: Rng): HvaeMlpParams {
  const { dim: D, levels: T, hidden: H } = config;
  if (!(Number.isInteger(T) && T >= 1 && Number.isInteger(D) && D >= 1 && Number.isInteger(H) && H >= 1)) {
    throw new ConfigError(`an MLP HVAE needs integer dim, levels and hidden >= 1, got ${D}, ${T}, ${H}`);
  }
  const layer = (): GaussianMlpParams => ({ input: dense(rng, D, H), hidden: dense(rng, H, H), output: dense(rng, H, 2 * D, 0.1) });
  return { encoders: globalThis.Array.from({ length: T }, layer), decoders: globalThis.Array.from({ length: T }, layer) };
}

/** z ↦ (μ, log σ²) by the MLP above. Borrows the parameters (the caller disposes them); consumes z. */
export function gaussianMlp(p: GaussianMlpParams): GaussianLayer {
  return (z: Array) => {
    const h1 = silu(affine(z, { w: p.input.w.ref, b: p.input.b.ref }));
    const h2 = silu(affine(h1, { w: p.hidden.w.ref, b: p.hidden.b.ref }));
    const out = affine(h2, { w: p.output.w.ref, b: p.output.b.ref });
    const D = out.shape[1]! / 2;
    return { mean: out.ref.slice([], [0, D]), logVar: out.slice([], [D, 2 * D]) };
  };
}

/** The Markovian HVAE of `params`. Borrows the parameters: dispose them after its last use. */
export function hvaeOfMlp(params: HvaeMlpParams): MarkovianHvae {
  return { encoders: params.encoders.map(gaussianMlp), decoders: params.decoders.map(gaussianMlp) };
}
