/**
 * `vdm nfe`: sample quality against network evaluations (NFE) for several samplers and step counts.
 * The oracle of a known mixture: errors of the samples' mean and standard deviation per dimension
 * (and of the mode weights) against the exact ones; a 2-D model: energy distance to held-out data
 * next to its noise floor; an image model: the Fréchet distance in a classifier's features.
 */

import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { loadSplit } from "../../data/index.js";
import { knownMixture } from "../../data/known.js";
import { componentFractions } from "../../data/mixtures.js";
import { type GaussianMixture, mixtureMoments } from "../../densities/mixture.js";
import { Rng } from "../../engine/index.js";
import { energyDistance } from "../../eval/energy.js";
import { imageQuality } from "../../eval/quality.js";
import { drawSamples, referenceSample } from "../../eval/run.js";
import { writeFileAtomic } from "../../io/atomic.js";
import { lineChart } from "../../plot/lines.js";
import { chartSvg } from "../../plot/render.js";
import { isSamplerName, samplerTable } from "../../sample/by-name.js";
import { defineFlags, helpText, intList, omit, optionalInt, parseGiven, refuseGiven, UsageError } from "../args.js";
import { POINT_BATCH, reportBatches } from "../images.js";
import { backendFlags, modelFlags, type ResolvedModel, resolveModel } from "../model.js";
import { imageJudge } from "../quality.js";
import { checkOutDir } from "../runs.js";
import { makeSampler, samplerFlags } from "../samplers.js";

/** How many samples each sampler draws when --n is not given, per kind of model (see the help). */
const DEFAULT_N = { oracle: 100000, points: 2000, images: 500 };

/** The samplers that walk N levels (they read `steps`): the others' cost is set by their own options. */
const leveled = samplerTable.filter((e) => e.reads.includes("steps")).map((e) => e.name);

/** Those whose levels lie as `spacing` says: the default comparison (pc, N levels of ancestral steps plus corrections, is left out). */
const spaced = samplerTable.filter((e) => e.reads.includes("spacing")).map((e) => e.name);

/** `vdm nfe`'s own flags (the samplers and their levels replace --sampler and --sample-steps). */
const nfeFlags = defineFlags("Flags", {
  samplers: {
    default: spaced.join(","),
    value: "LIST",
    help: `the samplers to compare, each once (any of ${leveled.join(", ")}: the others have no N)`,
  },
  steps: { default: "5,10,20,50", value: "LIST", help: "the numbers of levels N to give each", parse: intList({ min: 1 }) },
  n: {
    value: "N",
    help: `samples per sampler and N (default: ${DEFAULT_N.oracle} for the oracle, ${DEFAULT_N.points} for 2-D models, ${DEFAULT_N.images} for image models)`,
    parse: optionalInt({ min: 2 }),
  },
  out: { default: "runs/nfe", value: "DIR", help: "where nfe.json and nfe.svg go" },
  "data-dir": { value: "DIR", help: "image models: where the test images are (default: the run's)" },
});

/** The flag tables `vdm nfe` parses, in the order its help lists them. */
export const flagTables = [nfeFlags, modelFlags, omit(samplerFlags, "sampler", "sample-steps"), backendFlags] as const;

/** One line for `vdm --help`. */
export const summary = "sample quality against network evaluations for several samplers and step counts";

export const help = helpText(
  `vdm nfe --model <DIR|oracle> [--samplers LIST] [--steps LIST] [--n N] [--out DIR]`,
  `For every sampler and number of levels N: draw n samples, time them, and measure quality against
the cost in network evaluations per sample (NFE; heun spends 2N − 1). Quality:
  oracle (a known mixture):  |mean − μ| and |std − s| per dimension against the mixture's exact
                             moments, and the largest error of the mode weights
  2-D models:                energy distance to held-out data, next to its noise floor
  image models:              the Fréchet distance between the features of n samples and n test images
                             in the shipped Fashion-MNIST classifier (models/fashion-mnist-classifier),
                             next to the same distance between two disjoint sets of n test images
                             (needs 2n test images, from --data-dir or the run's)
Writes DIR/nfe.json (one row per sampler and N) and DIR/nfe.svg (quality against NFE, one line per
sampler), and prints the table. The other sampler flags below apply to all.`,
  ...flagTables,
);

