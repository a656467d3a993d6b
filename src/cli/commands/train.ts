/** `vdm train`: train a denoiser on a 2-D set (or the user's points) and write pictures and metrics. */
import { join } from "node:path";
import { Rng } from "../../engine/index.js";
import { numpy as np } from "../../engine/jax.js";
import { qSample } from "../../diffusion/forward.js";
import { parseTarget } from "../../diffusion/parameterization.js";
import type { DiffusionProcess, Weighting } from "../../diffusion/process.js";
import { classCount, imageNames, isImageSet, loadSplit, pixelNormalization, toyNames, type PointSet } from "../../data/index.js";
import { fitNormalization, normalize } from "../../data/normalize.js";
import { evaluate, referenceSample } from "../../eval/run.js";
import { writeFileAtomic } from "../../io/atomic.js";
import { readCheckpointConfig, type TrainingState } from "../../io/checkpoint.js";
import { lossChart, scatter, strip, boundsOf } from "../../plot/plots.js";
import { scheduleNames } from "../../schedule/index.js";
import { buildModel, makeRunConfig, normalizationOf, type RunConfig, type RunOptions } from "../../train/config.js";
import { formatSeconds } from "../../train/progress.js";
import { train } from "../../train/trainer.js";
import { intFlag, intListFlag, parse, UsageError } from "../args.js";
import { backendFlags, backendHelp, parseBackend, withBackend } from "../model.js";
import { onnxStepper } from "../../onnx/train.js";
import { imageReport, progressGrid } from "./images.js";

export const help = `vdm train --data <${[...toyNames, ...imageNames].join("|")}|FILE.csv|FILE.json> --out DIR [--net mlp|ncsn|unet]
          [--steps N] [--timesteps T] [--schedule <${scheduleNames.join("|")}>] [--target eps|x0|v|score]
          [--loss simple|elbo] [--batch B] [--lr LR] [--lr-decay none|cosine] [--ema-decay 0.999] [--hidden H] [--layers L] [--fourier-features F]
          [--conditional [--cfg-dropout 0.15]] [--label-column COL] [--seed S] [--resume] [--json]
          [--backend auto|onnx|jax [--onnx-threads N]]
          images: [--data-dir DIR] [--base 32] [--multipliers 1,2,2] [--attention 2] [--eval-images 500]
                  [--elbo-samples 4] [--sample-steps 100] [--cfg-scale 2]

Trains an MLP denoiser (defaults tuned per built-in set; cosine schedule, T = 1000), or with
--net ncsn an NCSN-style score model (the network sees x̃ = x_0 + σ̃ε, σ̃ log-uniform on NCSN's
geometric ladder 0.01..10, σ̃²-weighted denoising score matching), checkpointing into DIR (config.json +
state.safetensors). Then writes DIR/loss.png, DIR/samples.png (held-out data | samples),
DIR/forward.png (the forward process x_0 … x_T) and DIR/metrics.json (bits/dim with the three ELBO
terms, energy distance to held-out data and its noise floor, steps/s).
--conditional trains p(x | y) on the data's labels with a learned label embedding; each label is
dropped to "no label" with probability --cfg-dropout, so one model serves classifier-free guidance.
--label-column picks a CSV column (0-based index or header name) as the label.
--resume continues DIR's run where it stopped (a larger --steps extends it).

Images (--data fashion-mnist): IDX files from --data-dir (default ${"/usr/share/datasets/fashion-mnist"} when
Debian's dataset-fashion-mnist is installed, else the 2,000/500-image subset in data/fashion-mnist).
Pixels map to [−1, 1]; a U-Net (base channels × multipliers per level, self-attention at the listed
levels) is trained in continuous time on the linear log-SNR schedule, batch 32. At every checkpoint
DIR/grid-STEP.png (and DIR/grid.png, the latest) shows 16 samples and DIR/loss.png the loss so far; at the end DIR/samples.png (held-out | 64 samples),
DIR/loss.png and DIR/metrics.json (test bits/dim with the discretised 8-bit decoder and the three
ELBO terms, on --eval-images test images with --elbo-samples draws of t each); a conditional model
also writes DIR/cfg.png (one row of 4 samples per class, classifier-free guidance at --cfg-scale w).

--backend onnx runs the training step (forward, jax-js's gradient, AdamW and EMA, exported to ONNX as
one graph) and the reports' network in ONNX Runtime; checkpoints are the same either way.

${backendHelp}`;

