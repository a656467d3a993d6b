/**
 * `vdm nfe`: sample quality against network evaluations (NFE) for several samplers and step counts.
 * The oracle of a known mixture: errors of the samples' mean and standard deviation per dimension
 * (and of the mode weights) against the exact ones; a 2-D model: energy distance to held-out data
 * next to its noise floor; an image model: the Fréchet distance in a classifier's features.
 */

import { existsSync, mkdirSync, readdirSync } from "node:fs";
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
import { guidanceFlags } from "../guidance.js";
import { POINT_BATCH, reportBatches } from "../images.js";
import { backendFlags, modelFlags, type ResolvedModel, resolveModel } from "../model.js";
import { imageJudge, qualityGuidance } from "../quality.js";
import { checkOutDir } from "../runs.js";
import { makeSampler, samplerFlags, withNativeSampler } from "../samplers.js";

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
  distilled: {
    default: "",
    value: "LIST",
    help: "distilled runs (vdm distill --out DIR): a row each, its rounds' students (DIR/round-N/) at their own N, on their own sampler",
  },
  out: { default: "runs/nfe", value: "DIR", help: "where nfe.json and nfe.svg go" },
  "data-dir": { value: "DIR", help: "image models: where the test images are (default: the run's)" },
});

/** The flag tables `vdm nfe` parses, in the order its help lists them. */
export const flagTables = [
  nfeFlags,
  modelFlags,
  omit(samplerFlags, "sampler", "sample-steps"),
  omit(guidanceFlags, "class"),
  backendFlags,
] as const;

/** One line for `vdm --help`. */
export const summary = "sample quality against network evaluations for several samplers and step counts";

export const help = helpText(
  `vdm nfe --model <DIR|oracle> [--samplers LIST] [--steps LIST] [--distilled LIST] [--n N] [--out DIR]`,
  `For every sampler and number of levels N: draw n samples, time them, and measure quality against
the cost in network evaluations per sample (NFE; heun spends 2N − 1). Quality:
  oracle (a known mixture):  |mean − μ| and |std − s| per dimension against the mixture's exact
                             moments, and the largest error of the mode weights
  2-D models:                energy distance to held-out data, next to its noise floor
  image models:              the Fréchet distance between the features of n samples and n test images
                             in the shipped Fashion-MNIST classifier (models/fashion-mnist-classifier),
                             next to the same distance between two disjoint sets of n test images
                             (needs 2n test images, from --data-dir or the run's); a conditional
                             model samples classes 0..K−1 in turn with its guidance (as vdm eval
                             --quality does), and the classifier's class accuracy is reported too
NFE counts network evaluations per sample: classifier-free guidance spends two a step (with and
without the label). Writes DIR/nfe.json (one row per sampler and N) and DIR/nfe.svg (quality against NFE, one line per
sampler), and prints the table. The other sampler flags below apply to all. --model a distilled run
without --samplers: its own sampler at its own N (and spacing) unless --steps (--spacing) say otherwise.
--distilled DIR,...: one more row per distilled run, an entry per round's student at that student's
own N (DDIM on trailing levels), with the same n samples and quality measure; columns of N it lacks stay empty.
A student distilled with guidance folded in (vdm distill --cfg-scale) carries it: it is sampled with
--guidance none, one evaluation a step.`,
  ...flagTables,
);

interface Row {
  /** the sampler's name, or a distilled row's label */
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
  judge: (x: Float32Array, labels?: Int32Array) => { error: number; [metric: string]: number | number[] };
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
    judge: (x, labels) => {
      const q = imageQuality(net, x, reference, labels ? { labels } : {});
      return { error: q.frechet, noiseFloor: q.noiseFloor, ...(q.accuracy !== undefined ? { accuracy: q.accuracy } : {}) };
    },
  };
}

/** The students of the distilled run `dir` (`vdm distill --out`): its rounds DIR/round-N/, fewest steps first. */
function distilledStudents(dir: string, flags: Parameters<typeof resolveModel>[0]): { round: string; student: ResolvedModel }[] {
  const rounds = existsSync(dir)
    ? readdirSync(dir)
        .filter((name) => /^round-\d+$/.test(name) && existsSync(join(dir, name, "config.json")))
        .map((name) => join(dir, name))
    : [];
  const students = rounds.map((round) => ({ round, student: resolveModel({ ...flags, model: round }) }));
  if (students.length === 0 || students.some(({ student }) => !student.native))
    throw new UsageError(`--distilled ${dir}: not a distilled run (vdm distill --out DIR holds its rounds in DIR/round-N/)`);
  return students.sort((a, b) => a.student.native!.steps - b.student.native!.steps);
}

