/**
 * A run's configuration — what `config.json` holds — with per-dataset defaults, and how to
 * rebuild the model, process and data normalisation from it.
 */
import type { Rng } from "../engine/index.js";
import type { Array, JsTree } from "../engine/jax.js";
import { DiffusionProcess, type Weighting } from "../diffusion/process.js";
import type { DecoderKind } from "../diffusion/decoder.js";
import type { Target } from "../diffusion/parameterization.js";
import type { Model } from "../diffusion/model.js";
import { initMlp, mlpClassifier, mlpModel, type Classifier, type MlpConfig } from "../models/mlp.js";
import { initUNet, unetClassifier, unetModel, type UNetConfig } from "../models/unet.js";
import { cnnClassifier, initCnn, type CnnConfig } from "../models/cnn.js";
import { getSchedule } from "../schedule/index.js";
import { exampleShape } from "../data/toy.js";
import type { Normalization } from "../data/normalize.js";
import { defaultAdam, type AdamConfig } from "./adam.js";

export interface RunConfig {
  format: "vdm-run-1";
  /** what is trained: a denoiser (default) or a noise-aware classifier p_φ(y | x_t, t) */
  task?: "denoiser" | "classifier";
  /**
   * a classifier of clean data x_0 only (γ = −∞ in training and use; not noise-aware): the CNN,
   * the feature network of the sample-quality metrics
   */
  clean?: boolean;
  /** probability of dropping a label to "no label" while training a conditional denoiser */
  cfgDropout?: number;
  data: {
    /** built-in name or file path */
    spec: string;
    dim: number;
    /** x_normalised = (x − mean)/std, per dimension */
    mean: number[];
    std: number[];
    train: number;
    test: number;
    /** the CSV column holding labels, if any */
    labelColumn?: string;
    /** one example's shape when not a flat vector (images: [rows, cols, channels]) */
    shape?: number[];
    /** where an image set was read from */
    dataDir?: string;
    /** the decoder p(x_0 | x_1): "discretized" for 8-bit images (default "gaussian") */
    decoder?: DecoderKind;
  };
  model: ModelSpec;
  target: Target;
  loss: Weighting;
  schedule: string;
  /** 0 = continuous time */
  timesteps: number;
  batch: number;
  steps: number;
  seed: number;
  adam: AdamConfig;
  checkpointEvery: number;
}

export type ModelSpec = { kind: "mlp"; mlp: MlpConfig } | { kind: "unet"; unet: UNetConfig } | { kind: "cnn"; cnn: CnnConfig };

/** U-Net options a user may set; the rest are defaults. The CNN reads base and multipliers too (stage ℓ: base·multipliers[ℓ] channels). */
export interface UNetOptions {
  base?: number;
  multipliers?: number[];
  attention?: number[];
}

/** What a user may set on the command line; everything else comes from the defaults. */
export interface RunOptions {
  target?: Target;
  loss?: Weighting;
  schedule?: string;
  timesteps?: number;
  steps?: number;
  batch?: number;
  lr?: number;
  /** cosine decay of the learning rate over the run down to a tenth (default: constant) */
  lrDecay?: "cosine";
  /** EMA decay of the parameters (default 0.999) */
  emaDecay?: number;
  hidden?: number;
  layers?: number;
  fourierFeatures?: number;
  seed?: number;
  /**
   * "ncsn": VE input scaling on the geometric ladder, continuous σ̃, ε-target (σ̃²-weighted DSM);
   * "unet": the image U-Net (the default for image data);
   * "cnn": a small CNN classifier of clean images (classifiers only; see CnnConfig)
   */
  architecture?: "mlp" | "ncsn" | "unet" | "cnn";
  unet?: UNetOptions;
  /** a conditional denoiser over this many classes */
  classes?: number;
  cfgDropout?: number;
  /** train a noise-aware classifier over this many classes instead of a denoiser */
  classifierClasses?: number;
}

/** Steps that train each built-in set well on two cores (others: the moons value). */
const DEFAULT_STEPS: Record<string, number> = {
  moons: 4000,
  "swiss-roll": 6000,
  checkerboard: 6000,
  circles: 5000,
  gaussian: 2000,
  "eight-gaussians": 5000,
  "ncsn-gmm": 4000,
  "fashion-mnist": 3000,
};

export function defaultSteps(spec: string): number {
  return DEFAULT_STEPS[spec] ?? 4000;
}

