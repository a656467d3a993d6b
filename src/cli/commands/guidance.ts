/**
 * `vdm guidance`: how guidance trades diversity for fidelity. For each scale and class, sample,
 * ask an independent judge which class each sample belongs to, and measure the within-class
 * spread; write a table (JSON) and a PNG grid (rows = scales, columns = classes).
 */

import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { className } from "../../data/images.js";
import { loadSplit } from "../../data/index.js";
import { knownMixture } from "../../data/known.js";
import { componentOf } from "../../data/mixtures.js";
import { denormalize, normalize } from "../../data/normalize.js";
import { Rng } from "../../engine/index.js";
import { numpy as np } from "../../engine/jax.js";
import { classify } from "../../eval/classifier.js";
import { imageQuality } from "../../eval/quality.js";
import { drawSamples } from "../../eval/run.js";
import { writeFileAtomic } from "../../io/atomic.js";
import { imageFigurePng } from "../../plot/figure.js";
import { boundsOf } from "../../plot/plane.js";
import { chartPng } from "../../plot/render.js";
import { scatterGridChart } from "../../plot/scatter.js";
import type { Sampler } from "../../sample/sampler.js";
import { defineFlags, helpText, int, numberList, omit, parseGiven, refuseGiven, UsageError } from "../args.js";
import { checkGuidance, classifierFlag, evaluationsPerStep, guidanceFlags, guidedDenoiser, labelledDenoiser } from "../guidance.js";
import { reportBatches } from "../images.js";
import { backendFlags, modelFlags, type ResolvedModel, resolveModel } from "../model.js";
import { pictureFlags } from "../pictures.js";
import { Progress } from "../progress.js";
import { imageJudge } from "../quality.js";
import { checkOutDir } from "../runs.js";
import { makeSampler, samplerFlags } from "../samplers.js";

/** `vdm guidance`'s own flags (it samples every class at every scale). */
const guidanceCommandFlags = defineFlags("Flags", {
  guidance: {
    value: "cfg|classifier",
    help: "cfg: classifier-free, ε̃ = (1 + w)ε(x, y) − w ε(x, ∅); classifier: s̃ = s + γ ∇ log p_φ(y | x_t) with --classifier DIR (the oracle: its exact classifier) (required)",
  },
  scales: { default: "0,1,3,10", value: "LIST", help: "the guidance scales, w for cfg, γ for classifier", parse: numberList({ min: 0 }) },
  judge: { default: "exact", value: "exact|DIR", help: "points: the judge of the samples' classes" },
  n: { default: "100", value: "N", help: "samples per class and scale", parse: int({ min: 2 }) },
  out: { default: "runs/guidance", value: "DIR", help: "where guidance.json and guidance.png go" },
});

/** The flag tables `vdm guidance` parses, in the order its help lists them. */
export const flagTables = [
  guidanceCommandFlags,
  omit(guidanceFlags, "class", "guidance", "scale"),
  modelFlags,
  samplerFlags,
  pictureFlags,
  backendFlags,
] as const;

/** One line for `vdm --help`. */
export const summary = "judge accuracy and diversity of guided samples across scales and classes";

export const help = helpText(
  `vdm guidance --model <DIR|oracle> --guidance cfg|classifier [--classifier DIR] [--judge exact|DIR] [--scales LIST] [--n N]`,
  `For every scale and class: the fraction of samples an independent judge assigns to the requested
class (exact: the Bayes classifier of a known mixture; DIR: a separately trained classifier at the
least noisy level) and the within-class spread (RMS distance to the class's sample mean), from n
samples per class. Writes OUT/guidance.json and OUT/guidance.png.
Image models: the judge is the shipped Fashion-MNIST classifier (models/fashion-mnist-classifier),
and each scale also gets the Fréchet distance of its K·n samples (K classes) to as many test images
in that classifier's features, next to the noise floor (needs 2Kn test images); the PNG shows 8
samples per class and scale.`,
  ...flagTables,
);

