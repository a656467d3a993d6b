/** `vdm sample`: draw samples from a checkpoint or the oracle; write JSON, CSV or a PNG scatter. */
import { extname } from "node:path";
import { className } from "../../data/images.js";
import { denormalize } from "../../data/normalize.js";
import { Rng } from "../../engine/index.js";
import { drawSamples } from "../../eval/run.js";
import { writeFileAtomic } from "../../io/atomic.js";
import { npyBytes } from "../../io/npy.js";
import { imageFigurePng } from "../../plot/figure.js";
import { chartPng } from "../../plot/render.js";
import { scatterChart } from "../../plot/scatter.js";
import { defineFlags, type FlagGroup, flagValue, helpText, int, parseGiven, refuseGiven, UsageError } from "../args.js";
import { checkGuidance, guidanceFlags, guidanceKind, guidanceScale, labelledDenoiser } from "../guidance.js";
import { POINT_BATCH, reportBatches } from "../images.js";
import { backendFlags, modelFlags, oracleDataHelp, resolveModel } from "../model.js";
import { pictureFlags } from "../pictures.js";
import { checkOutFile, isTextRun } from "../runs.js";
import { makeSampler, samplerFlags, withNativeSampler } from "../samplers.js";
import { sampleText, textSampleFlagTables } from "../text-sample.js";

/** How many samples --trajectory follows. */
const TRACKED = 8;

/** `vdm sample`'s own flags. */
const sampleFlags = defineFlags("Flags", {
  n: { default: "1000", value: "K", help: "the number of samples", parse: int({ min: 1 }) },
  out: { value: "FILE", help: "where the samples go: .json, .csv, .png or .npy (required)" },
  trajectory: {
    type: "boolean",
    help: `also write FILE's stem + ".trajectory.json" with the paths of ${TRACKED} samples through the sampler's steps (drawn on the PNG)`,
  },
});

/** The flag tables `vdm sample` parses, in the order its help lists them. */
export const flagTables = [sampleFlags, modelFlags, samplerFlags, guidanceFlags, pictureFlags, backendFlags] as const;

/** One line for `vdm --help`. */
export const summary = "draw samples from a checkpoint or the exact oracle";

export const help = helpText(
  `vdm sample --model <DIR|oracle> --n K --out FILE.{json,csv,png,npy} [--sampler NAME and its flags] [--trajectory]
           [--class K|all --guidance none|cfg|classifier --scale S] [--backend auto|onnx|jax]
           oracle only: --data ${oracleDataHelp} [--schedule S] [--timesteps T]`,
  `(A Diffusion-LM run prints sentences instead: vdm sample --model RUN --help with RUN a text run.)

Image models write a grid of the n samples to FILE.png (or their 0..255 pixel values, one row per
image, to .json/.csv). FILE.npy is a NumPy array: images uint8 [n, rows, cols], points float32
[n, D]; with --class, the labels go to FILE's stem + ".labels.npy" (int32 [n]). --class all samples
classes 0..K−1 in turn (sample i has class i mod K; a grid gets one column per class).`,
  ...flagTables,
);

/** The chart of 2-D samples (rows of `dim`), coloured by requested class where given, with the tracked trajectories. */
function samplesChart(points: Float32Array, dim: number, labels: Int32Array | null, paths: number[][], title: string) {
  // 1-D samples are a histogram: their trajectories stay in the .trajectory.json
  const drawn = dim > 1 ? paths : [];
  const panel = {
    title: drawn.length ? `samples with ${drawn.length} trajectories` : "samples",
    points,
    dim,
    paths: drawn,
    ...(labels ? { labels, labelTitle: "requested class" } : {}),
  };
  return scatterChart([panel], { title });
}

/**
 * The PNG of image samples: a grid of the n images with a title naming the model, sampler, class
 * and guidance; with --class all one column per class, headed by the class's name.
 */
