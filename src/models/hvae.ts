/**
 * A Markovian HVAE (hvae/elbo.ts) whose encoders q_φ(z_t | z_{t−1}) and decoders p_θ(z_{t−1} | z_t)
 * are MLPs, every latent as large as the data (dim D; images flattened):
 *   h_1 = silu(z W_1 + b_1),  h_{l+1} = silu(h_l W_{l+1} + b_{l+1}),  [μ, log σ²] = h_L W_out + b_out   (W_out: [H, 2D])
 * For 8-bit images a learned scalar γ scores x with the discretised decoder (`discretizedReconstruction`).
 */

import { z } from "zod";
import type { DecoderKind } from "../diffusion/decoder.js";
import type { Rng } from "../engine/index.js";
import { type Array, numpy as np } from "../engine/jax.js";
import { ConfigError } from "../errors.js";
import { discretizedReconstruction, type GaussianLayer, type HvaeNetwork, type MarkovianHvae } from "../hvae/elbo.js";
import { silu } from "./activations.js";
import { count, expecting, imageShape, MAX_DIM, MAX_WIDTH } from "./fields.js";
import { checkImageShape, type NetworkKind } from "./kind.js";
import { affine, type Dense, dense, mlpDefaults } from "./mlp.js";

/** The shape of an MLP HVAE: data (and latent) dimension, levels T, hidden width H and layers L per Gaussian; images give their shape. */
export const hvaeSchema = z.object(
  {
    dim: count(MAX_DIM),
    levels: count(1024),
    hidden: count(MAX_WIDTH),
    layers: count(1024),
    /** image shape [H, W, C] (8-bit images: x is scored by the discretised decoder with a learned γ) */
    shape: imageShape().optional(),
  },
  expecting("an object"),
);

/** The shape of an MLP HVAE; see `hvaeSchema`. */
export type HvaeConfig = z.infer<typeof hvaeSchema>;

/** One conditional Gaussian's MLP: L hidden layers and the (μ, log σ²) head. */
export type GaussianMlpParams = { hidden: Dense[]; output: Dense };

/**
 * encoders[t − 1] parameterises q_φ(z_t | z_{t−1}), decoders[t − 1] p_θ(z_{t−1} | z_t), t = 1..T;
 * gamma [1], the discretised decoder's log-variance (images only).
 */
export type HvaeParams = { encoders: GaussianMlpParams[]; decoders: GaussianMlpParams[]; gamma?: Array };

/** The discretised decoder's starting γ: σ = e^{γ/2} ≈ 0.14 (the [−1, 1] scale), about what a small MLP decoder reconstructs to: Adam moves γ by about the learning rate per step, so it must start near where it ends. */
export const HVAE_INITIAL_GAMMA = -4;

/** He-scaled hidden weights, zero biases, a small head (so every μ ≈ 0 and log σ² ≈ 0 at the start), float32; encoders first, then decoders. */
export function initHvae(config: HvaeConfig, rng: Rng): HvaeParams {
  const { dim: D, levels: T, hidden: H, layers: L } = config;
  const layer = (): GaussianMlpParams => ({
    hidden: globalThis.Array.from({ length: L }, (_, l) => dense(rng, l === 0 ? D : H, H)),
    output: dense(rng, H, 2 * D, 0.1),
  });
  const encoders = globalThis.Array.from({ length: T }, layer);
  const decoders = globalThis.Array.from({ length: T }, layer);
  return { encoders, decoders, ...(config.shape ? { gamma: np.full([1], HVAE_INITIAL_GAMMA) } : {}) };
}

/** z ↦ (μ, log σ²) by the MLP above, z and both parts [B, D]. Borrows the parameters (the caller disposes them); consumes z. */
export function gaussianMlp(p: GaussianMlpParams): GaussianLayer {
  return (input: Array) => {
    const h = p.hidden.reduce((x, layer) => silu(affine(x, { w: layer.w.ref, b: layer.b.ref })), input);
    const out = affine(h, { w: p.output.w.ref, b: p.output.b.ref });
    const D = out.shape[1]! / 2;
    return { mean: out.ref.slice([], [0, D]), logVar: out.slice([], [D, 2 * D]) };
  };
}

/**
 * The hierarchy of `params` scored by `decoder`: "gaussian", the bottom decoder's N(μ, diag σ²) (its
 * variance learned with it); "discretized", x̂ = its mean and the learned γ. Borrows the parameters.
 */
export function hvaeOf(params: HvaeParams, decoder: DecoderKind): MarkovianHvae {
  const layers = { encoders: params.encoders.map(gaussianMlp), decoders: params.decoders.map(gaussianMlp) };
  if (decoder === "gaussian") return layers;
  if (!params.gamma) throw new ConfigError('an HVAE scored by the "discretized" decoder needs its γ: a config with the image shape');
  return { ...layers, reconstruction: discretizedReconstruction(params.gamma) };
}

/** The HVAE's levels unless a run says otherwise (its widths are the MLP's). */
export const hvaeDefaults = { levels: 4 } as const;

/** The HVAE's kind: points or images (flattened), T levels of MLP Gaussians, trained by the "hvae" objective (its −ELBO). */
export const hvaeKind: NetworkKind<HvaeConfig> = {
  schema: hvaeSchema,
  objective: "hvae",
  configure: (target, o) => {
    if (target.outputs || target.classes) throw new ConfigError("a hierarchical VAE is unconditional: it takes no labels");
    return {
      dim: target.dim,
      levels: o.levels ?? hvaeDefaults.levels,
      hidden: o.hidden ?? mlpDefaults.hidden,
      layers: o.layers ?? mlpDefaults.layers,
      ...(target.shape ? { shape: target.shape as [number, number, number] } : {}),
    };
  },
  check(config, run, issue) {
    if (config.dim !== run.dim) issue(`${run.path}.dim`, `must equal data.dim = ${run.dim}`, config.dim);
    if (run.task !== "denoiser") issue(`${run.path}`, "is a generative model, not a classifier", "hvae");
    if (config.shape) checkImageShape(config.shape, run, issue);
  },
  init: initHvae,
  hvae: (config): HvaeNetwork => ({
    levels: config.levels,
    dim: config.dim,
    build: (params, decoder) => hvaeOf(params as HvaeParams, decoder),
  }),
  labelClasses: () => 0,
  noiseShape: (config) => [config.levels, config.dim],
};
