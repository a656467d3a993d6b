/**
 * What `vdm train` and `vdm train-classifier` share: the training and image flags, --resume and its
 * checks against a run's own values, and `trainFromFlags`, which builds (or resumes) a run's config
 * and trains it with progress until done or Ctrl-C.
 */
import { join } from "node:path";
import { systemFashionMnist } from "../data/images.js";
import { imageNames, isImageSet, loadSplit, type PointSet, type Split, toyNames } from "../data/index.js";
import type { TrainingState } from "../io/state.js";
import { autoencoderKind } from "../models/autoencoder.js";
import { cnnDefaults, cnnKind } from "../models/cnn.js";
import { hvaeKind } from "../models/hvae.js";
import { architectureOf, configOf } from "../models/kinds.js";
import { mlpDefaults, mlpKind } from "../models/mlp.js";
import { unetDefaults, unetKind } from "../models/unet.js";
import { onnxStepper } from "../onnx/train.js";
import { learnedScheduleKinds, scheduleNames } from "../schedule/index.js";
import type { RunConfig } from "../train/config.js";
import { type RunOptions, runConfigFor, runDefaults } from "../train/defaults.js";
import {
  AUTOENCODER_DIR,
  type LatentAutoencoder,
  type LatentRun,
  latentRun,
  latentRunConfig,
  loadAutoencoder,
  saveAutoencoder,
} from "../train/latent.js";
import { trainAsync } from "../train/trainer.js";
import {
  asUsage,
  defineFlags,
  type FlagGroup,
  int,
  intList,
  oneOf,
  optional,
  optionalInt,
  type Parsed,
  positive,
  type RawValues,
  refuseGiven,
  UsageError,
} from "./args.js";
import { earlierFacts, type TrainingFacts, trainingFacts, writeTrainingFacts } from "./facts.js";
import { autoencoderFlag, encodeWithProgress } from "./latent.js";
import { type backendFlags, parseBackend } from "./model.js";
import { pictureFlags } from "./pictures.js";
import { Progress } from "./progress.js";
import { checkOut, flagText, interrupted, type ResumeFlag, type RunKind, resumeRun, runFlags, stopOnCtrlC } from "./runs.js";

/** An EMA decay in (0, 1) from --ema-decay. */
function emaDecayFlag(raw: string, name: string): number {
  const d = Number(raw);
  if (!(d > 0 && d < 1)) throw new UsageError(`--${name} must be in (0, 1), got "${raw}"`);
  return d;
}

/** Flags shared by `vdm train` and `vdm train-classifier` (empty: the data set's default). */
export const trainFlags = defineFlags("Training", {
  data: { default: "moons", value: "D", help: `a built-in set (${[...toyNames, ...imageNames].join(", ")}), FILE.csv or FILE.json` },
  out: { value: "DIR", help: "the checkpoint directory (required)" },
  timesteps: {
    value: "T",
    help: `diffusion steps, 0 = continuous time (default: ${runDefaults.timesteps})`,
    parse: optionalInt({ min: 0 }),
  },
  schedule: {
    value: `<${[...scheduleNames, ...learnedScheduleKinds].join("|")}>`,
    help: `the noise schedule (default: ${runDefaults.schedule}; --net ncsn: ${mlpKind.variants!.ncsn!.schedule})`,
  },
  batch: {
    value: "B",
    help: `examples per step (default: ${runDefaults.batch.points}; images: ${runDefaults.batch.images})`,
    parse: optionalInt({ min: 1 }),
  },
  lr: {
    value: "LR",
    help: `the learning rate (default: ${runDefaults.lr.points}; images: ${runDefaults.lr.images})`,
    parse: optional(positive),
  },
  "lr-decay": {
    default: "none",
    value: "none|cosine",
    help: "cosine: decay the learning rate to a tenth over the run",
    parse: oneOf("none", "cosine"),
  },
  "ema-decay": {
    value: "D",
    help: `the decay of the parameters' exponential moving average (default: ${runDefaults.emaDecay})`,
    parse: optional(emaDecayFlag),
  },
  hidden: {
    value: "H",
    help: `hidden features of the MLP (default: ${mlpDefaults.hidden}) and of the CNN's dense layer (default: ${cnnDefaults.hidden})`,
    parse: optionalInt({ min: 1 }),
  },
  layers: { default: mlpDefaults.layers, value: "L", help: "layers of the MLP", parse: int({ min: 1 }) },
  "fourier-features": {
    default: mlpDefaults.fourierFeatures,
    value: "F",
    help: "random Fourier features of the MLP's input (0: none)",
    parse: int({ min: 0 }),
  },
  "label-column": { value: "COL", help: "a CSV column (0-based index or header name) that holds the labels" },
  quiet: { type: "boolean", help: "no progress lines" },
});