export function run(argv: string[]): void {
  const { values: flags, given } = parseGiven(argv, ...flagTables);
  if (flags.help) return void console.log(help);
  checkOutDir(flags.out);
  if (flags.guidance !== "cfg" && flags.guidance !== "classifier")
    throw new UsageError(`--guidance must be cfg or classifier, got "${flags.guidance}"`);
  const { n, scales } = flags;
  const seed = flags.seed;
  const zoom = flags.zoom;
  const resolved = resolveModel(flags);
  const classes =
    resolved.oracle?.classes ??
    (resolved.denoiser.model.classes || (flags.classifier ? classifierFlag("classifier", flags.classifier).classifier.classes : 0));
  if (classes === 0) throw new UsageError("the model is unconditional and no --classifier was given: nothing to guide towards");
  const z = resolved.normalization;
  const sampler = makeSampler(flags, resolved);
  const requested = Int32Array.from({ length: classes * n }, (_, i) => Math.floor(i / n));
  checkGuidance(resolved, flags, requested, scales[0]!);
  if (resolved.shape.length === 3) {
    refuseGiven(given, ["judge"], "2-D models only: image samples are judged by the shipped Fashion-MNIST classifier");
    return void runImages(resolved, flags, sampler, { classes, scales, n, requested, seed, zoom });
  }
  refuseGiven(given, ["zoom"], "image models only (a 2-D model's picture is a scatter plot)");
  const judge = makeJudge(flags.judge, resolved.data, z, classes);
  const D = resolved.dim;
  // one sampling run per scale: n samples of every class in one batch; progress counts the sampler's
  // steps over all scales (the step index it reaches counts down to 0, so the first gives the steps per run)
  let progress: Progress | undefined;
  const rows = scales.map((scale, s) => {
    const den = guidedDenoiser(resolved, flags, requested, scale);
    const onStep = (index: number) => {
      progress ??= new Progress(
        `guided samples (steps of ${scales.length} scales)`,
        scales.length * (index + 1),
        0,
        process.stderr,
        flags.json,
      );
      const perScale = progress.total / scales.length;
      progress.update(s * perScale + perScale - index);
    };
    const all = denormalize(sampler.sample(den, [classes * n, D], new Rng(seed), { onStep }).dataSync() as Float32Array, z);
    const verdicts = judge(all);
    return Array.from({ length: classes }, (_, label) => {
      const x = all.subarray(label * n * D, (label + 1) * n * D);
      const hits = verdicts.subarray(label * n, (label + 1) * n).filter((y) => y === label).length;
      return { scale, label, accuracy: hits / n, spread: spread(x, D), samples: x };
    });
  });
  mkdirSync(flags.out, { recursive: true });
  const table = rows.flat().map(({ scale, label, accuracy, spread }) => ({ scale, class: label, accuracy, spread }));
  writeFileAtomic(
    join(flags.out, "guidance.json"),
    `${JSON.stringify({ model: flags.model, guidance: flags.guidance, judge: flags.judge, n, table }, null, 2)}\n`,
  );
  const bounds = boundsOf(loadSplit(resolved.data, resolved.seed).test.points, 0.05, resolved.dim);
  const cells = rows
    .flat()
    .map((cell) => ({ row: String(cell.scale), column: String(cell.label), points: cell.samples, dim: resolved.dim }));
  const title = `${flags.guidance} guidance of ${flags.model === "oracle" ? `the oracle of ${resolved.data}` : flags.model}: ${n} samples per cell`;
  if (!flags.json) console.error(`drawing guidance.png: ${cells.length} cells of ${n} samples`); // seconds for many points
  writeFileAtomic(
    join(flags.out, "guidance.png"),
    chartPng(scatterGridChart(cells, { title, bounds, rowTitle: "guidance scale", columnTitle: "class" })),
  );
  if (flags.json) return void console.log(JSON.stringify(table));
  console.log(
    `${flags.guidance} guidance, judge ${flags.judge}, ${n} samples per cell: accuracy / spread averaged over ${classes} classes`,
  );
  for (const row of rows) {
    const mean = (f: (c: (typeof row)[number]) => number) => row.reduce((s, c) => s + f(c), 0) / row.length;
    console.log(
      `  scale ${String(row[0]!.scale).padStart(5)}: accuracy ${mean((c) => c.accuracy).toFixed(3)}  spread ${mean((c) => c.spread).toFixed(3)}`,
    );
  }
  console.log(`wrote ${join(flags.out, "guidance.json")}, ${join(flags.out, "guidance.png")}`);
}

