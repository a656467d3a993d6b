/** What `vdm train` writes for image runs: sample grids during and after training, test bits/dim, a CFG grid. */
import { join } from "node:path";
import { className } from "../data/images.js";
import { type PointSet, subset } from "../data/index.js";
import type { Normalization } from "../data/normalize.js";
import type { DiffusionProcess } from "../diffusion/process.js";
import { Rng } from "../engine/index.js";
import { numpy as np, tree } from "../engine/jax.js";
import { heldOutLatentBound } from "../eval/latent.js";
import { type BatchOptions, drawSamples, heldOutElbo } from "../eval/run.js";
import { cfgModel } from "../guidance/guided.js";
import { writeFileAtomic } from "../io/atomic.js";
import { imageFigurePng } from "../plot/figure.js";
import { lossChart } from "../plot/lines.js";
import { chartPng } from "../plot/render.js";
import { AncestralSampler } from "../sample/ancestral.js";
import type { Denoiser } from "../sample/sampler.js";
import { dataShape, labelClasses, normalizationOf } from "../train/build.js";
import type { RunConfig } from "../train/config.js";
import type { LatentRun, LatentSampling } from "../train/latent.js";
import { elboFacts } from "./facts.js";
import { Progress } from "./progress.js";

/** Ancestral steps of the grids drawn at checkpoints (cheap; the final grid uses --sample-steps). */
const PROGRESS_STEPS = 50;

/** An image report's ancestral sampler of `steps` levels, or of the whole chain when a discrete process has fewer (T < steps). */
const reportSampler = (process: DiffusionProcess, steps: number) =>
  new AncestralSampler(process, { steps: process.T > 0 ? Math.min(steps, process.T) : steps });
/** Images per network call in the report (activation memory grows with it; wasm has 4 GiB). */
const REPORT_BATCH = 16;

/**
 * 2-D points per sampler or ELBO call in the commands that take any number of them (`vdm sample
 * --n 2000000`): small enough for a progress line every few seconds, large enough that a call's
 * fixed cost is negligible.
 */
export const POINT_BATCH = 100_000;

/** Batches of a report phase (`batch` examples each: images by default), with progress on stderr when there is more than one. */
export const reportBatches = (label: string, total: number, quiet: boolean, batch = REPORT_BATCH): BatchOptions => {
  const progress = new Progress(label, total, 0, process.stderr, quiet || total <= batch);
  return { batch, onBatch: (done) => progress.update(done) };
};

/** The images a run's samples are: its data, or a latent run's decoded images (its autoencoder's shape and normalisation). */
function imageSpace(config: RunConfig, latent: LatentRun | undefined): { shape: number[]; normalization: Normalization } {
  const images = latent?.autoencoder.config ?? config;
  return { shape: dataShape(images), normalization: normalizationOf(images) };
}

/**
 * At checkpoint `step` (a latent run: its samples decoded): DIR/grid-STEP.png with 16 samples of `den` (the EMA model; each image pixel
 * `zoom`×`zoom`), the same as DIR/grid.png (the latest), and DIR/loss.png with the losses so far,
 * so a long run can be watched.
 */
export function progressGrid(
  config: RunConfig,
  dir: string,
  step: number,
  den: Denoiser,
  process: DiffusionProcess,
  losses: ArrayLike<number>,
  zoom: number,
  latent?: LatentRun,
): void {
  const { shape, normalization } = imageSpace(config, latent);
  const samples = drawSamples(den, process, {
    normalization,
    shape,
    latent,
    n: 16,
    rng: new Rng(config.seed + 7),
    sampler: reportSampler(process, PROGRESS_STEPS),
  });
  const png = imageFigurePng({
    title: `${config.data.spec} at step ${step}: 16 samples (EMA weights, ${PROGRESS_STEPS} ancestral steps)`,
    panels: [{ pixels: samples, shape, n: 16, cols: 4 }],
    zoom,
  });
  writeFileAtomic(join(dir, `grid-${step}.png`), png);
  writeFileAtomic(join(dir, "grid.png"), png);
  writeFileAtomic(join(dir, "loss.png"), chartPng(lossChart(losses)));
}

/**
 * Class-conditional samples with classifier-free guidance at scale w: one row of `perClass`
 * samples per class, in data space.
 */
export function classRows(
  den: Denoiser,
  process: DiffusionProcess,
  z: Normalization,
  shape: number[],
  classes: number,
  perClass: number,
  w: number,
  rng: Rng,
  sampler = new AncestralSampler(process),
  batches: BatchOptions = {},
  latent?: LatentSampling,
): Float32Array {
  const model = cfgModel(den.model);
  const made: Denoiser["params"][] = [];
  const guided = (start: number, m: number): Denoiser => {
    const labels = Int32Array.from({ length: m }, (_, i) => Math.floor((start + i) / perClass));
    made.push({ net: tree.ref(den.params), labels: np.array(labels, { dtype: np.int32 }), scale: np.array([w]) });
    return { model, params: made.at(-1)! };
  };
  const samples = drawSamples(guided, process, { normalization: z, shape, latent, n: classes * perClass, rng, sampler, ...batches });
  tree.dispose(made);
  return samples;
}

