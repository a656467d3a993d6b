/**
 * The defaults of a run: what a user may set (`RunOptions`), the per-dataset steps, and the
 * config a run gets from its data and options (`makeRunConfig`, `runConfigFor`); the network's
 * own defaults are its kind's (models/kinds.ts).
 */

import type { Split, SplitOptions } from "../data/index.js";
import { fitNormalization, pixelNormalization } from "../data/normalize.js";
import type { Target } from "../diffusion/parameterization.js";
import type { Weighting } from "../diffusion/process.js";
import { ConfigError } from "../errors.js";
import type { NetworkOptions, NetworkTarget } from "../models/kind.js";
import { architecture, architectures, type ModelSpec, networkKinds } from "../models/kinds.js";
import { defaultLearnedInit, isLearnedSchedule, learnedScheduleKinds, scheduleNames } from "../schedule/index.js";
import { defaultAdam } from "./adam.js";
import { type RunConfig, validateRunConfig } from "./config.js";

/** What a user may set on the command line; everything else comes from the defaults. */
export interface RunOptions extends NetworkOptions {
  /** what the network predicts: "eps", "x0", "v" or "score" (default "eps") */
  target?: Target;
  /** the training loss's weighting: "simple" or "elbo" (default "simple"; "elbo" with a learned schedule) */
  loss?: Weighting;
  /** the noise schedule's name, fixed or learned (default "cosine"; images "log-snr-linear"; ncsn "geometric") */
  schedule?: string;
  /** T, the chain's steps; 0 for continuous time (default 1000; images and ncsn 0) */
  timesteps?: number;
  /** training steps (default: the data set's, e.g. 4000 for moons; a classifier 2000) */
  steps?: number;
  /** examples per step (default 256; images 32) */
  batch?: number;
  /** Adam's peak learning rate, after a warm-up over the first 5% of steps (at most 200) (default 2e−3; images 1e−3) */
  lr?: number;
  /** cosine decay of the learning rate over the run down to a tenth (default: constant) */
  lrDecay?: "cosine";
  /** EMA decay of the parameters (default 0.999) */
  emaDecay?: number;
  /**
   * The network: a kind of the table that makes its own config, or a variant of one
   * (`architectures()`): "mlp"; "ncsn", VE input scaling on the geometric ladder, continuous σ̃,
   * ε-target (σ̃²-weighted DSM); "unet", the image U-Net; "cnn", a small CNN classifier of clean
   * images (classifiers only). Default "mlp" for points, "unet" for images.
   */
  architecture?: string;
  /** a conditional denoiser over this many classes (default: unconditional) */
  classes?: number;
  /** with `classes`: the share of training examples whose label is dropped, for classifier-free guidance (default 0.15) */
  cfgDropout?: number;
  /** train a noise-aware classifier over this many classes instead of a denoiser (default: a denoiser) */
  classifierClasses?: number;
}

/**
 * The defaults of {@link RunOptions} that do not depend on the network (the CLI's flag tables read
 * them too): points and images differ in batch and learning rate; a classifier trains for
 * `classifierSteps` unless told otherwise; a conditional denoiser drops labels with probability
 * `cfgDropout`.
 */
export const runDefaults = {
  target: "eps",
  schedule: "log-snr-linear",
  timesteps: 0,
  batch: { points: 256, images: 32 },
  lr: { points: 2e-3, images: 1e-3 },
  emaDecay: defaultAdam.emaDecay,
  cfgDropout: 0.15,
  classifierSteps: 2000,
  seed: 0,
} as const;

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

/** The network of `name` (an architecture) for the data and heads of `target`, with the user's options. */
function networkFor(name: string, target: NetworkTarget, o: NetworkOptions) {
  const found = architecture(name);
  if (!found)
    throw new ConfigError(
      `unknown architecture "${name}" (known: ${[...new Set([...architectures("denoiser"), ...architectures("classifier")])].join(", ")})`,
    );
  const kind = networkKinds[found.kind]!;
  const variant = found.variant ? kind.variants![found.variant]! : undefined;
  const config = { ...(kind.configure!(target, o) as object), ...variant?.options };
  return { model: { kind: found.kind, [found.kind]: config } as ModelSpec, kind, variant };
}

/**
 * A validated `RunConfig` for data described by `data` (normalisation given), with `o` over the
 * per-dataset and per-architecture defaults; throws `ConfigError` on an invalid combination.
 */