export function run(argv: string[]): void {
  const { values: flags, given } = parseGiven(argv, ...flagTables);
  if (flags.help) return void console.log(help);
  checkOutDir(flags.out);
  const resolved = resolveModel(flags);
  // a distilled run without --samplers: its own sampler, steps and spacing unless --steps/--spacing are given
  const own = withNativeSampler(
    { sampler: flags.samplers, "sample-steps": flags.steps.join(","), spacing: flags.spacing },
    new Set([...given].map((name) => (name === "samplers" ? "sampler" : name === "steps" ? "sample-steps" : name))),
    resolved,
  );
  const names = own.sampler.split(",").map((name) => name.trim());
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
  const stepsList = own["sample-steps"].split(",").map(Number);
  const seed = flags.seed;
  const image = resolved.shape.length === 3;
  if (!image)
    refuseGiven(
      given,
      ["data-dir", ...Object.keys(guidanceFlags.specs)],
      "image models only (a 2-D model is measured against its own held-out points, unconditionally)",
    );
  const n = flags.n ?? (resolved.oracle ? DEFAULT_N.oracle : image ? DEFAULT_N.images : DEFAULT_N.points);
  // every sampler at every N is built first, so that a bad name or flag fails before any sampling
  const runs = names.flatMap((sampler) =>
    stepsList.map((steps) => ({
      sampler,
      steps,
      model: resolved,
      round: undefined as string | undefined,
      s: makeSampler({ ...flags, spacing: own.spacing, sampler, "sample-steps": String(steps) }, resolved),
    })),
  );
  const distilledDirs = flags.distilled === "" ? [] : flags.distilled.split(",").map((dir) => dir.trim());
  const again = distilledDirs.find((dir, i) => dir === "" || distilledDirs.indexOf(dir) !== i);
  if (again !== undefined) throw new UsageError(`--distilled must list distilled runs, each once, got "${flags.distilled}"`);
  const labels = distilledDirs.map((dir) => (distilledDirs.length === 1 ? "distilled" : `distilled ${dir}`));
  for (const [k, dir] of distilledDirs.entries())
    for (const { round, student } of distilledStudents(dir, flags)) {
      if (student.data !== resolved.data || student.dim !== resolved.dim)
        throw new UsageError(`--distilled ${dir}: its students model ${student.data}, --model ${flags.model} models ${resolved.data}`);
      // the student's own sampler, N and spacing, whatever --samplers, --steps and --spacing say
      const s = makeSampler(withNativeSampler({ ...flags, sampler: "", "sample-steps": "" }, new Set(), student), student);
      runs.push({ sampler: labels[k]!, steps: student.native!.steps, model: student, round, s });
    }
  // a conditional image model: classes in turn with the flags' guidance (a student carrying its own with none),
  // checked with the samplers before any sampling; a 2-D model unconditionally
  const plans = runs.map((run) => ({
    ...run,
    guided: image
      ? qualityGuidance(run.model, { ...flags, ...(run.model.native?.guidance !== undefined ? { guidance: "none" } : {}) }, n)
      : { den: run.model.denoiser, labels: undefined, kind: "none", scale: 0, evaluationsPerStep: 1 },
  }));
  const { name: metric, judge, reference } = makeJudge(resolved, n, flags["data-dir"]);
  mkdirSync(flags.out, { recursive: true });
  const rows: Row[] = [];
  for (const { sampler, steps, model, round, s, guided } of plans) {
    const { den, labels: requested, kind, scale } = guided;
    const started = performance.now();
    const x = drawSamples(den, model.process, {
      normalization: model.normalization,
      shape: model.shape,
      latent: model.latent,
      n,
      rng: new Rng(seed + 11),
      sampler: s,
      ...reportBatches(`${sampler} N=${steps}`, n, false, image ? undefined : POINT_BATCH),
    });
    const row: Row = {
      sampler,
      steps,
      nfe: s.nfe * guided.evaluationsPerStep,
      seconds: (performance.now() - started) / 1000,
      ...(round === undefined ? {} : { model: round }),
      ...(requested ? { guidance: kind, scale } : {}),
      ...judge(x, requested),
    };
    rows.push(row);
    if (!flags.json)
      console.error(
        `${sampler.padEnd(10)} N=${String(steps).padEnd(4)} NFE=${String(row.nfe).padEnd(5)} ${metric.split(" (")[0]}: ${row.error.toExponential(3)}${typeof row.accuracy === "number" ? `, class accuracy ${(100 * row.accuracy).toFixed(1)} %` : ""}  (${row.seconds.toFixed(1)} s)`,
      );
  }
  const result = { model: flags.model, data: resolved.data, n, metric, reference, rows };
  writeFileAtomic(join(flags.out, "nfe.json"), `${JSON.stringify(result, null, 2)}\n`);
  const series = [...names, ...labels].map((name) => ({
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
  // a column per N that any row has (the students' own N among them); a row without that N leaves it empty
  const columns = [...new Set(rows.map((r) => r.steps))].sort((a, b) => a - b);
  const table = (cell: (r: Row) => string) => {
    console.log(["sampler", ...columns.map((s) => `N=${s}`)].join("\t"));
    for (const name of [...names, ...labels]) {
      const at = (steps: number) => rows.find((r) => r.sampler === name && r.steps === steps);
      console.log([name, ...columns.map((s) => at(s)).map((r) => (r ? `${cell(r)} (${r.nfe})` : ""))].join("\t"));
    }
  };
  table((r) => r.error.toExponential(2));
  if (rows.every((r) => typeof r.accuracy === "number")) {
    console.log("class accuracy by the shipped classifier (NFE)");
    table((r) => `${(100 * (r.accuracy as number)).toFixed(1)} %`);
  }
  console.log(`wrote ${join(flags.out, "nfe.json")}, ${join(flags.out, "nfe.svg")}`);
}
