/**
 * A run's configuration — what `config.json` holds — with per-dataset defaults, and how to
 * rebuild the model, process and data normalisation from it.
 */
import { DiffusionProcess, type Weighting } from "../diffusion/process.js";
import type { Target } from "../diffusion/parameterization.js";
import type { Model } from "../diffusion/model.js";
import { mlpClassifier, mlpModel, type Classifier, type MlpConfig, type MlpParams } from "../models/mlp.js";
import { getSchedule } from "../schedule/index.js";
import { defaultAdam, type AdamConfig } from "./adam.js";

export interface RunConfig {
  format: "vdm-run-1";
  /** what is trained: a denoiser (default) or a noise-aware classifier p_φ(y | x_t, t) */
  task?: "denoiser" | "classifier";
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
  };
  model: { kind: "mlp"; mlp: MlpConfig };
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

/** What a user may set on the command line; everything else comes from the defaults. */
export interface RunOptions {
  target?: Target;
  loss?: Weighting;
  schedule?: string;
  timesteps?: number;
  steps?: number;
  batch?: number;
  lr?: number;
  hidden?: number;
  layers?: number;
  fourierFeatures?: number;
  seed?: number;
  /** "ncsn": VE input scaling on the geometric ladder, continuous σ̃, ε-target (σ̃²-weighted DSM) */
  architecture?: "mlp" | "ncsn";
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
};

export function defaultSteps(spec: string): number {
  return DEFAULT_STEPS[spec] ?? 4000;
}

export function makeRunConfig(
  data: Omit<RunConfig["data"], "mean" | "std"> & { mean: number[]; std: number[] },
  o: RunOptions,
): RunConfig {
  const steps = o.steps ?? defaultSteps(data.spec);
  const ncsn = o.architecture === "ncsn";
  const classifier = (o.classifierClasses ?? 0) > 0;
  return {
    format: "vdm-run-1",
    ...(classifier ? { task: "classifier" as const } : {}),
    ...(o.classes ? { cfgDropout: o.cfgDropout ?? 0.15 } : {}),
    data,
    model: {
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
        ...(classifier ? { outputs: o.classifierClasses } : {}),
        ...(o.classes ? { classes: o.classes } : {}),
      },
    },
    target: o.target ?? "eps",
    loss: o.loss ?? "simple",
    schedule: o.schedule ?? (ncsn ? "geometric" : "cosine"),
    timesteps: o.timesteps ?? (ncsn ? 0 : 1000),
    batch: o.batch ?? 256,
    steps,
    seed: o.seed ?? 0,
    adam: { ...defaultAdam, lr: o.lr ?? 2e-3, warmup: Math.min(200, Math.ceil(steps / 20)) },
    checkpointEvery: Math.max(100, Math.ceil(steps / 10)),
  };
}

export function buildModel(config: RunConfig): Model<MlpParams> {
  if (config.model.kind !== "mlp") throw new Error(`unknown model kind "${config.model.kind}"`);
  if (config.task === "classifier") throw new Error("this checkpoint is a classifier, not a denoiser");
  return mlpModel(config.model.mlp, config.target);
}

export function buildClassifier(config: RunConfig): Classifier<MlpParams> {
  if (config.task !== "classifier") throw new Error("this checkpoint is a denoiser, not a classifier (train one with vdm train-classifier)");
  return mlpClassifier(config.model.mlp);
}

export function buildProcess(config: RunConfig): DiffusionProcess {
  return new DiffusionProcess(getSchedule(config.schedule), config.timesteps);
}
