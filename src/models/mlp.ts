/**
 * An MLP denoiser for low-dimensional data: x ⊕ [Fourier features of x] → L hidden layers of
 * width H with SiLU, each receiving a projection of the sinusoidal embedding of t, → D outputs.
 *   emb(t) = [sin(1000 t ω_k), cos(1000 t ω_k)],  ω_k = 10000^{−k/(E/2)}
 *   h_1 = silu(W_in x̃ + b_in + A_1 e),  h_{l+1} = h_l + silu(W_l h_l + b_l + A_{l+1} e),
 *   e = silu(W_e emb(t) + b_e),  output = W_out h_L + b_out.
 */

import { z } from "zod";
import type { Model } from "../diffusion/model.js";
import type { Target } from "../diffusion/parameterization.js";
import { alphaOf } from "../diffusion/shapes.js";
import { Rng } from "../engine/index.js";
import { type Array, numpy as np } from "../engine/jax.js";
import { ConfigError, UnsupportedError } from "../errors.js";
import { silu } from "./activations.js";
import { count, evenWidth, expecting, heads, MAX_DIM, MAX_WIDTH, number, oneOf } from "./fields.js";
import { type Classifier, checkHeads, headClasses, type NetworkKind } from "./kind.js";

/**
 * Shape of the MLP denoiser (or classifier): data dimension `dim`, `layers` hidden layers of
 * width `hidden`, and its time, Fourier-feature and label inputs.
 */
export const mlpSchema = z.object(
  {
    dim: count(MAX_DIM),
    hidden: count(MAX_WIDTH),
    layers: count(1024),
    /** size of the sinusoidal time embedding (even) */
    timeEmbedding: evenWidth(),
    /** number of random Fourier features of the input (0 = none), with frequencies ~ N(0, fourierScale²) */
    fourierFeatures: number({ min: 0, max: MAX_WIDTH, integer: true, what: `a non-negative integer (at most ${MAX_WIDTH})` }),
    fourierScale: number({ what: "a finite number" }),
    /** seed of the (fixed, untrained) Fourier frequencies */
    fourierSeed: number({ min: 0, max: 2 ** 32 - 1, integer: true, what: "an integer in [0, 2^32)" }),
    /**
     * "vp": the network sees x_t; "ve": it sees x_t/α_t = x_0 + σ̃ε, NCSN's unscaled noisy data
     * (with target ε this is NCSN's s_θ(x̃, σ̃) = −ε̂/σ̃ trained by σ̃²-weighted score matching).
     */
    inputScaling: oneOf(["vp", "ve"]).optional(),
    /** outputs of the last layer (default: dim, a denoiser; a classifier has one per class) */
    outputs: heads.outputs,
    /** classes of a conditional model: a learned embedding of the label (or of "no label" = index classes) is added to the time embedding */
    classes: heads.classes,
  },
  expecting("an object"),
);

/** Shape of the MLP denoiser (or classifier); see `mlpSchema`. */
export type MlpConfig = z.infer<typeof mlpSchema>;

/** A dense layer's weights: x W + b with w [in, out] and b [out]. */
export type Dense = { w: Array; b: Array };
/** The MLP's trainable parameters (`initMlp`); H is the hidden width. */
export type MlpParams = {
  embed: Dense;
  input: Dense;
  /** time projections A_l, one per hidden layer */
  time: Array[];
  hidden: Dense[];
  output: Dense;
  /** label embeddings [classes + 1, H] (conditional models only; the last row is "no label") */
  label?: Array;
};

export function dense(rng: Rng, fanIn: number, fanOut: number, scale = 1): Dense {
  return { w: rng.normal([fanIn, fanOut]).mul(scale * Math.sqrt(2 / fanIn)), b: np.zeros([fanOut]) };
}

/** Initial MLP parameters (He-scaled weights, zero biases, a small output layer), float32. */
export function initMlp(config: MlpConfig, rng: Rng): MlpParams {
  const { dim, hidden: H, layers, timeEmbedding: E, fourierFeatures: F } = config;
  if (E % 2 !== 0) throw new ConfigError(`timeEmbedding must be even, got ${E}`);
  const inputDim = dim + 2 * F;
  return {
    embed: dense(rng, E, H),
    input: dense(rng, inputDim, H),
    time: globalThis.Array.from({ length: layers }, () => rng.normal([H, H]).mul(Math.sqrt(1 / H))),
    hidden: globalThis.Array.from({ length: layers - 1 }, () => dense(rng, H, H)),
    output: dense(rng, H, config.outputs ?? dim, 0.1),
    ...(config.classes ? { label: rng.normal([config.classes + 1, H]).mul(0.1) } : {}),
  };
}

/** Sinusoidal embedding of t ([B] in [0, 1]) → [B, E]. */
export function timeEmbedding(t: Array, E: number): Array {
  const half = E / 2;
  const freqs = np.exp(
    np
      .arange(half)
      .astype(np.float32)
      .mul(-Math.log(10000) / half),
  );
  const angles = t
    .mul(1000)
    .reshape([-1, 1])
    .mul(freqs.reshape([1, half]));
  return np.concatenate([np.sin(angles.ref), np.cos(angles)], 1);
}

