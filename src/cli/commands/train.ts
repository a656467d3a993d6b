/** `vdm train`: train a denoiser on a 2-D set (or the user's points) and write pictures and metrics. */
import { join } from "node:path";
import { systemFashionMnist } from "../../data/images.js";
import { classCount, imageNames, isImageSet, loadSplit, type PointSet, toyNames } from "../../data/index.js";
import { normalize } from "../../data/normalize.js";
import { qSample } from "../../diffusion/forward.js";
import { parseTarget } from "../../diffusion/parameterization.js";
import type { DiffusionProcess, Weighting } from "../../diffusion/process.js";
import { filled, Rng } from "../../engine/index.js";
import { numpy as np } from "../../engine/jax.js";
import { evaluate, referenceSample } from "../../eval/run.js";
import { guidanceDefaults } from "../../guidance/guided.js";
import { writeFileAtomic } from "../../io/atomic.js";
import type { TrainingState } from "../../io/checkpoint.js";
import { onnxStepper } from "../../onnx/train.js";
import { boundsOf, lossChart, scatterChart } from "../../plot/charts.js";
import { chartPng } from "../../plot/render.js";
import { learnedScheduleKinds, scheduleNames } from "../../schedule/index.js";
import { labelClasses, normalizationOf, type RunConfig, type RunOptions, runConfigFor, trainedModel } from "../../train/config.js";
import { trainAsync } from "../../train/trainer.js";
import { asUsage, defineFlags, helpText, intFlag, intListFlag, type Parsed, parseGiven, refuseGiven, UsageError } from "../args.js";
import { backendFlags, parseBackend, withBackend } from "../model.js";
import { pictureFlags, zoomFlag } from "../pictures.js";
import { Progress } from "../progress.js";
import {
  checkOut,
  earlierFacts,
  flagText,
  interrupted,
  meanOfLast,
  type ResumeFlag,
  type RunKind,
  resumeRun,
  runFlags,
  stopOnCtrlC,
  type TrainingFacts,
  trainedSummary,
  trainingFacts,
  writeTrainingFacts,
} from "../runs.js";
import { imageReport, progressGrid } from "./images.js";
import { flagValue, isTextRun, trainText } from "./text.js";

/** Flags shared by `vdm train` and `vdm train-classifier` (empty: the data set's default). */
export const trainFlags = defineFlags("Training", {
  data: { default: "moons", value: "D", help: `a built-in set (${[...toyNames, ...imageNames].join(", ")}), FILE.csv or FILE.json` },
  out: { value: "DIR", help: "the checkpoint directory (required)" },
  timesteps: { value: "T", help: "diffusion steps, 0 = continuous time (default: 0)" },
  schedule: {
    value: `<${[...scheduleNames, ...learnedScheduleKinds].join("|")}>`,
    help: "the noise schedule (default: log-snr-linear; --net ncsn: geometric)",
  },
  batch: { value: "B", help: "examples per step (default: 256; images: 32)" },
  lr: { value: "LR", help: "the learning rate (default: 2e-3; images: 1e-3)" },
  "lr-decay": { default: "none", value: "none|cosine", help: "cosine: decay the learning rate to a tenth over the run" },
  "ema-decay": { value: "D", help: "the decay of the parameters' exponential moving average (default: 0.999)" },
  hidden: { default: "128", value: "H", help: "hidden features of the MLP (and of the CNN's dense layer)" },
  layers: { default: "3", value: "L", help: "layers of the MLP" },
  "fourier-features": { default: "0", value: "F", help: "random Fourier features of the MLP's input (0: none)" },
  "label-column": { value: "COL", help: "a CSV column (0-based index or header name) that holds the labels" },
  quiet: { type: "boolean", help: "no progress lines" },
});