/** The image networks' flags, shared like trainFlags. */
export const imageTrainFlags = defineFlags("Images (--data fashion-mnist)", {
  "data-dir": {
    value: "DIR",
    help: `where the IDX files are (default: ${systemFashionMnist} when Debian's dataset-fashion-mnist is installed, else the 2,000/500-image subset in data/fashion-mnist)`,
  },
  base: {
    value: "B",
    help: `the U-Net's base channels (default: ${unetDefaults.base}; --net cnn: ${cnnDefaults.base})`,
    parse: optionalInt({ min: 1 }),
  },
  multipliers: {
    value: "LIST",
    help: `channel multipliers per level (default: ${unetDefaults.multipliers}; --net cnn: ${cnnDefaults.multipliers})`,
    parse: optional(intList({ min: 1 })),
  },
  attention: {
    value: "LIST",
    help: `the U-Net's levels with self-attention (default: ${unetDefaults.attention})`,
    parse: optional(intList({ min: 0 })),
  },
});

/** The flags a resumed run of `vdm train` or `vdm train-classifier` takes new values of: the optimiser's, and where the images are. */
const changeable = ["lr", "ema-decay", "data-dir"] as const;

/** --resume, --force and --no-report of `vdm train` and `vdm train-classifier`. */
export const trainRunFlags = runFlags(changeable);

/** Every training flag's value (its own --steps among them). */
type TrainValues = Parsed<[typeof trainFlags, typeof trainRunFlags, typeof imageTrainFlags, typeof backendFlags]> & {
  steps: number | undefined;
};

/**
 * The flags a training command parses, with each flag as written (`raw`, for --resume's checks): a
 * command that takes fewer of the shared tables (`vdm train-autoencoder`) leaves the others undefined.
 */
export interface TrainFlags {
  values: Pick<TrainValues, "data" | "out" | "seed" | "steps" | "resume" | "force" | "no-report" | "quiet"> & Partial<TrainValues>;
  raw: RawValues;
}

const mlpOf = (c: RunConfig) => configOf(c.model, mlpKind);
const unetOf = (c: RunConfig) => configOf(c.model, unetKind);
const cnnOf = (c: RunConfig) => configOf(c.model, cnnKind);
const autoencoderOf = (c: RunConfig) => configOf(c.model, autoencoderKind);
const hvaeOf = (c: RunConfig) => configOf(c.model, hvaeKind);

/** --net of a run: its architecture (the MLP with VE input scaling is NCSN's). */
const netOf = (c: RunConfig) => architectureOf(c.model);

/**
 * What a resumed `vdm train` or `vdm train-classifier` run checks, flag by flag: the run's value
 * (the CNN keeps its channels, base × multipliers, as a list) and, for `changeable`, the change.
 */