/** The image branch: accuracy per class and scale by the shipped classifier, and the Fréchet distance per scale. */
function runImages(
  resolved: ResolvedModel,
  flags: Parameters<typeof guidedDenoiser>[1] & { out: string; json: boolean; model: string },
  sampler: Sampler,
  {
    classes,
    scales,
    n,
    requested,
    seed,
    zoom,
  }: { classes: number; scales: number[]; n: number; requested: Int32Array; seed: number; zoom: number },
): void {
  const total = classes * n;
  const { net, reference } = imageJudge(resolved, total);
  const shown = Math.min(8, n);
  const picture = guidanceImageGrid(resolved.shape, classes, scales.length, shown);
  const table = scales.map((scale, r) => {
    const pixels = drawSamples(labelledDenoiser(resolved, flags, requested, scale), resolved.process, {
      normalization: resolved.normalization,
      shape: resolved.shape,
      latent: resolved.latent,
      n: total,
      rng: new Rng(seed),
      sampler,
      ...reportBatches(`scale ${scale}`, total, false),
    });
    const q = imageQuality(net, pixels, reference, { labels: requested });
    const perClass = Array.from({ length: classes }, (_, y) => q.predicted.subarray(y * n, (y + 1) * n).filter((p) => p === y).length / n);
    picture.place(r, pixels, n);
    return { scale, accuracy: q.accuracy!, frechet: q.frechet, noiseFloor: q.noiseFloor, perClass };
  });
  mkdirSync(flags.out, { recursive: true });
  writeFileAtomic(
    join(flags.out, "guidance.json"),
    `${JSON.stringify({ model: flags.model, guidance: flags.guidance, judge: "models/fashion-mnist-classifier", n, sampler: sampler.name, nfe: sampler.nfe * evaluationsPerStep(flags.guidance), table }, null, 2)}\n`,
  );
  const symbol = flags.guidance === "cfg" ? "w" : "γ";
  const rowLabels = table.map((row) => `${symbol} = ${row.scale}: ${(100 * row.accuracy).toFixed(0)}% right`);
  const columnLabels = Array.from({ length: classes }, (_, k) => className(resolved.data, k));
  const title = `${flags.guidance} guidance of ${flags.model}: ${shown} of ${n} samples per class and scale (% judged the requested class by the shipped classifier)`;
  writeFileAtomic(
    join(flags.out, "guidance.png"),
    imageFigurePng({ title, panels: [{ ...picture.panel, rowLabels, columnLabels }], zoom }),
  );
  if (flags.json) return void console.log(JSON.stringify(table));
  console.log(
    `${flags.guidance} guidance, ${n} samples per class (${sampler.name}, ${sampler.nfe * evaluationsPerStep(flags.guidance)} NFE): class accuracy by the shipped classifier, Fréchet distance (noise floor ${reference.noiseFloor.toFixed(1)})`,
  );
  for (const row of table)
    console.log(`  scale ${String(row.scale).padStart(5)}: accuracy ${row.accuracy.toFixed(3)}  Fréchet ${row.frechet.toFixed(1)}`);
  console.log(`wrote ${join(flags.out, "guidance.json")}, ${join(flags.out, "guidance.png")}`);
}

/**
 * The pixels of the image guidance grid: for each scale a band of two rows, and in it for each
 * class a block of its first `shown` samples (⌈shown/2⌉ a row; empty places white).
 * `place(r, pixels, n)` copies the samples of scale r (n per class, classes in order) into the band.
 */
function guidanceImageGrid(shape: number[], classes: number, scales: number, shown: number) {
  const size = shape.reduce((a, b) => a * b, 1);
  const perRow = Math.ceil(shown / 2),
    rowsPer = Math.ceil(shown / perRow);
  const cols = classes * perRow;
  const pixels = new Float32Array(scales * rowsPer * cols * size).fill(255);
  const place = (r: number, samples: Float32Array, n: number) => {
    for (let y = 0; y < classes; y++)
      for (let k = 0; k < shown; k++) {
        const at = (r * rowsPer + Math.floor(k / perRow)) * cols + y * perRow + (k % perRow);
        pixels.set(samples.subarray((y * n + k) * size, (y * n + k + 1) * size), at * size);
      }
  };
  return { place, panel: { pixels, shape, n: scales * rowsPer * cols, cols, columnSpan: perRow, rowSpan: rowsPer } };
}

/** RMS distance of points [n, D] to their mean. */
function spread(x: Float32Array, D: number): number {
  const n = x.length / D;
  const mean = Array.from({ length: D }, (_, d) => x.filter((_, i) => i % D === d).reduce((a, b) => a + b, 0) / n);
  return Math.sqrt(x.reduce((s, v, i) => s + (v - mean[i % D]!) ** 2, 0) / n);
}

/**
 * The judge: the exact Bayes classifier of a known mixture, or a trained classifier at the least
 * noisy level, which must see the model's dimensions and know its `classes`.
 */
function makeJudge(spec: string, data: string, z: { mean: number[]; std: number[] }, classes: number): (x: Float32Array) => Int32Array {
  if (spec === "exact") {
    const mixture = knownMixture(data);
    return (x) => componentOf(mixture, x);
  }
  const c = classifierFlag("judge", spec);
  if (c.config.data.dim !== z.mean.length)
    throw new UsageError(`--judge ${spec}: the classifier sees ${c.config.data.dim}-D data, the model ${z.mean.length}-D`);
  if (c.classifier.classes !== classes)
    throw new UsageError(
      `--judge ${spec}: the classifier knows ${c.classifier.classes} classes (${c.config.data.spec}), the guided model ${classes} (${data})`,
    );
  const t = c.process.schedule.tMin;
  return (x) => {
    const D = z.mean.length;
    const xs = np.array(normalize(x, c.normalization)).reshape([x.length / D, D]);
    return classify(c.classifier, c.params, xs, t, -Infinity);
  };
}