/** The image networks' flags, shared like trainFlags. */
export const imageTrainFlags = defineFlags("Images (--data fashion-mnist)", {
  "data-dir": {
    value: "DIR",
    help: `where the IDX files are (default: ${systemFashionMnist} when Debian's dataset-fashion-mnist is installed, else the 2,000/500-image subset in data/fashion-mnist)`,
  },
  base: { value: "B", help: "the U-Net's base channels (default: 32; --net cnn: 16)" },
  multipliers: { value: "LIST", help: "channel multipliers per level (default: 1,2,2; --net cnn: 1,2)" },
  attention: { value: "LIST", help: "the U-Net's levels with self-attention (default: 2)" },
});

/** `vdm train`'s own flags. */
const denoiserFlags = defineFlags("Denoiser", {
  net: { value: "mlp|ncsn|unet", help: "the network (default: mlp for points, unet for images)" },
  steps: { value: "N", help: "training steps (default: the data set's)" },
  target: { default: "eps", value: "eps|x0|v|score", help: "what the network predicts" },
  loss: { value: "simple|elbo", help: "the loss (default: elbo; simple for images on a fixed schedule and for --net ncsn)" },
  conditional: { type: "boolean", help: "train p(x | y) on the data's labels (see above)" },
  "cfg-dropout": { default: "0.15", value: "P", help: '--conditional: the probability that a label is dropped to "no label"' },
});

/** What `vdm train` reports at the end of an image run. */
const imageReportFlags = defineFlags("Image reports", {
  "eval-images": { default: "500", value: "N", help: "test images of the final bits/dim" },
  "elbo-samples": { default: "4", value: "K", help: "draws of t per test image" },
  "sample-steps": { default: "100", value: "N", help: "ancestral steps of the final samples" },
  "cfg-scale": {
    default: guidanceDefaults.cfgScale,
    value: "W",
    help: "a conditional model: the classifier-free guidance scale of DIR/cfg.png",
  },
});

/** The flags a resumed run of `vdm train` or `vdm train-classifier` takes new values of: the optimiser's, and where the images are. */
const changeable = ["lr", "ema-decay", "data-dir"] as const;

/** --resume, --force and --no-report of `vdm train` and `vdm train-classifier`. */
export const trainRunFlags = runFlags(changeable);

/** The flag tables `vdm train` parses, in the order its help lists them. */
export const flagTables = [
  denoiserFlags,
  trainFlags,
  trainRunFlags,
  imageTrainFlags,
  imageReportFlags,
  pictureFlags,
  backendFlags,
] as const;

/** One line for `vdm --help`. */
export const summary = "train a denoiser (or with --conditional p(x|y)), write a checkpoint, pictures and metrics";