/** Samples, floors and pictures for a finished run; returns the metrics written to metrics.json. */
function report(config: RunConfig, dir: string, den: Parameters<typeof evaluate>[0], process: DiffusionProcess, split: { train: PointSet; test: PointSet }, losses: Float32Array, extra: Record<string, unknown>) {
  const rng = new Rng(config.seed + 1);
  const n = Math.min(1000, split.test.n);
  const reference = referenceSample(config.data.spec, split.train, n, config.seed);
  const z = normalizationOf(config);
  const ev = evaluate(den, process, z, split.test, reference, rng, n);
  const bounds = boundsOf(split.test.points);
  writeFileAtomic(join(dir, "samples.png"), strip([scatter(split.test.points, config.data.dim, { bounds, labels: split.test.labels }), scatter(ev.samples, config.data.dim, { bounds })]).png());
  writeFileAtomic(join(dir, "loss.png"), lossChart(losses).png());
  writeFileAtomic(join(dir, "forward.png"), forwardStrip(process, normalize(split.test.points, z), config.data.dim).png());
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
    terms: ev.terms,
    energyDistance: ev.energyDistance,
    noiseFloor: ev.noiseFloor,
    samples: n,
    ...extra,
  };
  writeFileAtomic(join(dir, "metrics.json"), JSON.stringify(metrics, null, 2) + "\n");
  return metrics;
}

function meanOfLast(a: Float32Array, k: number): number {
  const tail = a.subarray(Math.max(0, a.length - k));
  return tail.reduce((s, v) => s + v, 0) / Math.max(1, tail.length);
}

/** Scatter panels of q(x_t | x_0) for held-out points at t = 0, ¼, ½, ¾, 1 (normalised coordinates). */
function forwardStrip(process: DiffusionProcess, points: Float32Array, dim: number) {
  const levels = process.samplingLevels(process.T > 0 ? Math.min(100, process.T) : 100);
  const last = levels.t.length - 1;
  const n = points.length / dim;
  const rng = new Rng(0);
  const bounds = { xmin: -3, xmax: 3, ymin: -3, ymax: 3 };
  return strip([0, 0.25, 0.5, 0.75, 1].map((f) => {
    const i = Math.round(f * last);
    const xt = i === 0 ? points : (qSample(np.array(points).reshape([n, dim]), np.full([n], levels.gamma[i]!), rng.normal([n, dim])).dataSync() as Float32Array);
    return scatter(xt, dim, { bounds, size: 240 });
  }));
}

function parseNet(raw: string): "mlp" | "ncsn" | "unet" | undefined {
  if (raw === "") return undefined;
  if (raw !== "mlp" && raw !== "ncsn" && raw !== "unet") throw new UsageError(`--net must be mlp, ncsn or unet, got "${raw}"`);
  return raw;
}

/** Flags shared by `vdm train` and `vdm train-classifier` (empty: the data set's default). */
export const trainFlags = {
  data: "moons", out: "", steps: "", timesteps: "", schedule: "", batch: "", lr: "", "lr-decay": "none", "ema-decay": "", hidden: "128", layers: "3", "fourier-features": "0", "label-column": "",
  "data-dir": "", base: "", multipliers: "", attention: "", ...backendFlags,
};

type TrainFlags = Record<keyof typeof trainFlags | "seed", string> & { resume: boolean; quiet: boolean };

/**
 * Build (or, with --resume, read) the run's config, train it with progress, and return what the
 * reports need. `options` adds what the command decides (target, loss, classes, …).
 */
export function trainFromFlags(flags: TrainFlags, options: (train: PointSet) => RunOptions, onCheckpoint?: (config: RunConfig, state: TrainingState, process: DiffusionProcess) => void) {
  if (!flags.out) throw new UsageError("--out DIR is required (where the checkpoint and pictures go)");
  const dir = flags.out;
  let config: RunConfig;
  if (flags.resume) {
    config = readCheckpointConfig<RunConfig>(dir);
    if (flags.steps) config = { ...config, steps: intFlag("steps", flags.steps, { min: 1 }) };
  } else {
    const seed = intFlag("seed", flags.seed, { min: 0 });
    const image = isImageSet(flags.data);
    const split = loadSplit(flags.data, seed, image ? { train: 0, test: 0, dataDir: flags["data-dir"] } : { labelColumn: flags["label-column"] });
    const z = image ? pixelNormalization : fitNormalization(split.train);
    const lr = flags.lr === "" ? undefined : Number(flags.lr);
    if (lr !== undefined && !(lr > 0)) throw new UsageError(`--lr must be a positive number, got "${flags.lr}"`);
    if (flags["lr-decay"] !== "none" && flags["lr-decay"] !== "cosine") throw new UsageError(`--lr-decay must be none or cosine, got "${flags["lr-decay"]}"`);
    const emaDecay = flags["ema-decay"] === "" ? undefined : Number(flags["ema-decay"]);
    if (emaDecay !== undefined && !(emaDecay > 0 && emaDecay < 1)) throw new UsageError(`--ema-decay must be in (0, 1), got "${flags["ema-decay"]}"`);
    const unet = {
      ...(flags.base ? { base: intFlag("base", flags.base, { min: 1 }) } : {}),
      ...(flags.multipliers ? { multipliers: intListFlag("multipliers", flags.multipliers, { min: 1 }) } : {}),
      ...(flags.attention ? { attention: intListFlag("attention", flags.attention, { min: 0 }) } : {}),
    };
    config = makeRunConfig(
      {
        spec: flags.data, dim: split.train.dim, mean: z.mean, std: z.std, train: split.train.n, test: split.test.n,
        ...(flags["label-column"] ? { labelColumn: flags["label-column"] } : {}),
        ...(split.train.shape ? { shape: split.train.shape } : {}),
        ...(flags["data-dir"] ? { dataDir: flags["data-dir"] } : {}),
      },
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
    );
  }
  const split = loadSplit(config.data.spec, config.seed, { train: config.data.train, test: config.data.test, labelColumn: config.data.labelColumn ?? "", dataDir: config.data.dataDir ?? "" });
  const started = performance.now();
  const backend = parseBackend(flags);
  const result = train(config, dir, split.train, {
    resume: flags.resume,
    quiet: flags.quiet,
    ...(backend.onnx ? { makeStepper: onnxStepper({ threads: backend.threads }) } : {}),
    ...(onCheckpoint ? { onCheckpoint: (state, process) => onCheckpoint(config, state, process) } : {}),
  });
  return { ...result, config, dir, split, trainSeconds: (performance.now() - started) / 1000 };
}