/** The first n examples of a set (all of them if it has fewer): the test images of a report. */
export const firstOf = (set: PointSet, n: number): PointSet =>
  subset(
    set,
    Array.from({ length: Math.min(n, set.n) }, (_, i) => i),
  );

export interface ImageReportOptions {
  evalImages: number;
  elboSamples: number;
  sampleSteps: number;
  /** classifier-free guidance scale w of DIR/cfg.png (conditional models) */
  cfgScale: number;
  /** no progress lines */
  quiet: boolean;
  /** each image pixel of the PNG grids is drawn zoom × zoom */
  zoom: number;
}

/**
 * Test bits/dim, sample grids, loss curve and metrics.json for a finished image run. A latent run
 * (`latent`: its autoencoder and the test images) draws decoded samples and reports the latent bound
 * (eval/latent.ts, one draw of q(z|x) per image) on the test images instead of the ELBO.
 */
export function imageReport(
  config: RunConfig,
  dir: string,
  den: Denoiser,
  process: DiffusionProcess,
  split: { train: PointSet; test: PointSet },
  losses: Float32Array,
  o: ImageReportOptions,
  extra: Record<string, unknown>,
  latent?: { run: LatentRun; test: PointSet },
) {
  const { shape, normalization: z } = imageSpace(config, latent?.run);
  const rng = new Rng(config.seed + 1);
  const images = latent?.test ?? split.test;
  const test = firstOf(images, o.evalImages);
  let started = performance.now();
  const batches = reportBatches("eval (test bits/dim)", test.n, o.quiet);
  const bound = latent
    ? { latentBound: heldOutLatentBound(den, process, latent.run, test, { rng, elboSamples: o.elboSamples, ...batches }) }
    : elboFacts(
        heldOutElbo(den, process, test, {
          normalization: z,
          rng,
          decoder: config.data.decoder ?? "discretized",
          samples: o.elboSamples,
          ...batches,
        }),
        process,
      );
  const evalSeconds = (performance.now() - started) / 1000;
  const sampler = reportSampler(process, o.sampleSteps);
  started = performance.now();
  const samples = drawSamples(den, process, {
    normalization: z,
    shape,
    latent: latent?.run,
    n: 64,
    rng,
    sampler,
    ...reportBatches("samples", 64, o.quiet),
  });
  const sampleSeconds = (performance.now() - started) / 1000;
  const written = [join(dir, "samples.png"), join(dir, "loss.png")];
  const panels = [
    { title: "held-out test images", pixels: images.points.subarray(0, 64 * test.dim), shape, n: Math.min(64, images.n), cols: 8 },
    { title: `samples (${sampler.nfe} ancestral steps)`, pixels: samples, shape, n: 64, cols: 8 },
  ];
  writeFileAtomic(
    written[0]!,
    imageFigurePng({ title: `${config.data.spec} after ${config.steps} training steps: held-out | samples`, panels, zoom: o.zoom }),
  );
  writeFileAtomic(written[1]!, chartPng(lossChart(losses)));
  const classes = labelClasses(config);
  if (classes > 0) {
    const perClass = 4;
    const rows = classRows(
      den,
      process,
      z,
      shape,
      classes,
      perClass,
      o.cfgScale,
      new Rng(config.seed + 3),
      sampler,
      reportBatches("guided samples", classes * perClass, o.quiet),
      latent?.run,
    );
    written.push(join(dir, "cfg.png"));
    const rowLabels = Array.from({ length: classes }, (_, k) => className(config.data.spec, k));
    const title = `${config.data.spec}: ${perClass} samples per class, classifier-free guidance w = ${o.cfgScale}`;
    writeFileAtomic(
      join(dir, "cfg.png"),
      imageFigurePng({ title, panels: [{ pixels: rows, shape, n: classes * perClass, cols: perClass, rowLabels }], zoom: o.zoom }),
    );
  }
  written.push(join(dir, "metrics.json"));
  const metrics = {
    data: config.data.spec,
    steps: config.steps,
    batch: config.batch,
    schedule: config.schedule,
    timesteps: config.timesteps,
    model: config.model,
    ...bound,
    testImages: test.n,
    elboSamples: o.elboSamples,
    sampleSteps: sampler.nfe,
    sampleSeconds,
    evalSeconds,
    ...(classes > 0 ? { cfgScale: o.cfgScale } : {}),
    ...extra,
    written,
  };
  writeFileAtomic(join(dir, "metrics.json"), `${JSON.stringify(metrics, null, 2)}\n`);
  return metrics;
}
