/**
 * `vdm train` of a denoiser (and `vdm demo`, the same on moons): its flags, the run, and the report
 * of a finished 2-D run (samples, floors, the forward process, metrics.json) or image run.
 */
import { join } from "node:path";
import { classCount, type PointSet } from "../data/index.js";
import { normalize } from "../data/normalize.js";
import { qSample } from "../diffusion/forward.js";
import { parseTarget, targets } from "../diffusion/parameterization.js";
import type { DiffusionProcess } from "../diffusion/process.js";
import { filled, Rng } from "../engine/index.js";
import { numpy as np } from "../engine/jax.js";
import { evaluate, referenceSample } from "../eval/run.js";
import { guidanceDefaults } from "../guidance/guided.js";
import { writeFileAtomic } from "../io/atomic.js";
import { hvaeDefaults } from "../models/hvae.js";
import { architecture, architectures, networkKinds } from "../models/kinds.js";
import { lossChart } from "../plot/lines.js";
import { boundsOf } from "../plot/plane.js";
import { chartPng } from "../plot/render.js";
import { scatterChart } from "../plot/scatter.js";
import { AncestralSampler } from "../sample/ancestral.js";
import { labelClasses, normalizationOf, trainedModel } from "../train/build.js";
import type { RunConfig } from "../train/config.js";
import { runDefaults } from "../train/defaults.js";
import { isHvaeRun } from "../train/load.js";
import {
  defineFlags,
  int,
  oneOf,
  optional,
  optionalInt,
  type Parsed,
  parseGiven,
  type RawValues,
  refuseGiven,
  UsageError,
} from "./args.js";
import { elboFacts, meanOfLast, trainedSummary } from "./facts.js";
import { scaleFlag } from "./guidance.js";
import { hvaeTrainReport } from "./hvae.js";
import { imageReport, progressGrid } from "./images.js";
import { latentBoundLine } from "./latent.js";
import { backendFlags, parseBackend, withBackend } from "./model.js";
import { pictureFlags } from "./pictures.js";
import { imageTrainFlags, trainFlags, trainFromFlags, trainRunFlags } from "./training.js";

/** `vdm train`'s own flags. */
const denoiserFlags = defineFlags("Denoiser", {
  net: {
    value: architectures("denoiser").join("|"),
    help: "the network (default: mlp for points, unet for images)",
    parse: optional(oneOf(...architectures("denoiser"))),
  },
  levels: {
    value: "T",
    help: `--net hvae: the hierarchical VAE's latent levels (default: ${hvaeDefaults.levels})`,
    parse: optionalInt({ min: 1 }),
  },
  steps: { value: "N", help: "training steps (default: the data set's)", parse: optionalInt({ min: 1 }) },
  target: { default: runDefaults.target, value: targets.join("|"), help: "what the network predicts", parse: parseTarget },
  loss: {
    value: "simple|elbo",
    help: "the loss (default: elbo; simple for images on a fixed schedule and for --net ncsn)",
    parse: optional(oneOf("simple", "elbo")),
  },
  conditional: { type: "boolean", help: "train p(x | y) on the data's labels (see above)" },
  latent: {
    value: "AE",
    help: "train on the latents of the autoencoder run AE (vdm train-autoencoder) instead of the images; samples are decoded through it (see above)",
  },
  "cfg-dropout": {
    default: runDefaults.cfgDropout,
    value: "P",
    help: '--conditional: the probability that a label is dropped to "no label"',
    parse: dropoutFlag,
  },
});

/** A label-dropout probability in [0, 1). */
function dropoutFlag(raw: string, name: string): number {
  const p = Number(raw);
  if (raw.trim() === "" || !(p >= 0 && p < 1)) throw new UsageError(`--${name} must be in [0, 1), got "${raw}"`);
  return p;
}

/** What `vdm train` reports at the end of an image run. */
export const imageReportFlags = defineFlags("Image reports", {
  "eval-images": { default: "500", value: "N", help: "test images of the final bits/dim", parse: int({ min: 1 }) },
  "elbo-samples": { default: "4", value: "K", help: "draws of t per test image", parse: int({ min: 1 }) },
  "sample-steps": { default: "100", value: "N", help: "ancestral steps of the final samples", parse: int({ min: 1 }) },
  "cfg-scale": {
    default: guidanceDefaults.cfgScale,
    value: "W",
    help: "a conditional model: the classifier-free guidance scale of DIR/cfg.png",
    parse: (raw: string, name: string) => scaleFlag(name, raw),
  },
});

/** The flag tables `vdm train` of a denoiser parses, in the order its help lists them. */
export const denoiserFlagTables = [
  denoiserFlags,
  trainFlags,
  trainRunFlags,
  imageTrainFlags,
  imageReportFlags,
  pictureFlags,
  backendFlags,
] as const;