export function run(argv: string[]): void {
  const flags = parse(argv, { ...trainFlags, net: "", target: "eps", loss: "simple", "cfg-dropout": "0.15", "eval-images": "500", "elbo-samples": "4", "sample-steps": "100", "cfg-scale": "2" }, ["resume", "quiet", "conditional"]);
  if (flags.help) return void console.log(help);
  if (flags.loss !== "simple" && flags.loss !== "elbo") throw new UsageError(`--loss must be simple or elbo, got "${flags.loss}"`);
  const dropout = Number(flags["cfg-dropout"]);
  if (!(dropout >= 0 && dropout < 1)) throw new UsageError(`--cfg-dropout must be in [0, 1), got "${flags["cfg-dropout"]}"`);
  const imageOptions = {
    evalImages: intFlag("eval-images", flags["eval-images"], { min: 1 }),
    elboSamples: intFlag("elbo-samples", flags["elbo-samples"], { min: 1 }),
    sampleSteps: intFlag("sample-steps", flags["sample-steps"], { min: 1 }),
    cfgScale: Number(flags["cfg-scale"]),
    quiet: flags.quiet,
  };
  if (!(imageOptions.cfgScale >= 0)) throw new UsageError(`--cfg-scale must be a number >= 0, got "${flags["cfg-scale"]}"`);
  const net = parseNet(flags.net);
  const backend = parseBackend(flags);
  const { config, dir, split, state, stepsPerSecond, process, trainSeconds } = trainFromFlags(
    flags,
    (trainSet) => ({
      target: parseTarget(flags.target),
      loss: flags.loss as Weighting,
      ...(net ? { architecture: net } : {}),
      ...(flags.conditional ? { classes: classCount(trainSet, flags.data), cfgDropout: dropout } : {}),
    }),
    (c, s, p) => {
      if (c.data.shape) withBackend({ model: buildModel(c), params: s.ema }, backend, (den) => progressGrid(c, flags.out, s.step, den, p, s.losses.subarray(0, s.step)));
    },
  );
  if (config.data.shape) {
    const metrics = withBackend({ model: buildModel(config), params: state.ema }, backend, (den) => imageReport(config, dir, den, process, split, state.losses, imageOptions, { stepsPerSecond, trainSeconds }));
    if (flags.json) return void console.log(JSON.stringify(metrics));
    console.log(`trained ${config.data.spec}: ${config.steps} steps in ${formatSeconds(trainSeconds)} (${stepsPerSecond.toFixed(2)} steps/s)`);
    console.log(`test: ${metrics.bpd.toFixed(3)} bits/dim on ${metrics.testImages} images (reconstruction ${metrics.terms.reconstruction.toFixed(1)}, prior ${metrics.terms.prior.toFixed(3)}, diffusion ${metrics.terms.diffusion.toFixed(1)} nats)`);
    console.log(`wrote ${metrics.written.join(", ")}`);
    return;
  }
  const metrics = withBackend({ model: buildModel(config), params: state.ema }, backend, (den) => report(config, dir, den, process, split, state.losses, { stepsPerSecond, trainSeconds }));
  if (flags.json) return void console.log(JSON.stringify(metrics));
  console.log(`trained ${config.data.spec}: ${config.steps} steps in ${formatSeconds(trainSeconds)} (${stepsPerSecond.toFixed(1)} steps/s)`);
  console.log(`held-out: ${metrics.bpd.toFixed(3)} bits/dim (reconstruction ${metrics.terms.reconstruction.toFixed(3)}, prior ${metrics.terms.prior.toFixed(4)}, diffusion ${metrics.terms.diffusion.toFixed(3)} nats)`);
  console.log(`energy distance ${metrics.energyDistance.toExponential(2)} (noise floor ${metrics.noiseFloor.toExponential(2)})`);
  console.log(`wrote ${["config.json", "state.safetensors", "samples.png", "loss.png", "forward.png", "metrics.json"].map((f) => join(dir, f)).join(", ")}`);
}