export const help = helpText(
  `vdm train --data D --out DIR [--net mlp|ncsn|unet] [--steps N] [--schedule S] [--conditional] [--resume | --force] [--no-report]`,
  `(--data text:restaurants or text:FILE trains a Diffusion-LM instead: vdm train --data text:restaurants --help.)

Trains an MLP denoiser (defaults tuned per built-in set; continuous time on the ELBO with VDM's linear
log-SNR schedule; the discrete cosine chain with the simple loss, the earlier default, is
--schedule cosine --timesteps 1000 --loss simple), or with
--net ncsn an NCSN-style score model (the network sees x̃ = x_0 + σ̃ε, σ̃ log-uniform on NCSN's
geometric ladder 0.01..10, σ̃²-weighted denoising score matching), checkpointing into DIR (config.json +
state.safetensors). Then writes DIR/loss.png, DIR/samples.png (held-out data | samples),
DIR/forward.png (the forward process x_0 … x_T) and DIR/metrics.json (bits/dim with the three ELBO
terms, energy distance to held-out data and its noise floor, steps/s); --no-report stops after the
checkpoint.
--conditional trains p(x | y) on the data's labels with a learned label embedding; each label is
dropped to "no label" with probability --cfg-dropout, so one model serves classifier-free guidance.

Learned schedules (Kingma et al. 2021), trained with the denoiser through the whole −ELBO (--loss elbo,
the default for them; the network is then conditioned on γ instead of t): learned-linear,
γ(t) = γ_min + (γ_max − γ_min)·t with both endpoints learned; learned, a monotone network between
learned endpoints. The endpoints follow the ELBO (γ_min through the reconstruction term, γ_max through
the prior term); in continuous time (--timesteps 0) the network's shape, on which the ELBO does not
depend, follows the gradient of the diffusion-loss estimate's variance, in discrete time the ELBO.
Both start from γ_min = −13.3, γ_max = 5. The progress line shows each batch's loss variance;
vdm schedule --model DIR draws what was learned.

Images (--data fashion-mnist): IDX files from --data-dir. Pixels map to [−1, 1]; a U-Net (base
channels × multipliers per level, self-attention at the listed levels) is trained in continuous time
on the linear log-SNR schedule, batch 32. At every checkpoint DIR/grid-STEP.png (and DIR/grid.png,
the latest) shows 16 samples and DIR/loss.png the loss so far; at the end DIR/samples.png (held-out
| 64 samples), DIR/loss.png and DIR/metrics.json (test bits/dim with the discretised 8-bit decoder
and the three ELBO terms, on --eval-images test images with --elbo-samples draws of t each); a
conditional model also writes DIR/cfg.png (one row of 4 samples per class, classifier-free guidance
at --cfg-scale w).

--backend onnx runs the training step (forward, jax-js's gradient, AdamW and EMA, exported to ONNX as
one graph) and the reports' network in ONNX Runtime; checkpoints are the same either way.`,
  ...flagTables,
);

/** Samples, floors and pictures for a finished run; returns the metrics written to metrics.json. */
function report(
  config: RunConfig,
  dir: string,
  den: Parameters<typeof evaluate>[0],
  process: DiffusionProcess,
  split: { train: PointSet; test: PointSet },
  losses: Float32Array,
  extra: Record<string, unknown>,
) {
  const rng = new Rng(config.seed + 1);
  const n = Math.min(1000, split.test.n);
  const reference = referenceSample(config.data.spec, split.train, n, config.seed);
  const z = normalizationOf(config);
  const ev = evaluate(den, process, split.test, { reference, normalization: z, rng, n });
  const dim = config.data.dim;
  const samples = scatterChart(
    [
      { title: `held-out data (${split.test.n})`, points: split.test.points, dim, labels: split.test.labels },
      { title: `${labelClasses(config) > 0 ? "unconditional samples" : "samples"} (${n})`, points: ev.samples, dim },
    ],
    { title: `${config.data.spec}: held-out data | samples`, bounds: boundsOf(split.test.points, 0.05, dim) },
  );
  writeFileAtomic(join(dir, "samples.png"), chartPng(samples));
  writeFileAtomic(join(dir, "loss.png"), chartPng(lossChart(losses)));
  writeFileAtomic(join(dir, "forward.png"), chartPng(forwardStrip(process, normalize(split.test.points, z), dim, config.data.spec)));
  const metrics = {
    data: config.data.spec,
    steps: config.steps,
    timesteps: config.timesteps,
    schedule: config.schedule,
    target: config.target,
    loss: config.loss,
    finalLoss: meanOfLast(losses, 100),
    bpd: ev.bpd,
    nats: ev.nats,
    natsStdError: ev.stdError,
    terms: ev.terms,
    ...(ev.diffusionVariance !== undefined ? { diffusionVariance: ev.diffusionVariance } : {}),
    gamma: { reconstruction: process.reconstructionLevel().gamma, prior: process.priorLevel().gamma },
    energyDistance: ev.energyDistance,
    noiseFloor: ev.noiseFloor,
    samples: n,
    ...extra,
  };
  writeFileAtomic(join(dir, "metrics.json"), `${JSON.stringify(metrics, null, 2)}\n`);
  return metrics;
}