interface Row {
  sampler: string;
  steps: number;
  nfe: number;
  seconds: number;
  /** the headline quality number (lower is better) */
  error: number;
  [metric: string]: number | string | number[];
}

/** Exact per-dimension mean and standard deviation of a Gaussian mixture. */
function exactMoments(m: GaussianMixture): { mean: number[]; std: number[] } {
  const { mean, covariance } = mixtureMoments(m);
  return { mean, std: covariance.map((row, d) => Math.sqrt(row[d]!)) };
}

/** Per-dimension sample mean and standard deviation of flattened points. */
function sampleMoments(x: Float32Array, D: number): { mean: number[]; std: number[] } {
  const n = x.length / D;
  const mean = Array.from({ length: D }, (_, d) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += x[i * D + d]!;
    return s / n;
  });
  const std = mean.map((m, d) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += (x[i * D + d]! - m) ** 2;
    return Math.sqrt(s / (n - 1));
  });
  return { mean, std };
}

/** The quality measure of a model kind: metrics of n samples (data space), "error" the headline. */
function makeJudge(
  resolved: ResolvedModel,
  n: number,
  dataDir: string,
): {
  name: string;
  judge: (x: Float32Array) => { error: number; [metric: string]: number | number[] };
  reference: Record<string, number | number[]>;
} {
  const D = resolved.dim;
  if (resolved.oracle) {
    const mixture = knownMixture(resolved.data);
    const exact = exactMoments(mixture);
    return {
      name: "moment error (max over dimensions of |mean − μ| and |std − s|)",
      reference: {
        mean: exact.mean,
        std: exact.std,
        meanStdError: exact.std.map((s) => s / Math.sqrt(n)),
        stdStdError: exact.std.map((s) => s / Math.sqrt(2 * (n - 1))),
      },
      judge: (x) => {
        const got = sampleMoments(x, D);
        const meanError = Math.max(...got.mean.map((m, d) => Math.abs(m - exact.mean[d]!)));
        const stdError = Math.max(...got.std.map((s, d) => Math.abs(s - exact.std[d]!)));
        const modeWeightError =
          mixture.weights.length > 1 ? Math.max(...componentFractions(mixture, x).map((f, k) => Math.abs(f - mixture.weights[k]!))) : 0;
        return {
          error: Math.max(meanError, stdError, modeWeightError),
          mean: got.mean,
          std: got.std,
          meanError,
          stdError,
          modeWeightError,
        };
      },
    };
  }
  if (resolved.shape.length === 1) {
    const split = loadSplit(resolved.data, resolved.seed);
    const reference = referenceSample(resolved.data, split.train, n, resolved.seed);
    const noiseFloor = energyDistance(reference.points, split.test.points, D);
    return {
      name: "energy distance to held-out data",
      reference: { noiseFloor, heldOut: split.test.n },
      judge: (x) => ({ error: energyDistance(x, split.test.points, D), noiseFloor }),
    };
  }
  const { net, reference } = imageJudge(resolved, n, dataDir);
  return {
    name: "Fréchet distance in the shipped classifier's features",
    reference: { noiseFloor: reference.noiseFloor, referenceImages: 2 * n },
    judge: (x) => {
      const q = imageQuality(net, x, reference);
      return { error: q.frechet, noiseFloor: q.noiseFloor };
    },
  };
}