const resumeFlags: Record<string, ResumeFlag<TrainFlags["values"]>> &
  Record<(typeof changeable)[number], ResumeFlag<TrainFlags["values"]>> = {
  data: { of: (c) => c.data.spec },
  seed: { of: (c) => String(c.seed) },
  timesteps: { of: (c) => String(c.timesteps) },
  schedule: { of: (c) => c.schedule },
  batch: { of: (c) => String(c.batch) },
  hidden: { of: (c) => flagText(mlpOf(c)?.hidden ?? cnnOf(c)?.hidden ?? hvaeOf(c)?.hidden) },
  layers: { of: (c) => flagText(mlpOf(c)?.layers ?? hvaeOf(c)?.layers) },
  levels: { of: (c) => flagText(hvaeOf(c)?.levels) },
  "fourier-features": { of: (c) => flagText(mlpOf(c)?.fourierFeatures) },
  "label-column": { of: (c) => c.data.labelColumn ?? "" },
  base: { of: (c) => flagText(unetOf(c)?.base ?? cnnOf(c)?.channels[0] ?? autoencoderOf(c)?.base) },
  // train-autoencoder's latent shape, or the autoencoder run of a latent run (vdm train --latent)
  latent: { of: (c) => autoencoderOf(c)?.latent.join("x") ?? c.latent?.autoencoder },
  "kl-weight": { of: (c) => flagText(autoencoderOf(c)?.klWeight) },
  multipliers: {
    of: (c) =>
      unetOf(c)?.multipliers.join(",") ??
      cnnOf(c)
        ?.channels.map((ch, _, all) => ch / all[0]!)
        .join(","),
  },
  attention: { of: (c) => unetOf(c)?.attention.join(",") },
  net: { of: netOf },
  target: { of: (c) => c.target },
  loss: { of: (c) => c.loss },
  conditional: { of: (c) => String(c.cfgDropout !== undefined) },
  "cfg-dropout": { of: (c) => flagText(c.cfgDropout) },
  "lr-decay": { of: (c) => (c.adam.decay ? "cosine" : "none") },
  lr: { of: (c) => String(c.adam.lr), apply: (c, f) => ({ ...c, adam: { ...c.adam, lr: f.lr! } }) },
  "ema-decay": { of: (c) => String(c.adam.emaDecay), apply: (c, f) => ({ ...c, adam: { ...c.adam, emaDecay: f["ema-decay"]! } }) },
  "data-dir": { of: (c) => c.data.dataDir ?? "", apply: (c, f) => ({ ...c, data: { ...c.data, dataDir: f["data-dir"] } }) },
};

/** What `trainFromFlags` gives the reports: the trained run, its training facts and where they stand. */
export interface TrainedRun {
  config: RunConfig;
  dir: string;
  split: { train: PointSet; test: PointSet };
  state: TrainingState;
  /** what metrics.json holds of the training; the reports add theirs */
  facts: TrainingFacts;
  /** a latent run (`--latent`): its autoencoder and decoder, and the test images its latents encode */
  latent?: { run: LatentRun; test: PointSet };
  /** the step this invocation started from, and its seconds */
  firstStep: number;
  seconds: number;
}

/**
 * Check --out (see `checkOut`), build (or, with --resume, read and check: `resumeRun`) the run's
 * config, and train it with progress until done or Ctrl-C; returns what the reports need, or
 * undefined when a resumed run had nothing left to train. `options` adds what the command decides
 * (target, loss, classes, …); `owner` is `vdm demo`, which replaces its own runs; `imageOnly` holds the
 * command's own tables of image-only flags (refused, with the shared ones, for points); `latentFrom`
 * is `vdm train --latent AE`'s autoencoder run, whose latents of the images the run trains on.
 * The training facts go to metrics.json (until the report replaces them); a run stopped by Ctrl-C
 * then ends with `Interrupted`.
 */