function imageSamplesPng(
  pixels: Float32Array,
  shape: number[],
  n: number,
  data: string,
  classes: number,
  single: number | null,
  guidance: string,
  zoom: number,
  about: string,
): Uint8Array {
  const conditioned = single !== null || classes > 0 ? `, ${guidance === "none" ? "conditional" : guidance}` : "";
  const what =
    single !== null
      ? `${className(data, single)} (class ${single})${conditioned}`
      : classes > 0
        ? `one column per class${conditioned}`
        : "";
  const title = `${n} samples of ${about}${what ? `: ${what}` : ""}`;
  const columns =
    classes > 0
      ? { cols: classes, columnLabels: Array.from({ length: classes }, (_, k) => className(data, k)) }
      : { cols: Math.ceil(Math.sqrt(n)) };
  return imageFigurePng({ title, panels: [{ pixels, shape, n, ...columns }], zoom });
}

/** The flags of `groups`. */
const namesOf = (...groups: readonly FlagGroup[]) => new Set(groups.flatMap((g) => Object.keys(g.specs)));

/**
 * Refuse the first flag `argv` gives that only the other kind of model takes (`mine` are this
 * kind's, `theirs` the other's), saying whose it is, not only that it is unknown.
 */
function refuseOtherKind(argv: readonly string[], mine: Set<string>, theirs: Set<string>, whose: string): void {
  const given = argv.flatMap((a) => /^--([\w-]+)/.exec(a)?.[1] ?? []);
  const wrong = given.find((name) => theirs.has(name) && !mine.has(name));
  if (wrong !== undefined) throw new UsageError(`unknown flag --${wrong} here: ${whose}`);
}

