/**
 * A small convolutional classifier of clean images x [B, H, W, C] (NHWC), the feature network of
 * the sample-quality metrics (eval/quality.ts):
 *
 *   h_0 = x,  h_ℓ = avgPool2(silu(conv3x3(h_{ℓ−1}; W_ℓ, b_ℓ)))   for ℓ = 1..L (channels[ℓ−1] each)
 *   f = silu(W_f flatten(h_L) + b_f)       the features, [B, hidden] (penultimate activations)
 *   logits = W_o f + b_o                   [B, outputs]
 *
 * It has no time or noise-level input: it is trained on data x_0 only (γ = −∞, RunConfig.clean)
 * and is not a noise-aware classifier for guidance. Every function consumes its array arguments.
 */
import { z } from "zod";
import type { Rng } from "../engine/index.js";
import type { Array } from "../engine/jax.js";
import { ConfigError } from "../errors.js";
import { silu } from "./activations.js";
import { count, expecting, imageShape, list, MAX_WIDTH, positiveInt } from "./fields.js";
import { type Classifier, checkImageShape, type NetworkKind } from "./kind.js";
import { avgPool2, conv3x3 } from "./layers.js";
import { affine, type Dense, dense } from "./mlp.js";
import { type Conv, conv } from "./unet.js";

/** Shape of the clean-image CNN classifier: image shape, channels per conv stage, feature width, classes. */
export const cnnSchema = z.object(
  {
    /** image shape [H, W, C]; H and W divisible by 2^(stages) */
    shape: imageShape(),
    /** output channels of each conv3x3 + pool stage */
    channels: list("positive integers", positiveInt(MAX_WIDTH), { maxLength: 8 }),
    /** width of the feature layer */
    hidden: count(MAX_WIDTH),
    /** classes (logits) */
    outputs: count(MAX_WIDTH),
  },
  expecting("an object"),
);

/** Shape of the clean-image CNN classifier; see `cnnSchema`. */
export type CnnConfig = z.infer<typeof cnnSchema>;

/** The CNN classifier's parameters: one conv per stage, the feature layer and the logit layer. */
export type CnnParams = { stages: Conv[]; features: Dense; output: Dense };

/** Checks the shapes a config implies; returns it. */
export function validateCnn(config: CnnConfig): CnnConfig {
  const [H, W] = config.shape;
  const f = 2 ** config.channels.length;
  if (config.channels.length < 1) throw new ConfigError("a CNN needs at least one conv stage (channels)");
  if (H % f || W % f)
    throw new ConfigError(`${config.channels.length} pooling stages need height and width divisible by ${f}, got ${H}×${W}`);
  if (!(config.outputs >= 2)) throw new ConfigError(`a CNN classifier needs at least 2 classes (outputs), got ${config.outputs}`);
  return config;
}

/** Flattened size of h_L: (H/2^L)·(W/2^L)·channels[L−1]. */
const flatSize = (config: CnnConfig) => {
  const f = 2 ** config.channels.length;
  return (config.shape[0] / f) * (config.shape[1] / f) * config.channels.at(-1)!;
};

export function initCnn(config: CnnConfig, rng: Rng): CnnParams {
  validateCnn(config);
  let c = config.shape[2];
  const stages = config.channels.map((out) => {
    const stage = conv(rng, c, out);
    c = out;
    return stage;
  });
  return { stages, features: dense(rng, flatSize(config), config.hidden), output: dense(rng, config.hidden, config.outputs, 0.1) };
}

/** The features f [B, hidden] of x [B, H, W, C] (model coordinates). Consumes both. */
export function cnnFeatures(params: Pick<CnnParams, "stages" | "features">, x: Array): Array {
  let h = x;
  for (const stage of params.stages) h = avgPool2(silu(conv3x3(h, stage.w, stage.b)));
  const B = h.shape[0]!;
  return silu(affine(h.reshape([B, -1]), params.features));
}

/** Logits W_o f + b_o [B, outputs] of features f [B, hidden]. Consumes both. */
export function cnnHead(output: Dense, f: Array): Array {
  return affine(f, output);
}

/** The CNN as a `Classifier` of clean data: t and γ are ignored (the data are x_0). */
export function cnnClassifier(config: CnnConfig): Classifier<CnnParams> {
  validateCnn(config);
  return {
    classes: config.outputs,
    logits(params, x, t, gamma) {
      t.dispose();
      gamma.dispose();
      return cnnHead(params.output, cnnFeatures(params, x));
    },
  };
}

/** The CNN's sizes unless a run says otherwise (read from the U-Net's options): base channels, channel multipliers per stage, dense features. */
export const cnnDefaults = { base: 16, multipliers: [1, 2], hidden: 128 } as const;

/** The CNN's kind: a classifier of clean images only (no noise input, not for guidance). */
export const cnnKind: NetworkKind<CnnConfig> = {
  schema: cnnSchema,
  objective: "diffusion",
  clean: true,
  configure(target, o) {
    if (target.shape?.length !== 3)
      throw new ConfigError(`the CNN needs image data ([rows, cols, channels]); "${target.spec}" has ${target.dim}-D points`);
    if (!target.outputs) throw new ConfigError("the CNN is a classifier of clean images, not a denoiser");
    const base = o.unet?.base ?? cnnDefaults.base;
    return {
      shape: target.shape as [number, number, number],
      channels: (o.unet?.multipliers ?? cnnDefaults.multipliers).map((m) => base * m),
      hidden: o.hidden ?? cnnDefaults.hidden,
      outputs: target.outputs,
    };
  },
  check(config, run, issue) {
    if (run.task !== "classifier") issue("task", `must be "classifier" for a cnn model (the CNN classifies clean images)`, run.task);
    checkImageShape(config.shape, run, issue);
  },
  init: initCnn,
  classifier: cnnClassifier as NetworkKind<CnnConfig>["classifier"],
  labelClasses: (config) => config.outputs,
};