export async function trainFromFlags(
  { values: flags, raw }: TrainFlags,
  given: ReadonlySet<string>,
  kind: RunKind,
  options: (train: PointSet) => RunOptions,
  onCheckpoint?: (config: RunConfig, state: TrainingState, latent: LatentRun | undefined) => void,
  owner?: "demo",
  imageOnly: readonly FlagGroup[] = [],
  latentFrom?: string,
): Promise<TrainedRun | undefined> {
  if (!flags.out) throw new UsageError("--out DIR is required (where the checkpoint and pictures go)");
  const dir = flags.out;
  const claim = checkOut(dir, { resume: flags.resume, force: flags.force, kind, ...(owner ? { owner } : {}) });
  let config: RunConfig;
  let firstStep = 0;
  let images: Split | undefined;
  let ae: LatentAutoencoder | undefined;
  let split: Split | undefined;
  if (flags.resume) {
    const resumed = resumeRun(dir, kind, { values: flags, raw }, given, resumeFlags);
    if (resumed.nothingLeft) return undefined;
    ({ config, done: firstStep } = resumed);
    if (config.latent) ae = loadAutoencoder(join(dir, AUTOENCODER_DIR));
  } else {
    const { seed } = flags;
    const image = isImageSet(flags.data);
    // flags that the data make moot are refused, not ignored (a command's own tables may lack some: given holds only what it parsed)
    if (!image)
      refuseGiven(
        given,
        [imageTrainFlags, ...imageOnly, pictureFlags].flatMap((g) => Object.keys(g.specs)),
        `image data only; --data ${flags.data} is points`,
      );
    if (!flags.data.toLowerCase().endsWith(".csv"))
      refuseGiven(given, ["label-column"], `names a column of a CSV file; --data ${flags.data} is not one`);
    if (latentFrom && !image) throw new UsageError(`--latent trains on the latents of images; --data ${flags.data} is points`);
    images = loadSplit(
      flags.data,
      seed,
      image ? { train: 0, test: 0, dataDir: flags["data-dir"] } : { labelColumn: flags["label-column"] },
    );
    if (latentFrom) {
      ae = autoencoderFlag(latentFrom, flags.data);
      split = encodeWithProgress(ae, images, seed, flags.quiet, parseBackend(flags));
    }
    const { base, multipliers, attention } = flags;
    const unet = { ...(base ? { base } : {}), ...(multipliers ? { multipliers } : {}), ...(attention ? { attention } : {}) };
    // the config's options come from the flags: what the library refuses in them is a usage mistake
    const runOptions = {
      ...(flags.schedule ? { schedule: flags.schedule } : {}),
      ...(flags.timesteps ? { timesteps: flags.timesteps } : {}),
      ...(flags.steps ? { steps: flags.steps } : {}),
      ...(flags.batch ? { batch: flags.batch } : {}),
      ...(flags.lr !== undefined ? { lr: flags.lr } : {}),
      ...(flags["lr-decay"] === "cosine" ? { lrDecay: "cosine" as const } : {}),
      ...(flags["ema-decay"] !== undefined ? { emaDecay: flags["ema-decay"] } : {}),
      unet,
      ...(flags.hidden !== undefined ? { hidden: flags.hidden } : {}),
      layers: flags.layers,
      fourierFeatures: flags["fourier-features"],
      seed,
      ...options((split ?? images).train),
    };
    config = asUsage(() =>
      ae && split
        ? latentRunConfig(latentFrom!, ae, split, runOptions, flags["data-dir"])
        : runConfigFor(flags.data, images!, runOptions, { labelColumn: flags["label-column"], dataDir: flags["data-dir"] }),
    );
  }
  if (!split) {
    // the run's data as its config names them (a latent run: its images, encoded as the fresh run encoded them)
    images = runSplit(config);
    split = ae ? encodeWithProgress(ae, images, config.seed, flags.quiet, parseBackend(flags)) : images;
  }
  const latent = ae && images && { run: latentRun(config, ae), test: images.test };
  const backend = parseBackend(flags);
  const earlier = flags.resume ? earlierFacts(dir) : {};
  claim();
  if (ae && !flags.resume) saveAutoencoder(dir, ae);
  const started = performance.now();
  let progress: Progress | undefined;
  const result = await stopOnCtrlC((signal) =>
    trainAsync(config, split.train, {
      checkpointDir: dir,
      resume: flags.resume,
      signal,
      onProgress: (p) => {
        progress ??= new Progress("train", p.steps, p.firstStep, process.stderr, flags.quiet);
        progress.update(p.step, p.loss, p.variance);
      },
      ...(backend.onnx ? { makeStepper: onnxStepper(backend.session) } : {}),
      ...(onCheckpoint ? { onCheckpoint: (state: TrainingState) => onCheckpoint(config, state, latent?.run) } : {}),
    }),
  );
  const { state } = result;
  const seconds = (performance.now() - started) / 1000;
  const facts = trainingFacts(state, firstStep, seconds, result.stepsPerSecond, earlier);
  writeTrainingFacts(dir, config.data.spec, facts); // kept if the report is skipped or stopped
  if (!result.completed) throw interrupted(kind, dir, state.step, config.steps);
  return { config, dir, split, state, facts, firstStep, seconds, ...(latent ? { latent } : {}) };
}

/** The training and held-out data of a run, as its config names them (spec, counts, seed, label column, image directory). */
export function runSplit(config: RunConfig): Split {
  return loadSplit(config.data.spec, config.seed, {
    train: config.data.train,
    test: config.data.test,
    labelColumn: config.data.labelColumn ?? "",
    dataDir: config.data.dataDir ?? "",
  });
}
