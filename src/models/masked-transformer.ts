/**
 * Masked diffusion's network: Diffusion-LM's transformer trunk (transformer.ts) on one-hot tokens
 * z [B, L, V + 1] of a vocabulary of V words and [MASK] = id V, without a time input (how many
 * tokens are masked says how noisy z is; masked/denoiser.ts):
 *
 *   h      = z W_in + b_in + P + Y[y]                 (P: learned positions [L, W]; Y [classes + 1, W]:
 *                                                      a conditional denoiser's labels, row `classes` = "no label")
 *   h      ← the trunk's pre-LN layers, LN(h)
 *   logits = LN(h) W_out + b_out  [B, L, V]           (no [MASK] logit)   or   mean_ℓ LN(h)_ℓ W_out + b_out  [B, outputs]
 *
 * Tokens and labels enter as one-hot products (never gathers: jit compiles no scatter gradient).
 * The config is Diffusion-LM's (`transformerSchema`): `embedDim` is the width (the rows of W_in are
 * the tokens' embeddings), `timeEmbedding` is unused.
 */

import type { Rng } from "../engine/index.js";
import { type Array, nn, numpy as np, tree } from "../engine/jax.js";
import { ConfigError } from "../errors.js";
import type { MaskedClassifier, MaskedDenoiser } from "../masked/denoiser.js";
import { maskingScheduleNames } from "../masked/schedule.js";
import { checkHeads, headClasses, type NetworkKind } from "./kind.js";
import { affine, type Dense, dense } from "./mlp.js";
import { initTrunk, type TextNetConfig, type TrunkParams, transformerSchema, trunkLayers, validateTextNet } from "./transformer.js";

/** The masked network's parameters: W_in [V + 1, W], positions [L, W], label rows [classes + 1, W] (conditional denoisers), the trunk, the output layer. */
export type MaskedParams = TrunkParams & { input: Dense; position: Array; label?: Array; output: Dense };

/** Initial parameters: W_in He-scaled, positions ~ 0.1·N(0, 1), label rows ~ 0.1·N(0, 1), the output layer at scale 0.1. */
export function initMaskedNet(config: TextNetConfig, rng: Rng): MaskedParams {
  validateTextNet(config);
  const { length: L, width: W } = config;
  const V = config.words.length;
  const classes = config.outputs ? 0 : (config.classes ?? 0);
  return {
    input: dense(rng, V + 1, W),
    position: rng.normal([L, W]).mul(0.1),
    ...(classes > 0 ? { label: rng.normal([classes + 1, W]).mul(0.1) } : {}),
    ...initTrunk(rng, W, config.layers),
    output: dense(rng, W, config.outputs ?? V, 0.1),
  };
}

/** The trunk's features LN(h) [B, L, W] of one-hot z [B, L, V + 1] (and labels [B] for a conditional denoiser). Consumes all. */
function maskedTrunk(params: MaskedParams, z: Array, labels: Array | undefined, config: TextNetConfig): { h: Array; output: Dense } {
  const [B, L, V1] = z.shape as [number, number, number];
  const W = config.width;
  if (params.label && !labels) {
    tree.dispose([params, z]);
    throw new ConfigError("a conditional masked denoiser needs labels (its class count means no label)");
  }
  if (!params.label && labels) {
    tree.dispose([params, z, labels]);
    throw new ConfigError("labels were given to an unconditional masked denoiser");
  }
  let h = affine(z.reshape([B * L, V1]), params.input)
    .reshape([B, L, W])
    .add(params.position.reshape([1, L, W]));
  if (params.label && labels) {
    const rows = params.label.shape[0]!;
    h = h.add(np.matmul(nn.oneHot(labels.astype(np.int32), rows), params.label).reshape([B, 1, W]));
  }
  return { h: trunkLayers(params, h, config.heads), output: params.output };
}

/** The network as a masked denoiser: logits [B, L, V] of p_θ(x_ℓ | z). */
export function maskedDenoiser(config: TextNetConfig): MaskedDenoiser<MaskedParams> {
  validateTextNet(config);
  if (config.outputs) throw new ConfigError("this masked network is a classifier, not a denoiser");
  const V = config.words.length;
  return {
    vocabulary: V,
    classes: config.classes ?? 0,
    logits(params, z, labels) {
      const [B, L] = z.shape as [number, number];
      const { h, output } = maskedTrunk(params, z, labels, config);
      return affine(h.reshape([B * L, config.width]), output).reshape([B, L, V]);
    },
  };
}

/** The network as a noise-aware classifier of partly masked z: logits [B, outputs] from the mean over positions. */
export function maskedClassifier(config: TextNetConfig): MaskedClassifier<MaskedParams> & { vocabulary: number } {
  validateTextNet(config);
  if (!config.outputs) throw new ConfigError("a masked classifier needs outputs = its number of classes");
  return {
    classes: config.outputs,
    vocabulary: config.words.length,
    logits(params, z) {
      const { h, output } = maskedTrunk(params, z, undefined, config);
      return affine(np.mean(h, 1), output);
    },
  };
}

/**
 * The masked-diffusion kind: a denoiser of token ids [length] trained by the masked bound (its noise:
 * one normal per token, made into the masking uniforms), or a noise-aware classifier of masked
 * tokens. Its runs are made by text/config.ts; a masking schedule only.
 */
export const maskedTransformerKind: NetworkKind<TextNetConfig> = {
  schema: transformerSchema,
  objective: "masked",
  classifierObjective: "masked-classifier",
  check(config, run, issue) {
    checkHeads(config, run, issue);
    if (run.dim !== config.length) issue("data.dim", `must be ${config.length} (the token ids of a sentence)`, run.dim);
    if (run.schedule !== undefined && !maskingScheduleNames.includes(run.schedule))
      issue("schedule", `must be a masking schedule (${maskingScheduleNames.join(", ")})`, run.schedule);
  },
  init: initMaskedNet,
  maskedDenoiser: maskedDenoiser as NetworkKind<TextNetConfig>["maskedDenoiser"],
  maskedClassifier: maskedClassifier as NetworkKind<TextNetConfig>["maskedClassifier"],
  labelClasses: headClasses,
  noiseShape: (config) => [config.length],
};
