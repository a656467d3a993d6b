/**
 * A run's configuration — what `config.json` holds — with per-dataset defaults, and how to
 * rebuild the model, process and data normalisation from it.
 */

import type { Split, SplitOptions } from "../data/index.js";
import { fitNormalization, type Normalization, pixelNormalization } from "../data/normalize.js";
import { exampleShape } from "../data/sets.js";
import type { DecoderKind } from "../diffusion/decoder.js";
import type { Model } from "../diffusion/model.js";
import { gammaConditioned } from "../diffusion/model.js";
import type { Target } from "../diffusion/parameterization.js";
import { targets } from "../diffusion/parameterization.js";
import { DiffusionProcess, type Weighting } from "../diffusion/process.js";
import type { Rng } from "../engine/index.js";
import type { Array, JsTree } from "../engine/jax.js";
import { ConfigError } from "../errors.js";
import { type CnnConfig, cnnClassifier, initCnn } from "../models/cnn.js";
import { type Classifier, initMlp, type MlpConfig, mlpClassifier, mlpModel } from "../models/mlp.js";
import { initUNet, type UNetConfig, unetClassifier, unetModel } from "../models/unet.js";
import type { Denoiser } from "../sample/sampler.js";
import {
  defaultLearnedInit,
  getSchedule,
  initLearnedSchedule,
  isLearnedSchedule,
  type LearnedScheduleInit,
  type LearnedScheduleParams,
  learnedSchedule,
  learnedScheduleKinds,
  scheduleNames,
} from "../schedule/index.js";
import { initTextNet, type TextNetConfig, textClassifier, textModel } from "../text/model.js";
import { type AdamConfig, defaultAdam } from "./adam.js";

/**
 * A run's full configuration, as stored in its config.json: data and normalisation, model,
 * prediction target, loss weighting, schedule, timesteps (0 = continuous), optimiser and steps.
 */
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
  /** a fixed schedule's name, or "learned" / "learned-linear" (trained with the denoiser) */
  schedule: string;
  /**
   * a learned schedule's starting point; the network is then conditioned on γ, normalised by
   * these initial endpoints (gammaConditioned), and the run's parameters are { denoiser, schedule }
   */
  learnedSchedule?: LearnedScheduleInit;
  /** 0 = continuous time */
  timesteps: number;
  batch: number;
  steps: number;
  seed: number;
  adam: AdamConfig;
  checkpointEvery: number;
}

/** The network of a run: an MLP, a U-Net or (clean-image classifiers only) a CNN, with its config. */
export type ModelSpec =
  | { kind: "mlp"; mlp: MlpConfig }
  | { kind: "unet"; unet: UNetConfig }
  | { kind: "cnn"; cnn: CnnConfig }
  | { kind: "text"; text: TextNetConfig };

/** U-Net options a user may set; the rest are defaults. The CNN reads base and multipliers too (stage ℓ: base·multipliers[ℓ] channels). */
export interface UNetOptions {
  /** channels of the first stage (default 32; the CNN: 16) */
  base?: number;
  /** each stage's channels as multiples of `base` (default [1, 2, 2]; the CNN: [1, 2]) */
  multipliers?: number[];
  /** the stages with self-attention (default [2]) */
  attention?: number[];
}