/** The chart of q(x_t | x_0) for held-out points (normalised coordinates): scatter panels x_0 … x_T at t = 0, ¼, ½, ¾, 1. */
function forwardStrip(process: DiffusionProcess, points: Float32Array, dim: number, data: string) {
  const levels = process.samplingLevels(process.T > 0 ? Math.min(100, process.T) : 100);
  const last = levels.t.length - 1;
  const n = points.length / dim;
  const rng = new Rng(0);
  const panels = [0, 0.25, 0.5, 0.75, 1].map((f) => {
    const i = Math.round(f * last);
    const xt =
      i === 0
        ? points
        : (qSample(np.array(points).reshape([n, dim]), filled(n, levels.gamma[i]!), rng.normal([n, dim])).dataSync() as Float32Array);
    return { title: f === 0 ? "t = 0 (x_0)" : f === 1 ? "t = 1 (x_T)" : `t = ${f}`, points: xt, dim };
  });
  return scatterChart(panels, {
    title: `${data}: the forward process q(x_t | x_0), normalised coordinates`,
    bounds: { xmin: -3, xmax: 3, ymin: -3, ymax: 3 },
    size: 200,
  });
}

function parseNet(raw: string): "mlp" | "ncsn" | "unet" | undefined {
  if (raw === "") return undefined;
  if (raw !== "mlp" && raw !== "ncsn" && raw !== "unet") throw new UsageError(`--net must be mlp, ncsn or unet, got "${raw}"`);
  return raw;
}

type TrainFlags = Parsed<[typeof trainFlags, typeof trainRunFlags, typeof imageTrainFlags, typeof backendFlags]> & { steps: string };

/** A positive learning rate from --lr. */
function lrFlag(raw: string): number {
  const lr = Number(raw);
  if (!(lr > 0)) throw new UsageError(`--lr must be a positive number, got "${raw}"`);
  return lr;
}

/** An EMA decay in (0, 1) from --ema-decay. */
function emaDecayFlag(raw: string): number {
  const d = Number(raw);
  if (!(d > 0 && d < 1)) throw new UsageError(`--ema-decay must be in (0, 1), got "${raw}"`);
  return d;
}

const mlpOf = (c: RunConfig) => (c.model.kind === "mlp" ? c.model.mlp : undefined);
const unetOf = (c: RunConfig) => (c.model.kind === "unet" ? c.model.unet : undefined);
const cnnOf = (c: RunConfig) => (c.model.kind === "cnn" ? c.model.cnn : undefined);

/** --net of a run: the MLP with VE input scaling is NCSN's. */
function netOf(c: RunConfig): string | undefined {
  if (c.model.kind === "mlp") return c.model.mlp.inputScaling === "ve" ? "ncsn" : "mlp";
  return c.model.kind === "text" ? undefined : c.model.kind;
}

/**
 * What a resumed `vdm train` or `vdm train-classifier` run checks, flag by flag: the run's value
 * (the CNN keeps its channels, base × multipliers, as a list) and, for `changeable`, the change.
 */
const resumeFlags: Record<string, ResumeFlag> & Record<(typeof changeable)[number], ResumeFlag> = {
  data: { of: (c) => c.data.spec },
  seed: { of: (c) => String(c.seed) },
  timesteps: { of: (c) => String(c.timesteps) },
  schedule: { of: (c) => c.schedule },
  batch: { of: (c) => String(c.batch) },
  hidden: { of: (c) => flagText(mlpOf(c)?.hidden ?? cnnOf(c)?.hidden) },
  layers: { of: (c) => flagText(mlpOf(c)?.layers) },
  "fourier-features": { of: (c) => flagText(mlpOf(c)?.fourierFeatures) },
  "label-column": { of: (c) => c.data.labelColumn ?? "" },
  base: { of: (c) => flagText(unetOf(c)?.base ?? cnnOf(c)?.channels[0]) },
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
  lr: { of: (c) => String(c.adam.lr), apply: (c, raw) => ({ ...c, adam: { ...c.adam, lr: lrFlag(raw) } }) },
  "ema-decay": { of: (c) => String(c.adam.emaDecay), apply: (c, raw) => ({ ...c, adam: { ...c.adam, emaDecay: emaDecayFlag(raw) } }) },
  "data-dir": { of: (c) => c.data.dataDir ?? "", apply: (c, raw) => ({ ...c, data: { ...c.data, dataDir: raw } }) },
};