/** x W + b. */
export function affine(x: Array, layer: Dense): Array {
  return np.matmul(x, layer.w).add(layer.b);
}

/** x ⊕ sin(2π x B) ⊕ cos(2π x B) for fixed frequencies B [D, F]; consumes x and B. */
function fourierFeatures(x: Array, frequencies: Array): Array {
  const proj = np.matmul(x.ref, frequencies).mul(2 * Math.PI);
  return np.concatenate([x, np.sin(proj.ref), np.cos(proj)], 1);
}

/**
 * The network on x [B, D] at t [B] (and labels [B] for a conditional network; absent = "no
 * label"); `frequencies` are the Fourier frequencies (or null). Consumes all.
 */
export function mlpForward(params: MlpParams, x: Array, t: Array, config: MlpConfig, frequencies: Array | null, labels?: Array): Array {
  let e = silu(affine(timeEmbedding(t, config.timeEmbedding), params.embed));
  if (params.label) {
    const ids = labels ?? np.full([x.shape[0]!], config.classes!, { dtype: np.int32 });
    e = e.add(np.take(params.label, ids, 0));
  } else if (labels) {
    throw new UnsupportedError("labels were given to an unconditional model");
  }
  const input = frequencies ? fourierFeatures(x, frequencies) : x;
  const [firstTime, ...restTime] = params.time;
  let h = silu(affine(input, params.input).add(np.matmul(e.ref, firstTime!)));
  params.hidden.forEach((layer, l) => {
    h = h.ref.add(silu(affine(h, layer).add(np.matmul(e.ref, restTime[l]!))));
  });
  e.dispose();
  return affine(h, params.output);
}

/** The MLP's Fourier frequencies B [dim, F] ~ N(0, fourierScale²), drawn from Rng(fourierSeed) (not trained, not stored in checkpoints); null when F = 0. */
export function fourierFrequencies(config: MlpConfig): Array | null {
  const F = config.fourierFeatures;
  return F > 0 ? new Rng(config.fourierSeed).normal([config.dim, F]).mul(config.fourierScale) : null;
}

/** The MLP as a diffusion `Model` predicting `target`; data of any shape [B, ...] (images too) go through it flattened to [B, dim]. */
export function mlpModel(config: MlpConfig, target: Target): Model<MlpParams> {
  const frequencies = fourierFrequencies(config);
  return {
    target,
    classes: config.classes ?? 0,
    // t [1]: the embedding e and its projections A_l e are one row, broadcast over the batch's rows
    sharedTime: true,
    apply(params, xt, t, gamma, labels) {
      // images [B, rows, cols, channels] go through the MLP as flat vectors [B, D] and come back in their shape
      const shape = xt.shape;
      const flat = xt.reshape([shape[0]!, config.dim]);
      const ve = config.inputScaling === "ve";
      if (!ve) gamma.dispose();
      const x = ve ? flat.div(alphaOf(gamma, flat.shape)) : flat;
      return mlpForward(params, x, t, config, frequencies ? frequencies.ref : null, labels).reshape(shape);
    },
  };
}

/** The MLP as a noise-aware classifier (config.outputs = number of classes). */
export function mlpClassifier(config: MlpConfig): Classifier<MlpParams> {
  const frequencies = fourierFrequencies(config);
  if (!config.outputs) throw new ConfigError("a classifier MLP needs config.outputs = number of classes");
  return {
    classes: config.outputs,
    logits(params, xt, t, gamma) {
      gamma.dispose();
      return mlpForward(params, xt, t, config, frequencies ? frequencies.ref : null);
    },
  };
}

/** The MLP's sizes unless a run says otherwise: hidden features, layers, random Fourier features of the input (0: none). */
export const mlpDefaults = { hidden: 128, layers: 3, fourierFeatures: 0 } as const;

/**
 * The MLP's kind: points (any dimension); a denoiser, a conditional denoiser or a noise-aware
 * classifier. Variant "ncsn": VE input scaling on the geometric ladder with the simple loss.
 */
export const mlpKind: NetworkKind<MlpConfig> = {
  schema: mlpSchema,
  objective: "diffusion",
  variants: { ncsn: { options: { inputScaling: "ve" }, schedule: "geometric", loss: "simple", is: (c) => c.inputScaling === "ve" } },
  configure: (target, o) => ({
    dim: target.dim,
    hidden: o.hidden ?? mlpDefaults.hidden,
    layers: o.layers ?? mlpDefaults.layers,
    timeEmbedding: 32,
    fourierFeatures: o.fourierFeatures ?? mlpDefaults.fourierFeatures,
    fourierScale: 1,
    fourierSeed: (o.seed ?? 0) + 1,
    inputScaling: "vp",
    ...(target.outputs ? { outputs: target.outputs } : {}),
    ...(target.classes ? { classes: target.classes } : {}),
  }),
  check(config, run, issue) {
    if (config.dim !== run.dim) issue(`${run.path}.dim`, `must equal data.dim = ${run.dim}`, config.dim);
    checkHeads(config, run, issue);
  },
  init: initMlp,
  model: mlpModel as NetworkKind<MlpConfig>["model"],
  classifier: mlpClassifier as NetworkKind<MlpConfig>["classifier"],
  labelClasses: headClasses,
};