export function makeRunConfig(data: Omit<RunConfig["data"], "mean" | "std"> & { mean: number[]; std: number[] }, o: RunOptions): RunConfig {
  const image = data.shape !== undefined && data.shape.length === 3;
  const classifier = (o.classifierClasses ?? 0) > 0;
  const steps = o.steps ?? (classifier ? runDefaults.classifierSteps : defaultSteps(data.spec));
  const heads = { ...(classifier ? { outputs: o.classifierClasses } : {}), ...(o.classes ? { classes: o.classes } : {}) };
  const { model, kind, variant } = networkFor(
    o.architecture ?? (image ? "unet" : "mlp"),
    { spec: data.spec, dim: data.dim, ...(data.shape ? { shape: data.shape } : {}), ...heads },
    o,
  );
  const schedule = o.schedule ?? variant?.schedule ?? runDefaults.schedule;
  const learned = isLearnedSchedule(schedule);
  if (learned && classifier)
    throw new ConfigError(`a learned schedule trains with a denoiser; a classifier takes a fixed schedule, got "${schedule}"`);
  if (learned && kind.hvae) throw new ConfigError(`a hierarchical VAE has no noise schedule to learn, got "${schedule}"`);
  if (learned && o.loss === "simple")
    throw new ConfigError(`a learned schedule trains through the ELBO (loss "elbo"), not the "simple" loss`);
  if (!learned && !scheduleNames.includes(schedule)) {
    const known = [...scheduleNames, ...learnedScheduleKinds];
    throw new ConfigError(`unknown schedule "${schedule}" (known: ${known.join(", ")})`, { unknown: { name: schedule, known } });
  }
  // VDM's continuous-time linear log-SNR schedule (its ELBO weighting equals the simple loss up to
  // a constant). Points train on the ELBO: on moons, swiss-roll and checkerboard it gives 0.6–1.1
  // bits/dim less than the simple loss on the discrete cosine chain (T = 1000), with a one-draw
  // estimator 20× less variable (README, "Learned schedules and the two forms of the ELBO"); that
  // chain is `{ schedule: "cosine", timesteps: 1000, loss: "simple" }`. Images keep the simple loss
  // (the recipe) and get the discretised 8-bit decoder, so bits/dim are the published kind; NCSN its own.
  const pointDenoiser = !image && !classifier;
  return validateRunConfig(
    {
      format: "vdm-run-1",
      ...(classifier ? { task: "classifier" as const } : {}),
      ...(kind.clean ? { clean: true } : {}),
      ...(o.classes ? { cfgDropout: o.cfgDropout ?? runDefaults.cfgDropout } : {}),
      data: image ? { ...data, decoder: "discretized" } : data,
      model,
      target: o.target ?? runDefaults.target,
      loss: o.loss ?? (learned ? "elbo" : (variant?.loss ?? (pointDenoiser ? "elbo" : "simple"))),
      schedule,
      ...(learned ? { learnedSchedule: defaultLearnedInit } : {}),
      timesteps: o.timesteps ?? runDefaults.timesteps,
      batch: o.batch ?? runDefaults.batch[image ? "images" : "points"],
      steps,
      seed: o.seed ?? runDefaults.seed,
      adam: {
        ...defaultAdam,
        lr: o.lr ?? runDefaults.lr[image ? "images" : "points"],
        warmup: Math.min(200, Math.ceil(steps / 20)),
        ...(o.lrDecay === "cosine" ? { decay: { kind: "cosine" as const, steps, final: 0.1 } } : {}),
        ...(o.emaDecay !== undefined ? { emaDecay: o.emaDecay } : {}),
      },
      checkpointEvery: Math.max(100, Math.ceil(steps / 10)),
    } satisfies RunConfig,
    "run options",
  );
}

/**
 * The config of a run that trains on `split` (from `loadSplit(spec, …)`), with `options` over the
 * per-dataset defaults: the data's normalisation is fitted on the training points (images map
 * pixels to [−1, 1]); `labelColumn`/`dataDir` record where the points came from, so the run can
 * reload its data.
 *
 * @example
 * ```ts
 * const split = loadSplit("moons", 0);
 * const config = runConfigFor("moons", split, { steps: 2000, schedule: "learned", timesteps: 0 });
 * ```
 */
export function runConfigFor(
  spec: string,
  split: Split,
  options: RunOptions = {},
  source: Pick<SplitOptions, "labelColumn" | "dataDir"> = {},
): RunConfig {
  const image = split.train.shape !== undefined && split.train.shape.length === 3;
  const z = image ? pixelNormalization : fitNormalization(split.train);
  return makeRunConfig(
    {
      spec,
      dim: split.train.dim,
      mean: z.mean,
      std: z.std,
      train: split.train.n,
      test: split.test.n,
      ...(source.labelColumn ? { labelColumn: source.labelColumn } : {}),
      ...(split.train.shape ? { shape: split.train.shape } : {}),
      ...(source.dataDir ? { dataDir: source.dataDir } : {}),
    },
    options,
  );
}