/** What `trainFromFlags` gives the reports: the trained run, its training facts and where they stand. */
export interface TrainedRun {
  config: RunConfig;
  dir: string;
  split: { train: PointSet; test: PointSet };
  state: TrainingState;
  /** what metrics.json holds of the training; the reports add theirs */
  facts: TrainingFacts;
  /** the step this invocation started from, and its seconds */
  firstStep: number;
  seconds: number;
}

/**
 * Check --out (see `checkOut`), build (or, with --resume, read and check: `resumeRun`) the run's
 * config, and train it with progress until done or Ctrl-C; returns what the reports need, or
 * undefined when a resumed run had nothing left to train. `options` adds what the command decides
 * (target, loss, classes, …); `owner` is `vdm demo`, which replaces its own runs.
 * The training facts go to metrics.json (until the report replaces them); a run stopped by Ctrl-C
 * then ends with `Interrupted`.
 */
export async function trainFromFlags(
  flags: TrainFlags,
  given: ReadonlySet<string>,
  kind: RunKind,
  options: (train: PointSet) => RunOptions,
  onCheckpoint?: (config: RunConfig, state: TrainingState) => void,
  owner?: "demo",
): Promise<TrainedRun | undefined> {
  if (!flags.out) throw new UsageError("--out DIR is required (where the checkpoint and pictures go)");
  const dir = flags.out;
  const claim = checkOut(dir, { resume: flags.resume, force: flags.force, kind, ...(owner ? { owner } : {}) });
  let config: RunConfig;
  let firstStep = 0;
  if (flags.resume) {
    const resumed = resumeRun(dir, kind, flags, given, resumeFlags);
    if (resumed.nothingLeft) return undefined;
    ({ config, done: firstStep } = resumed);
  } else {
    const seed = intFlag("seed", flags.seed, { min: 0 });
    const image = isImageSet(flags.data);
    // flags that the data make moot are refused, not ignored (a command's own tables may lack some: given holds only what it parsed)
    if (!image)
      refuseGiven(
        given,
        [imageTrainFlags, imageReportFlags, pictureFlags].flatMap((g) => Object.keys(g.specs)),
        `image data only; --data ${flags.data} is points`,
      );
    if (!flags.data.toLowerCase().endsWith(".csv"))
      refuseGiven(given, ["label-column"], `names a column of a CSV file; --data ${flags.data} is not one`);
    const split = loadSplit(
      flags.data,
      seed,
      image ? { train: 0, test: 0, dataDir: flags["data-dir"] } : { labelColumn: flags["label-column"] },
    );
    const lr = flags.lr === "" ? undefined : lrFlag(flags.lr);
    if (flags["lr-decay"] !== "none" && flags["lr-decay"] !== "cosine")
      throw new UsageError(`--lr-decay must be none or cosine, got "${flags["lr-decay"]}"`);
    const emaDecay = flags["ema-decay"] === "" ? undefined : emaDecayFlag(flags["ema-decay"]);
    const unet = {
      ...(flags.base ? { base: intFlag("base", flags.base, { min: 1 }) } : {}),
      ...(flags.multipliers ? { multipliers: intListFlag("multipliers", flags.multipliers, { min: 1 }) } : {}),
      ...(flags.attention ? { attention: intListFlag("attention", flags.attention, { min: 0 }) } : {}),
    };
    // the config's options come from the flags: what the library refuses in them is a usage mistake
    config = asUsage(() =>
      runConfigFor(
        flags.data,
        split,
        {
          ...(flags.schedule ? { schedule: flags.schedule } : {}),
          ...(flags.timesteps ? { timesteps: intFlag("timesteps", flags.timesteps, { min: 0 }) } : {}),
          ...(flags.steps ? { steps: intFlag("steps", flags.steps, { min: 1 }) } : {}),
          ...(flags.batch ? { batch: intFlag("batch", flags.batch, { min: 1 }) } : {}),
          ...(lr !== undefined ? { lr } : {}),
          ...(flags["lr-decay"] === "cosine" ? { lrDecay: "cosine" as const } : {}),
          ...(emaDecay !== undefined ? { emaDecay } : {}),
          unet,
          hidden: intFlag("hidden", flags.hidden, { min: 1 }),
          layers: intFlag("layers", flags.layers, { min: 1 }),
          fourierFeatures: intFlag("fourier-features", flags["fourier-features"], { min: 0 }),
          seed,
          ...options(split.train),
        },
        { labelColumn: flags["label-column"], dataDir: flags["data-dir"] },
      ),
    );
  }
  const split = loadSplit(config.data.spec, config.seed, {
    train: config.data.train,
    test: config.data.test,
    labelColumn: config.data.labelColumn ?? "",
    dataDir: config.data.dataDir ?? "",
  });
  const backend = parseBackend(flags);
  const earlier = flags.resume ? earlierFacts(dir) : {};
  claim();
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
      ...(onCheckpoint ? { onCheckpoint: (state: TrainingState) => onCheckpoint(config, state) } : {}),
    }),
  );
  const { state } = result;
  const seconds = (performance.now() - started) / 1000;
  const facts = trainingFacts(state, firstStep, seconds, result.stepsPerSecond, earlier);
  writeTrainingFacts(dir, config.data.spec, facts); // kept if the report is skipped or stopped
  if (!result.completed) throw interrupted(kind, dir, state.step, config.steps);
  return { config, dir, split, state, facts, firstStep, seconds };
}