export function run(argv: string[]): void {
  const { values: flags, given } = parseGiven(argv, ...flagTables);
  if (flags.help) return void console.log(help);
  checkOutDir(flags.out);
  const names = flags.samplers.split(",").map((name) => name.trim());
  if (names.some((name) => name === ""))
    throw new UsageError(`--samplers must be a comma-separated list of sampler names, got "${flags.samplers}"`);
  const twice = names.find((name, i) => names.indexOf(name) !== i);
  if (twice !== undefined) throw new UsageError(`--samplers names ${twice} twice`);
  // the Langevin samplers' cost is their own step flags', not N: their rows would repeat one run under every N
  const unleveled = names.find((name) => isSamplerName(name) && !leveled.includes(name));
  if (unleveled !== undefined)
    throw new UsageError(
      `--samplers ${unleveled}: its cost is set by its own flags (--langevin-steps, --levels, --steps-per-level), not by --steps N; vdm sample --sampler ${unleveled} draws with it`,
    );
  const stepsList = flags.steps;
  const seed = flags.seed;
  const resolved = resolveModel(flags);
  const image = resolved.shape.length === 3;
  if (!image) refuseGiven(given, ["data-dir"], "image models only (a 2-D model is measured against its own held-out points)");
  const n = flags.n ?? (resolved.oracle ? DEFAULT_N.oracle : image ? DEFAULT_N.images : DEFAULT_N.points);
  // every sampler at every N is built first, so that a bad name or flag fails before any sampling
  const runs = names.flatMap((sampler) =>
    stepsList.map((steps) => ({ sampler, steps, s: makeSampler({ ...flags, sampler, "sample-steps": String(steps) }, resolved) })),
  );
  const { name: metric, judge, reference } = makeJudge(resolved, n, flags["data-dir"]);
  mkdirSync(flags.out, { recursive: true });
  const rows: Row[] = [];
  for (const { sampler, steps, s } of runs) {
    const started = performance.now();
    const x = drawSamples(resolved.denoiser, resolved.process, {
      normalization: resolved.normalization,
      shape: resolved.shape,
      latent: resolved.latent,
      n,
      rng: new Rng(seed + 11),
      sampler: s,
      ...reportBatches(`${sampler} N=${steps}`, n, false, image ? undefined : POINT_BATCH),
    });
    const row: Row = { sampler, steps, nfe: s.nfe, seconds: (performance.now() - started) / 1000, ...judge(x) };
    rows.push(row);
    if (!flags.json)
      console.error(
        `${sampler.padEnd(10)} N=${String(steps).padEnd(4)} NFE=${String(s.nfe).padEnd(5)} ${metric.split(" (")[0]}: ${row.error.toExponential(3)}  (${row.seconds.toFixed(1)} s)`,
      );
  }
  const result = { model: flags.model, data: resolved.data, n, metric, reference, rows };
  writeFileAtomic(join(flags.out, "nfe.json"), `${JSON.stringify(result, null, 2)}\n`);
  const series = names.map((name) => ({
    name,
    x: rows.filter((r) => r.sampler === name).map((r) => r.nfe),
    y: rows.filter((r) => r.sampler === name).map((r) => r.error),
  }));
  const floor =
    typeof reference.noiseFloor === "number"
      ? [
          {
            name: "noise floor",
            x: [Math.min(...rows.map((r) => r.nfe)), Math.max(...rows.map((r) => r.nfe))],
            y: [reference.noiseFloor, reference.noiseFloor],
          },
        ]
      : [];
  const chart = lineChart([...series, ...floor], {
    title: `${flags.model === "oracle" ? `oracle on ${resolved.data}` : flags.model}: quality against network evaluations (n = ${n})`,
    xTitle: "network evaluations per sample (NFE)",
    yTitle: metric.split(" (")[0]!,
    legendTitle: "sampler",
    xLog: true,
    yLog: true,
  });
  writeFileAtomic(join(flags.out, "nfe.svg"), chartSvg(chart));
  if (flags.json) return void console.log(JSON.stringify(result));
  console.log(
    `${metric}, n = ${n}${typeof reference.noiseFloor === "number" ? `, noise floor ${reference.noiseFloor.toExponential(3)}` : ""}`,
  );
  console.log(["sampler", ...stepsList.map((s) => `N=${s}`)].join("\t"));
  for (const name of names)
    console.log([name, ...rows.filter((r) => r.sampler === name).map((r) => `${r.error.toExponential(2)} (${r.nfe})`)].join("\t"));
  console.log(`wrote ${join(flags.out, "nfe.json")}, ${join(flags.out, "nfe.svg")}`);
}