export function makeRunConfig(
  data: Omit<RunConfig["data"], "mean" | "std"> & { mean: number[]; std: number[] },
  o: RunOptions,
): RunConfig {
  const steps = o.steps ?? defaultSteps(data.spec);
  const image = data.shape !== undefined && data.shape.length === 3;
  const architecture = o.architecture ?? (image ? "unet" : "mlp");
  const ncsn = architecture === "ncsn";
  const classifier = (o.classifierClasses ?? 0) > 0;
  const heads = { ...(classifier ? { outputs: o.classifierClasses } : {}), ...(o.classes ? { classes: o.classes } : {}) };
  let model: ModelSpec;
  if (architecture === "cnn") {
    if (!image) throw new Error(`the CNN needs image data ([rows, cols, channels]); "${data.spec}" has ${data.dim}-D points`);
    if (!classifier) throw new Error("the CNN is a classifier of clean images, not a denoiser");
    const base = o.unet?.base ?? 16;
    model = {
      kind: "cnn",
      cnn: { shape: data.shape as [number, number, number], channels: (o.unet?.multipliers ?? [1, 2]).map((m) => base * m), hidden: o.hidden ?? 128, outputs: o.classifierClasses! },
    };
  } else if (architecture === "unet") {
    if (!image) throw new Error(`the U-Net needs image data ([rows, cols, channels]); "${data.spec}" has ${data.dim}-D points`);
    model = {
      kind: "unet",
      unet: {
        shape: data.shape as [number, number, number],
        base: o.unet?.base ?? 32,
        multipliers: o.unet?.multipliers ?? [1, 2, 2],
        attention: o.unet?.attention ?? [2],
        heads: 1,
        groups: 8,
        timeEmbedding: 64,
        ...heads,
      },
    };
  } else {
    model = {
      kind: "mlp",
      mlp: {
        dim: data.dim,
        hidden: o.hidden ?? 128,
        layers: o.layers ?? 3,
        timeEmbedding: 32,
        fourierFeatures: o.fourierFeatures ?? 0,
        fourierScale: 1,
        fourierSeed: (o.seed ?? 0) + 1,
        inputScaling: ncsn ? "ve" : "vp",
        ...heads,
      },
    };
  }
  // images: VDM's continuous-time linear log-SNR schedule (its ELBO weighting equals the simple
  // loss up to a constant) and the discretised 8-bit decoder, so bits/dim are the published kind
  return {
    format: "vdm-run-1",
    ...(classifier ? { task: "classifier" as const } : {}),
    ...(architecture === "cnn" ? { clean: true } : {}),
    ...(o.classes ? { cfgDropout: o.cfgDropout ?? 0.15 } : {}),
    data: image ? { ...data, decoder: "discretized" } : data,
    model,
    target: o.target ?? "eps",
    loss: o.loss ?? "simple",
    schedule: o.schedule ?? (ncsn ? "geometric" : image ? "log-snr-linear" : "cosine"),
    timesteps: o.timesteps ?? (ncsn || image ? 0 : 1000),
    batch: o.batch ?? (image ? 32 : 256),
    steps,
    seed: o.seed ?? 0,
    adam: {
      ...defaultAdam,
      lr: o.lr ?? (image ? 1e-3 : 2e-3),
      warmup: Math.min(200, Math.ceil(steps / 20)),
      ...(o.lrDecay === "cosine" ? { decay: { kind: "cosine" as const, steps, final: 0.1 } } : {}),
      ...(o.emaDecay !== undefined ? { emaDecay: o.emaDecay } : {}),
    },
    checkpointEvery: Math.max(100, Math.ceil(steps / 10)),
  };
}

type Params = JsTree<Array>;

function unknownKind(spec: { kind: string }): Error {
  return new Error(`unknown model kind "${spec.kind}" (known: mlp, unet, cnn)`);
}

/** Fresh network parameters for the run's model. */
export function initParams(config: RunConfig, rng: Rng): Params {
  const spec = config.model;
  if (spec.kind === "mlp") return initMlp(spec.mlp, rng);
  if (spec.kind === "unet") return initUNet(spec.unet, rng);
  if (spec.kind === "cnn") return initCnn(spec.cnn, rng);
  throw unknownKind(spec);
}

/** Classes the run's labels range over: a conditional denoiser's, or a classifier's outputs (0 if unlabelled). */
export function labelClasses(config: RunConfig): number {
  const spec = config.model;
  if (spec.kind === "cnn") return spec.cnn.outputs;
  const net = spec.kind === "mlp" ? spec.mlp : spec.unet;
  return net.classes ?? net.outputs ?? 0;
}

/** One example's shape: [dim] for points, [rows, cols, channels] for images. */
export function dataShape(config: RunConfig): number[] {
  return exampleShape(config.data);
}

/** The run's data normalisation x' = (x − mean)/std. */
export function normalizationOf(config: RunConfig): Normalization {
  return { mean: config.data.mean, std: config.data.std };
}

export function buildModel(config: RunConfig): Model {
  if (config.task === "classifier") throw new Error("this checkpoint is a classifier, not a denoiser");
  const spec = config.model;
  if (spec.kind === "mlp") return mlpModel(spec.mlp, config.target) as Model;
  if (spec.kind === "unet") return unetModel(spec.unet, config.target) as Model;
  throw unknownKind(spec);
}

export function buildClassifier(config: RunConfig): Classifier {
  if (config.task !== "classifier") throw new Error("this checkpoint is a denoiser, not a classifier (train one with vdm train-classifier)");
  const spec = config.model;
  if (spec.kind === "mlp") return mlpClassifier(spec.mlp) as Classifier;
  if (spec.kind === "unet") return unetClassifier(spec.unet) as Classifier;
  if (spec.kind === "cnn") return cnnClassifier(spec.cnn) as Classifier;
  throw unknownKind(spec);
}

export function buildProcess(config: RunConfig): DiffusionProcess {
  return new DiffusionProcess(getSchedule(config.schedule), config.timesteps);
}