/** `vdm train`. */
export function run(argv: string[]): Promise<void> {
  return trainDenoiser(argv);
}

/** `vdm train` and `vdm demo` (`owner`, which may replace its own runs): a Diffusion-LM goes to `trainText`. */
export async function trainDenoiser(argv: string[], owner?: "demo"): Promise<void> {
  const out = flagValue(argv, "out");
  const text = flagValue(argv, "data")?.startsWith("text:") || (argv.includes("--resume") && out !== undefined && isTextRun(out));
  if (text) return trainText(argv); // Diffusion-LM (commands/text.ts)
  const { values: flags, given } = parseGiven(argv, ...flagTables);
  if (flags.help) return void console.log(help);
  if (flags.loss !== "" && flags.loss !== "simple" && flags.loss !== "elbo")
    throw new UsageError(`--loss must be simple or elbo, got "${flags.loss}"`);
  if (!flags.resume && !flags.conditional)
    refuseGiven(given, ["cfg-dropout", "cfg-scale"], "these apply to a conditional model only (--conditional)");
  const dropout = Number(flags["cfg-dropout"]);
  if (!(dropout >= 0 && dropout < 1)) throw new UsageError(`--cfg-dropout must be in [0, 1), got "${flags["cfg-dropout"]}"`);
  const imageOptions = {
    evalImages: intFlag("eval-images", flags["eval-images"], { min: 1 }),
    elboSamples: intFlag("elbo-samples", flags["elbo-samples"], { min: 1 }),
    sampleSteps: intFlag("sample-steps", flags["sample-steps"], { min: 1 }),
    cfgScale: Number(flags["cfg-scale"]),
    quiet: flags.quiet,
    zoom: zoomFlag(flags),
  };
  if (!(imageOptions.cfgScale >= 0)) throw new UsageError(`--cfg-scale must be a number >= 0, got "${flags["cfg-scale"]}"`);
  const net = parseNet(flags.net);
  const trained = await trainFromFlags(
    flags,
    given,
    "denoiser",
    (trainSet) => ({
      target: parseTarget(flags.target),
      ...(flags.loss ? { loss: flags.loss as Weighting } : {}),
      ...(net ? { architecture: net } : {}),
      ...(flags.conditional ? { classes: classCount(trainSet, flags.data), cfgDropout: dropout } : {}),
    }),
    flags["no-report"]
      ? undefined
      : (c, s) => {
          if (!c.data.shape) return;
          const trained = trainedModel(c, s.ema);
          withBackend(trained.denoiser, parseBackend(flags), (den) =>
            progressGrid(c, flags.out, s.step, den, trained.process, s.losses.subarray(0, s.step), imageOptions.zoom),
          );
        },
    owner,
  );
  if (!trained) return;
  const { config, dir, split, state, facts } = trained;
  const summary = (digits: number) => `trained ${config.data.spec}: ${trainedSummary(facts, trained.firstStep, trained.seconds, digits)}`;
  if (flags["no-report"]) {
    if (flags.json) return void console.log(JSON.stringify({ data: config.data.spec, ...facts }));
    console.log(summary(1));
    console.log(
      `wrote ${["config.json", "state.safetensors", "metrics.json"].map((f) => join(dir, f)).join(", ")} (no report: --no-report)`,
    );
    return;
  }
  const { denoiser, process } = trainedModel(config, state.ema);
  const backend = parseBackend(flags);
  const extra = {
    trainSeconds: facts.trainSeconds,
    ...(facts.stepsPerSecond !== undefined ? { stepsPerSecond: facts.stepsPerSecond } : {}),
  };
  if (config.data.shape) {
    const metrics = withBackend(denoiser, backend, (den) =>
      imageReport(config, dir, den, process, split, state.losses, imageOptions, extra),
    );
    if (flags.json) return void console.log(JSON.stringify(metrics));
    console.log(summary(2));
    console.log(
      `test: ${metrics.bpd.toFixed(3)} bits/dim on ${metrics.testImages} images (reconstruction ${metrics.terms.reconstruction.toFixed(1)}, prior ${metrics.terms.prior.toFixed(3)}, diffusion ${metrics.terms.diffusion.toFixed(1)} nats)`,
    );
    console.log(`wrote ${metrics.written.join(", ")}`);
    return;
  }
  const metrics = withBackend(denoiser, backend, (den) => report(config, dir, den, process, split, state.losses, extra));
  if (flags.json) return void console.log(JSON.stringify(metrics));
  console.log(summary(1));
  console.log(
    `held-out: ${metrics.bpd.toFixed(3)} bits/dim = ${metrics.nats.toFixed(3)} ± ${metrics.natsStdError.toFixed(3)} nats (reconstruction ${metrics.terms.reconstruction.toFixed(3)}, prior ${metrics.terms.prior.toFixed(4)}, diffusion ${metrics.terms.diffusion.toFixed(3)})`,
  );
  if (metrics.diffusionVariance !== undefined)
    console.log(
      `variance of the one-draw diffusion-term estimate: ${metrics.diffusionVariance.toPrecision(4)} nats² per example; γ at the reconstruction and prior latents: ${metrics.gamma.reconstruction.toFixed(3)}, ${metrics.gamma.prior.toFixed(3)}`,
    );
  console.log(`energy distance ${metrics.energyDistance.toExponential(2)} (noise floor ${metrics.noiseFloor.toExponential(2)})`);
  console.log(
    `wrote ${["config.json", "state.safetensors", "samples.png", "loss.png", "forward.png", "metrics.json"].map((f) => join(dir, f)).join(", ")}`,
  );
}