/** `vdm train`'s flags, parsed, and as written (`raw`: what --resume compares with the run). */
export interface DenoiserFlags {
  values: Parsed<typeof denoiserFlagTables>;
  raw: RawValues;
}

/** `vdm train`'s flags at their defaults (what `vdm demo` trains with, on moons). */
export function defaultDenoiserFlags(): DenoiserFlags {
  const { values, raw } = parseGiven([], ...denoiserFlagTables);
  return { values, raw };
}

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
  // ancestral sampling over the run's own levels: what the report has always measured (README, "Quick start")
  const ev = evaluate(den, process, split.test, { reference, normalization: z, rng, n, sampler: new AncestralSampler(process) });
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
    ...elboFacts(ev, process),
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

/**
 * `vdm train` of a denoiser with its parsed `flags` (`given`: the names the command line gave) and
 * `vdm demo` (`owner`, which may replace its own runs): train, then report.
 */
export async function trainDenoiser(parsed: DenoiserFlags, given: ReadonlySet<string>, owner?: "demo"): Promise<void> {
  const flags = parsed.values;
  if (!flags.resume && !flags.conditional)
    refuseGiven(given, ["cfg-dropout", "cfg-scale"], "these apply to a conditional model only (--conditional)");
  const hvae = networkKinds[architecture(flags.net ?? "")?.kind ?? ""]?.hvae !== undefined;
  if (!flags.resume && !hvae) refuseGiven(given, ["levels"], "the levels of a hierarchical VAE (--net hvae)");
  if (!flags.resume && hvae)
    refuseGiven(
      given,
      ["schedule", "timesteps", "target", "loss", "conditional", "fourier-features", "base", "multipliers", "attention", "sample-steps"],
      "a hierarchical VAE has learned Gaussian levels of its own: no noise schedule, denoiser, labels or U-Net",
    );
  const imageOptions = {
    evalImages: flags["eval-images"],
    elboSamples: flags["elbo-samples"],
    sampleSteps: flags["sample-steps"],
    cfgScale: flags["cfg-scale"],
    quiet: flags.quiet,
    zoom: flags.zoom,
  };
  const trained = await trainFromFlags(
    parsed,
    given,
    "denoiser",
    (trainSet) => ({
      target: flags.target,
      ...(flags.loss ? { loss: flags.loss } : {}),
      ...(flags.net ? { architecture: flags.net } : {}),
      ...(flags.levels ? { levels: flags.levels } : {}),
      ...(flags.conditional ? { classes: classCount(trainSet, flags.data), cfgDropout: flags["cfg-dropout"] } : {}),
    }),
    flags["no-report"]
      ? undefined
      : (c, s, latent) => {
          if (!c.data.shape || isHvaeRun(c)) return;
          const trained = trainedModel(c, s.ema);
          withBackend(trained.denoiser, parseBackend(flags), (den) =>
            progressGrid(c, flags.out, s.step, den, trained.process, s.losses.subarray(0, s.step), imageOptions.zoom, latent),
          );
        },
    owner,
    [imageReportFlags],
    flags.latent || undefined,
  );
  if (!trained) return;
  const { config, dir, split, state, facts, latent } = trained;
  const summary = (digits: number) => `trained ${config.data.spec}: ${trainedSummary(facts, trained.firstStep, trained.seconds, digits)}`;
  if (flags["no-report"]) {
    if (flags.json) return void console.log(JSON.stringify({ data: config.data.spec, ...facts }));
    console.log(summary(1));
    console.log(
      `wrote ${["config.json", "state.safetensors", "metrics.json"].map((f) => join(dir, f)).join(", ")} (no report: --no-report)`,
    );
    return;
  }
  if (isHvaeRun(config))
    return hvaeTrainReport(trained, {
      evalImages: flags["eval-images"],
      elboSamples: flags["elbo-samples"],
      zoom: flags.zoom,
      json: flags.json,
    });
  const { denoiser, process } = trainedModel(config, state.ema);
  const backend = parseBackend(flags);
  const extra = {
    trainSeconds: facts.trainSeconds,
    ...(facts.stepsPerSecond !== undefined ? { stepsPerSecond: facts.stepsPerSecond } : {}),
  };
  if (config.data.shape) {
    const metrics = withBackend(denoiser, backend, (den) =>
      imageReport(config, dir, den, process, split, state.losses, imageOptions, extra, latent),
    );
    if (flags.json) return void console.log(JSON.stringify(metrics));
    console.log(summary(2));
    console.log(
      "latentBound" in metrics
        ? latentBoundLine(config.data.spec, metrics.testImages, metrics.latentBound)
        : `test: ${metrics.bpd.toFixed(3)} bits/dim on ${metrics.testImages} images (reconstruction ${metrics.terms.reconstruction.toFixed(1)}, prior ${metrics.terms.prior.toFixed(3)}, diffusion ${metrics.terms.diffusion.toFixed(1)} nats)`,
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