/** What a user may set on the command line; everything else comes from the defaults. */
export interface RunOptions {
  /** what the network predicts: "eps", "x0", "v" or "score" (default "eps") */
  target?: Target;
  /** the training loss's weighting: "simple" or "elbo" (default "simple"; "elbo" with a learned schedule) */
  loss?: Weighting;
  /** the noise schedule's name, fixed or learned (default "cosine"; images "log-snr-linear"; ncsn "geometric") */
  schedule?: string;
  /** T, the chain's steps; 0 for continuous time (default 1000; images and ncsn 0) */
  timesteps?: number;
  /** training steps (default: the data set's, e.g. 4000 for moons) */
  steps?: number;
  /** examples per step (default 256; images 32) */
  batch?: number;
  /** Adam's peak learning rate, after a warm-up over the first 5% of steps (at most 200) (default 2e−3; images 1e−3) */
  lr?: number;
  /** cosine decay of the learning rate over the run down to a tenth (default: constant) */
  lrDecay?: "cosine";
  /** EMA decay of the parameters (default 0.999) */
  emaDecay?: number;
  /** the MLP's hidden width (default 128; also the CNN classifier's) */
  hidden?: number;
  /** the MLP's hidden layers (default 3) */
  layers?: number;
  /** random Fourier features of the MLP's input (default 0: none) */
  fourierFeatures?: number;
  /** the run's seed: initial parameters, batches and noise (default 0) */
  seed?: number;
  /**
   * "ncsn": VE input scaling on the geometric ladder, continuous σ̃, ε-target (σ̃²-weighted DSM);
   * "unet": the image U-Net (the default for image data);
   * "cnn": a small CNN classifier of clean images (classifiers only; see CnnConfig).
   * Default "mlp" for points, "unet" for images.
   */
  architecture?: "mlp" | "ncsn" | "unet" | "cnn";
  /** the U-Net's (and CNN's) channels and attention (default: see `UNetOptions`) */
  unet?: UNetOptions;
  /** a conditional denoiser over this many classes (default: unconditional) */
  classes?: number;
  /** with `classes`: the share of training examples whose label is dropped, for classifier-free guidance (default 0.15) */
  cfgDropout?: number;
  /** train a noise-aware classifier over this many classes instead of a denoiser (default: a denoiser) */
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

/**
 * A validated `RunConfig` for data described by `data` (normalisation given), with `o` over the
 * per-dataset and per-architecture defaults; throws `ConfigError` on an invalid combination.
 */
export function makeRunConfig(data: Omit<RunConfig["data"], "mean" | "std"> & { mean: number[]; std: number[] }, o: RunOptions): RunConfig {
  const steps = o.steps ?? defaultSteps(data.spec);
  const image = data.shape !== undefined && data.shape.length === 3;
  const architecture = o.architecture ?? (image ? "unet" : "mlp");
  const ncsn = architecture === "ncsn";
  const classifier = (o.classifierClasses ?? 0) > 0;
  const heads = { ...(classifier ? { outputs: o.classifierClasses } : {}), ...(o.classes ? { classes: o.classes } : {}) };
  let model: ModelSpec;
  if (architecture === "cnn") {
    if (!image) throw new ConfigError(`the CNN needs image data ([rows, cols, channels]); "${data.spec}" has ${data.dim}-D points`);
    if (!classifier) throw new ConfigError("the CNN is a classifier of clean images, not a denoiser");
    const base = o.unet?.base ?? 16;
    model = {
      kind: "cnn",
      cnn: {
        shape: data.shape as [number, number, number],
        channels: (o.unet?.multipliers ?? [1, 2]).map((m) => base * m),
        hidden: o.hidden ?? 128,
        outputs: o.classifierClasses!,
      },
    };
  } else if (architecture === "unet") {
    if (!image) throw new ConfigError(`the U-Net needs image data ([rows, cols, channels]); "${data.spec}" has ${data.dim}-D points`);
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
  const schedule = o.schedule ?? (ncsn ? "geometric" : "log-snr-linear");
  const learned = isLearnedSchedule(schedule);
  if (learned && classifier)
    throw new ConfigError(`a learned schedule trains with a denoiser; a classifier takes a fixed schedule, got "${schedule}"`);
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
  // (the recipe) and get the discretised 8-bit decoder, so bits/dim are the published kind.
  const pointDenoiser = !image && !ncsn && !classifier;
  return validateRunConfig(
    {
      format: "vdm-run-1",
      ...(classifier ? { task: "classifier" as const } : {}),
      ...(architecture === "cnn" ? { clean: true } : {}),
      ...(o.classes ? { cfgDropout: o.cfgDropout ?? 0.15 } : {}),
      data: image ? { ...data, decoder: "discretized" } : data,
      model,
      target: o.target ?? "eps",
      loss: o.loss ?? (learned || pointDenoiser ? "elbo" : "simple"),
      schedule,
      ...(learned ? { learnedSchedule: defaultLearnedInit } : {}),
      timesteps: o.timesteps ?? 0,
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

/**
 * Model parameters as a tree of arrays.
 * @inline
 */
type Params = JsTree<Array>;

function unknownKind(spec: { kind: string }): ConfigError {
  return new ConfigError(`unknown model kind "${spec.kind}" (known: mlp, unet, cnn, text)`);
}

/** Fresh parameters for the run: the network's, and { denoiser, schedule } with a learned schedule. */
export function initParams(config: RunConfig, rng: Rng): Params {
  const network = initNetwork(config, rng);
  if (!isLearnedSchedule(config.schedule)) return network;
  return { denoiser: network, schedule: initLearnedSchedule(config.schedule, rng, learnedInit(config)) };
}

function learnedInit(config: RunConfig): LearnedScheduleInit {
  if (!config.learnedSchedule)
    throw new ConfigError(`a run with schedule "${config.schedule}" needs its "learnedSchedule" starting point in config.json`);
  return config.learnedSchedule;
}

/** The network's part of a run's parameters, and a learned schedule's (null for a fixed schedule). Borrows. */
export function splitParams(config: RunConfig, params: Params): { network: Params; schedule: LearnedScheduleParams | null } {
  if (!isLearnedSchedule(config.schedule)) return { network: params, schedule: null };
  const { denoiser, schedule } = params as { denoiser: Params; schedule: LearnedScheduleParams };
  return { network: denoiser, schedule };
}

function initNetwork(config: RunConfig, rng: Rng): Params {
  const spec = config.model;
  if (spec.kind === "mlp") return initMlp(spec.mlp, rng);
  if (spec.kind === "unet") return initUNet(spec.unet, rng);
  if (spec.kind === "cnn") return initCnn(spec.cnn, rng);
  if (spec.kind === "text") return initTextNet(spec.text, rng);
  throw unknownKind(spec);
}

/** Classes the run's labels range over: a conditional denoiser's, or a classifier's outputs (0 if unlabelled). */
export function labelClasses(config: RunConfig): number {
  const spec = config.model;
  if (spec.kind === "cnn") return spec.cnn.outputs;
  if (spec.kind === "text") return spec.text.outputs ?? 0;
  const net = spec.kind === "mlp" ? spec.mlp : spec.unet;
  return net.classes ?? net.outputs ?? 0;
}

/** One example's shape: [dim] for points, [rows, cols, channels] for images. */
export function dataShape(config: RunConfig): number[] {
  return exampleShape(config.data);
}

/** The shape of one example's noise ε: the data's, except a text denoiser's ([length, embedDim]: its data are token ids). */
export function noiseShape(config: RunConfig): number[] {
  const spec = config.model;
  if (spec.kind === "text" && config.task !== "classifier") return [spec.text.length, spec.text.embedDim];
  return dataShape(config);
}

/** The run's data normalisation x' = (x − mean)/std. */
export function normalizationOf(config: RunConfig): Normalization {
  return { mean: config.data.mean, std: config.data.std };
}

/** The run's denoiser as a `Model` (γ-conditioned with a learned schedule); throws for a classifier run. */
export function buildModel(config: RunConfig): Model {
  if (config.task === "classifier") throw new ConfigError("this checkpoint is a classifier, not a denoiser");
  const spec = config.model;
  let model: Model;
  if (spec.kind === "mlp") model = mlpModel(spec.mlp, config.target) as Model;
  else if (spec.kind === "unet") model = unetModel(spec.unet, config.target) as Model;
  else if (spec.kind === "text") model = textModel(spec.text) as Model;
  else throw unknownKind(spec);
  if (!isLearnedSchedule(config.schedule)) return model;
  const { gammaMin, gammaMax } = learnedInit(config);
  return gammaConditioned(model, gammaMin, gammaMax);
}

export function buildClassifier(config: RunConfig): Classifier {
  if (config.task !== "classifier")
    throw new ConfigError(`this checkpoint is a denoiser, not a classifier (a classifier's run has task "classifier")`);
  const spec = config.model;
  if (spec.kind === "mlp") return mlpClassifier(spec.mlp) as Classifier;
  if (spec.kind === "unet") return unetClassifier(spec.unet) as Classifier;
  if (spec.kind === "cnn") return cnnClassifier(spec.cnn) as Classifier;
  if (spec.kind === "text") return textClassifier(spec.text) as Classifier;
  throw unknownKind(spec);
}

/**
 * The run's diffusion process. A learned schedule needs the run's parameters (`params`, borrowed
 * for as long as the process is used); a fixed one ignores them.
 */
export function buildProcess(config: RunConfig, params?: Params): DiffusionProcess {
  const kind = config.schedule;
  if (!isLearnedSchedule(kind)) return new DiffusionProcess(getSchedule(kind), config.timesteps);
  if (!params) throw new ConfigError(`the "${kind}" schedule is part of the trained parameters; give them`);
  return new DiffusionProcess(learnedSchedule(kind, splitParams(config, params).schedule!), config.timesteps);
}

/** The denoiser and process of trained parameters (`params` borrowed: they back both). */
export function trainedModel(config: RunConfig, params: Params): { denoiser: Denoiser; process: DiffusionProcess } {
  return { denoiser: { model: buildModel(config), params: splitParams(config, params).network }, process: buildProcess(config, params) };
}

/** A value in a config error: numbers as JavaScript writes them, short strings and flat lists as JSON, else a description. */
function shownValue(v: unknown): string {
  if (v === undefined) return "nothing";
  if (globalThis.Array.isArray(v))
    return v.length <= 8 && v.every((x) => typeof x === "number") ? `[${v.join(", ")}]` : `an array of ${v.length}`;
  if (typeof v === "object" && v !== null) return "an object";
  const s = typeof v === "string" ? JSON.stringify(v) : String(v);
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}

/** Generous bounds on sizes, far above any real run, that stop a corrupt config before it sizes an allocation. */
const MAX_DIM = 2 ** 24;
const MAX_WIDTH = 2 ** 16;

/**
 * A run's config (what `config.json` holds, parsed) checked field by field against `RunConfig`:
 * every problem is a `ConfigError` naming `source`, the field (a dotted path) and what is wrong,
 * with the value found. Fields it does not know are left alone. Returns `value`, typed.
 *
 * @example
 * ```ts
 * const config = validateRunConfig(JSON.parse(readFileSync("runs/moons/config.json", "utf8")));
 * ```
 */
export function validateRunConfig(value: unknown, source = "run config"): RunConfig {
  const fail = (path: string, what: string, got: unknown): never => {
    throw new ConfigError(`${source}: ${path ? `field "${path}"` : "the config"} ${what}, got ${shownValue(got)}`);
  };
  const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !globalThis.Array.isArray(v);
  const at = (parent: string, key: string) => (parent ? `${parent}.${key}` : key);
  const object = (o: Record<string, unknown>, parent: string, key: string): Record<string, unknown> => {
    const v = o[key];
    return isRecord(v) ? v : fail(at(parent, key), v === undefined ? "is missing (an object)" : "must be an object", v);
  };
  /** a finite number in [min, max] (open at min or max where `above`/`below`), an integer where `integer`; NaN when optional and absent */
  const number = (
    o: Record<string, unknown>,
    parent: string,
    key: string,
    rule: { min?: number; max?: number; above?: boolean; below?: boolean; integer?: boolean; optional?: boolean; what: string },
  ): number => {
    const v = o[key];
    if (v === undefined && rule.optional) return NaN;
    const { min = -Infinity, max = Infinity, above = false, below = false, integer = false } = rule;
    const ok =
      typeof v === "number" &&
      Number.isFinite(v) &&
      (!integer || Number.isSafeInteger(v)) &&
      (above ? v > min : v >= min) &&
      (below ? v < max : v <= max);
    return ok ? (v as number) : fail(at(parent, key), v === undefined ? `is missing (${rule.what})` : `must be ${rule.what}`, v);
  };
  const count = (o: Record<string, unknown>, parent: string, key: string, max: number, optional = false) =>
    number(o, parent, key, {
      min: 1,
      max,
      integer: true,
      optional,
      what: max < Number.MAX_SAFE_INTEGER ? `a positive integer (at most ${max})` : "a positive integer",
    });
  const oneOf = <T extends string>(
    o: Record<string, unknown>,
    parent: string,
    key: string,
    values: readonly T[],
    optional = false,
  ): T | undefined => {
    const v = o[key];
    if (v === undefined && optional) return undefined;
    return typeof v === "string" && (values as readonly string[]).includes(v)
      ? (v as T)
      : fail(at(parent, key), v === undefined ? `is missing (one of ${values.join(", ")})` : `must be one of ${values.join(", ")}`, v);
  };
  const string = (o: Record<string, unknown>, parent: string, key: string, optional = false) => {
    const v = o[key];
    if (v === undefined && optional) return;
    if (typeof v !== "string" || (!optional && v === ""))
      fail(at(parent, key), v === undefined ? "is missing (a string)" : "must be a non-empty string", v);
  };
  /** a list of numbers passing `check`, of `length` entries (or at least one, at most `maxLength`) */
  const list = (
    o: Record<string, unknown>,
    parent: string,
    key: string,
    rule: { what: string; check: (x: number) => boolean; length?: number; maxLength?: number; optional?: boolean; empty?: boolean },
  ): number[] | undefined => {
    const v = o[key];
    const path = at(parent, key);
    if (v === undefined && rule.optional) return undefined;
    if (!globalThis.Array.isArray(v))
      return fail(path, v === undefined ? `is missing (a list of ${rule.what})` : `must be a list of ${rule.what}`, v);
    if (rule.length !== undefined && v.length !== rule.length) fail(path, `must have ${rule.length} entries`, v);
    if (v.length === 0 && !rule.empty) fail(path, "must not be empty", v);
    if (rule.maxLength !== undefined && v.length > rule.maxLength) fail(path, `must have at most ${rule.maxLength} entries`, v);
    v.forEach((x, i) => {
      if (typeof x !== "number" || !Number.isFinite(x) || !rule.check(x))
        fail(`${path}[${i}]`, `must be a ${rule.what.replace(/s$/, "")}`, x);
    });
    return v as number[];
  };
  const positiveInt = (max: number) => (x: number) => Number.isSafeInteger(x) && x >= 1 && x <= max;
  const product = (xs: number[]) => xs.reduce((a, b) => a * b, 1);

  if (!isRecord(value)) return fail("", "must be a JSON object", value);
  const c = value;
  if (c.format !== "vdm-run-1") fail("format", `must be "vdm-run-1" (an unknown format)`, c.format);
  const task = oneOf(c, "", "task", ["denoiser", "classifier"], true) ?? "denoiser";
  if (c.clean !== undefined && typeof c.clean !== "boolean") fail("clean", "must be true or false", c.clean);
  number(c, "", "cfgDropout", { min: 0, max: 1, optional: true, what: "a probability in [0, 1]" });

  const data = object(c, "", "data");
  string(data, "data", "spec");
  const dim = count(data, "data", "dim", MAX_DIM);
  const meanLength = list(data, "data", "mean", { what: "finite numbers", check: () => true, maxLength: dim })!.length;
  list(data, "data", "std", { what: "positive numbers", check: (x) => x > 0, length: meanLength });
  if (dim % meanLength !== 0) fail("data.mean", `must have one entry per dimension (${dim}) or a divisor of it`, data.mean);
  number(data, "data", "train", { min: 0, integer: true, what: "a non-negative integer" });
  number(data, "data", "test", { min: 0, integer: true, what: "a non-negative integer" });
  string(data, "data", "labelColumn", true);
  string(data, "data", "dataDir", true);
  const shape = list(data, "data", "shape", { what: "positive integers", check: positiveInt(MAX_DIM), maxLength: 8, optional: true });
  if (shape && product(shape) !== dim) fail("data.shape", `must hold data.dim = ${dim} values`, shape);
  oneOf(data, "data", "decoder", ["gaussian", "discretized"], true);

  const model = object(c, "", "model");
  const kind = oneOf(model, "model", "kind", ["mlp", "unet", "cnn", "text"])!;
  const net = object(model, "model", kind);
  const path = `model.${kind}`;
  const heads = () => {
    count(net, path, "classes", MAX_WIDTH, true);
    const outputs = count(net, path, "outputs", MAX_WIDTH, true);
    if (task === "classifier" && Number.isNaN(outputs)) fail(`${path}.outputs`, "is missing (a classifier's number of classes)", undefined);
  };
  const evenEmbedding = () => {
    const e = count(net, path, "timeEmbedding", MAX_WIDTH);
    if (e % 2 !== 0) fail(`${path}.timeEmbedding`, "must be even", e);
  };
  const imageShape = () => {
    const s = list(net, path, "shape", { what: "positive integers", check: positiveInt(MAX_DIM), length: 3 })!;
    if (product(s) !== dim) fail(`${path}.shape`, `must hold data.dim = ${dim} values`, s);
  };
  if (kind === "mlp") {
    const d = count(net, path, "dim", MAX_DIM);
    if (d !== dim) fail(`${path}.dim`, `must equal data.dim = ${dim}`, d);
    count(net, path, "hidden", MAX_WIDTH);
    count(net, path, "layers", 1024);
    evenEmbedding();
    number(net, path, "fourierFeatures", { min: 0, max: MAX_WIDTH, integer: true, what: `a non-negative integer (at most ${MAX_WIDTH})` });
    number(net, path, "fourierScale", { what: "a finite number" });
    number(net, path, "fourierSeed", { min: 0, max: 2 ** 32 - 1, integer: true, what: "an integer in [0, 2^32)" });
    oneOf(net, path, "inputScaling", ["vp", "ve"], true);
    heads();
  } else if (kind === "unet") {
    imageShape();
    count(net, path, "base", 4096);
    list(net, path, "multipliers", { what: "positive integers", check: positiveInt(64), maxLength: 8 });
    list(net, path, "attention", {
      what: "non-negative integers",
      check: (x) => Number.isSafeInteger(x) && x >= 0 && x < 8,
      maxLength: 8,
      empty: true,
    });
    count(net, path, "heads", 256);
    count(net, path, "groups", 4096);
    evenEmbedding();
    heads();
  } else if (kind === "text") {
    const words = net.words;
    if (!globalThis.Array.isArray(words) || words.length < 3 || !words.every((w) => typeof w === "string"))
      fail(`${path}.words`, "must be a list of at least 3 words (the vocabulary)", words);
    const length = count(net, path, "length", MAX_WIDTH);
    const embedDim = count(net, path, "embedDim", MAX_WIDTH);
    const width = count(net, path, "width", MAX_WIDTH);
    count(net, path, "layers", 1024);
    const headCount = count(net, path, "heads", 256);
    if (width % headCount !== 0) fail(`${path}.heads`, `must divide the width ${width}`, headCount);
    evenEmbedding();
    heads();
    const expected = task === "classifier" ? length * embedDim : length;
    if (dim !== expected) fail("data.dim", `must be ${expected} for this text ${task}`, dim);
  } else {
    if (task !== "classifier") fail("task", `must be "classifier" for a cnn model (the CNN classifies clean images)`, c.task);
    imageShape();
    list(net, path, "channels", { what: "positive integers", check: positiveInt(MAX_WIDTH), maxLength: 8 });
    count(net, path, "hidden", MAX_WIDTH);
    count(net, path, "outputs", MAX_WIDTH);
  }

  oneOf(c, "", "target", targets);
  oneOf(c, "", "loss", ["simple", "elbo"]);
  const schedule = oneOf(c, "", "schedule", [...scheduleNames, ...learnedScheduleKinds])!;
  if (isLearnedSchedule(schedule)) {
    const init = object(c, "", "learnedSchedule");
    const lo = number(init, "learnedSchedule", "gammaMin", { what: "a finite number" });
    const hi = number(init, "learnedSchedule", "gammaMax", { what: "a finite number" });
    if (!(lo < hi)) fail("learnedSchedule.gammaMax", `must exceed gammaMin = ${lo}`, hi);
    count(init, "learnedSchedule", "hidden", MAX_WIDTH);
  }
  number(c, "", "timesteps", {
    min: 0,
    max: MAX_DIM,
    integer: true,
    what: `a non-negative integer (0 = continuous time; at most ${MAX_DIM})`,
  });
  count(c, "", "batch", MAX_DIM);
  count(c, "", "steps", Number.MAX_SAFE_INTEGER);
  number(c, "", "seed", { min: 0, max: 2 ** 32 - 1, integer: true, what: "an integer in [0, 2^32)" });

  const adam = object(c, "", "adam");
  number(adam, "adam", "lr", { min: 0, above: true, what: "a positive number" });
  number(adam, "adam", "beta1", { min: 0, max: 1, below: true, what: "a number in [0, 1)" });
  number(adam, "adam", "beta2", { min: 0, max: 1, below: true, what: "a number in [0, 1)" });
  number(adam, "adam", "eps", { min: 0, what: "a non-negative number" });
  number(adam, "adam", "weightDecay", { min: 0, what: "a non-negative number" });
  number(adam, "adam", "clipNorm", { min: 0, what: "a non-negative number (0 = no clipping)" });
  number(adam, "adam", "warmup", { min: 0, integer: true, what: "a non-negative integer" });
  number(adam, "adam", "emaDecay", { min: 0, max: 1, what: "a number in [0, 1]" });
  if (adam.decay !== undefined) {
    const decay = object(adam, "adam", "decay");
    oneOf(decay, "adam.decay", "kind", ["cosine"]);
    count(decay, "adam.decay", "steps", Number.MAX_SAFE_INTEGER);
    number(decay, "adam.decay", "final", { min: 0, max: 1, what: "a fraction in [0, 1]" });
  }
  count(c, "", "checkpointEvery", Number.MAX_SAFE_INTEGER);
  return value as unknown as RunConfig;
}