export function run(argv: string[]): void {
  const model = flagValue(argv, "model");
  const [pointsAndImages, text] = [namesOf(...flagTables), namesOf(...textSampleFlagTables)];
  if (model && isTextRun(model)) {
    refuseOtherKind(
      argv,
      text,
      pointsAndImages,
      `2-D and image models only; ${model} is a Diffusion-LM (text) run (vdm sample --model ${model} --help lists its flags)`,
    );
    return void sampleText(argv); // a Diffusion-LM run (text-sample.ts)
  }
  refuseOtherKind(
    argv,
    pointsAndImages,
    text,
    `Diffusion-LM (text) runs only${model ? `; ${model} is ${model === "oracle" ? "the oracle of a density" : "a 2-D or image model"}` : ""}`,
  );
  const { values: flags, given } = parseGiven(argv, ...flagTables);
  if (flags.help) return void console.log(help);
  if (!flags.out) throw new UsageError("--out FILE is required (.json, .csv, .png or .npy)");
  const format = extname(flags.out).toLowerCase();
  if (![".json", ".csv", ".png", ".npy"].includes(format))
    throw new UsageError(`--out must end in .json, .csv, .png or .npy, got "${flags.out}"`);
  checkOutFile(flags.out);
  const { n } = flags;
  const zoom = flags.zoom;
  const resolved = resolveModel(flags);
  const D = resolved.dim;
  const z = resolved.normalization;
  const image = resolved.shape.length === 3;
  if (!image) refuseGiven(given, ["zoom"], "image models only (a 2-D model's picture is a scatter plot)");
  if (image && flags.trajectory) throw new UsageError("--trajectory draws 2-D paths; it is not available for image models");
  const paths: number[][] = Array.from({ length: Math.min(TRACKED, n) }, () => []);
  const record = (x: ArrayLike<number>) => paths.forEach((p, k) => p.push(...Array.from({ length: D }, (_, d) => x[k * D + d]!)));
  const sampler = makeSampler(withNativeSampler(flags, given, resolved), resolved);
  for (const name of ["guidance", "scale", "classifier"] as const)
    if (flags[name] !== "" && flags[name] !== undefined && flags.class === undefined)
      throw new UsageError(`--${name} needs --class K (or --class all)`);
  // --class K: every sample of class K; --class all: classes 0..K−1 in turn (sample i has class i mod K)
  const classes = flags.class === "all" ? (resolved.oracle?.classes ?? resolved.denoiser.model.classes) : 0;
  if (flags.class === "all" && classes === 0) throw new UsageError("--class all needs a conditional model (or the oracle of a mixture)");
  const single = flags.class === undefined || flags.class === "all" ? 0 : flags.class;
  const labels = flags.class === undefined ? null : Int32Array.from({ length: n }, (_, i) => (classes ? i % classes : single));
  const scale = labels ? guidanceScale(resolved, flags) : 0;
  if (labels) checkGuidance(resolved, flags, labels, scale);
  const seed = flags.seed;
  const denoiser = labelledDenoiser(resolved, flags, labels ?? undefined, scale);
  // the network sees images 16 at a time (memory grows with the batch), points POINT_BATCH at a time; --trajectory follows the first batch's first samples
  const batches = reportBatches("samples", n, false, image ? undefined : POINT_BATCH);
  let firstBatch = true;
  const points = drawSamples(denoiser, resolved.process, {
    normalization: z,
    shape: resolved.shape,
    latent: resolved.latent,
    n,
    rng: new Rng(seed),
    sampler,
    ...batches,
    onBatch: (done) => {
      firstBatch = false;
      batches.onBatch?.(done);
    },
    onStep: flags.trajectory
      ? (_i, xi) => firstBatch && record(denormalize(xi.ref.slice([0, paths.length]).dataSync() as Float32Array, z))
      : undefined,
  });
  const rows = Array.from({ length: n }, (_, i) => Array.from(points.subarray(i * D, (i + 1) * D)));
  if (format === ".json") writeFileAtomic(flags.out, `${JSON.stringify(rows)}\n`);
  else if (format === ".csv")
    writeFileAtomic(flags.out, `${[Array.from({ length: D }, (_, d) => `x${d}`).join(","), ...rows.map((r) => r.join(","))].join("\n")}\n`);
  else if (format === ".npy")
    writeFileAtomic(
      flags.out,
      image
        ? npyBytes(
            Uint8Array.from(points, (v) => Math.min(255, Math.max(0, Math.round(v)))),
            [n, ...resolved.shape.slice(0, 2)],
          )
        : npyBytes(points, [n, D]),
    );
  else if (image) {
    const kind = guidanceKind(resolved, flags);
    const guidance = kind === "none" ? kind : `${kind} guidance ${kind === "cfg" ? "w" : "γ"} = ${scale}`;
    writeFileAtomic(
      flags.out,
      imageSamplesPng(
        points,
        resolved.shape,
        n,
        resolved.data,
        classes,
        labels && !classes ? single : null,
        guidance,
        zoom,
        `${flags.model} (${sampler.name}, ${sampler.nfe} NFE)`,
      ),
    );
  } else
    writeFileAtomic(
      flags.out,
      chartPng(
        samplesChart(
          points,
          D,
          labels,
          flags.trajectory ? paths : [],
          `${n} samples of ${flags.model === "oracle" ? `the oracle of ${resolved.data}` : flags.model} (${sampler.name}, ${sampler.nfe} NFE)`,
        ),
      ),
    );
  const written = [flags.out];
  if (labels && format === ".npy") {
    const file = `${flags.out.slice(0, -format.length)}.labels.npy`;
    writeFileAtomic(file, npyBytes(labels, [n]));
    written.push(file);
  }
  if (flags.trajectory) {
    const file = `${flags.out.slice(0, -format.length)}.trajectory.json`;
    writeFileAtomic(
      file,
      `${JSON.stringify(paths.map((p) => Array.from({ length: p.length / D }, (_, s) => p.slice(s * D, (s + 1) * D))))}\n`,
    );
    written.push(file);
  }
  if (flags.json) console.log(JSON.stringify({ n, written }));
  else console.log(`wrote ${n} samples: ${written.join(", ")}`);
}
