/**
 * The report of a hierarchical VAE run (`vdm train --net hvae`) and its `vdm eval`: held-out
 * bits/dim with its standard error and every term (reconstruction, each level's consistency, the
 * prior), and samples by ancestral sampling through the decoders: for points their energy distance
 * to the held-out data (with its noise floor) and DIR/samples.png, for images a grid.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { loadSplit, type PointSet } from "../data/index.js";
import { Rng } from "../engine/index.js";
import { tree } from "../engine/jax.js";
import { energyDistance } from "../eval/energy.js";
import { hvaeHeldOut, hvaeSamples } from "../eval/hvae.js";
import { referenceSample } from "../eval/run.js";
import { writeFileAtomic } from "../io/atomic.js";
import { readCheckpointConfig } from "../io/checkpoint.js";
import { imageFigurePng } from "../plot/figure.js";
import { lossChart } from "../plot/lines.js";
import { boundsOf } from "../plot/plane.js";
import { chartPng } from "../plot/render.js";
import { scatterChart } from "../plot/scatter.js";
import { dataShape } from "../train/build.js";
import { validateRunConfig } from "../train/config.js";
import { isHvaeRun, type LoadedHvae, loadHvae } from "../train/load.js";
import { modelDirectory } from "../train/shipped.js";
import { refuseGiven } from "./args.js";
import { trainedSummary } from "./facts.js";
import { firstOf } from "./images.js";
import type { TrainedRun } from "./training.js";

/** Independent ε paths per held-out point of a 2-D run (each example's terms their mean). */
const POINT_DRAWS = 4;

/**
 * Held-out bound of `test` (each example's terms over `draws` paths) and `n` samples; for points
 * also their energy distance to `test` and the noise floor (`reference` against `test`).
 */
function measure(run: LoadedHvae, test: PointSet, reference: PointSet | undefined, n: number, draws: number, seed: number) {
  const options = { normalization: run.normalization, decoder: run.config.data.decoder ?? "gaussian", rng: new Rng(seed + 1) };
  const held = hvaeHeldOut(run.network, run.params, test, { ...options, draws, batch: run.config.data.shape ? 50 : 256 });
  const samples = hvaeSamples(run.network, run.params, n, options);
  const dim = test.dim;
  const quality = reference
    ? { energyDistance: energyDistance(samples, test.points, dim), noiseFloor: energyDistance(reference.points, test.points, dim) }
    : {};
  return {
    measures: { levels: run.network.levels, n: test.n, ...held, bpdStdError: held.natsStdError / (dim * Math.LN2), ...quality },
    samples,
  };
}

type Measures = ReturnType<typeof measure>["measures"];

/** The printed line of a measured HVAE: bits/dim, nats ± SE, and the terms (level t = 1..T−1 consistency, then the prior). */
function boundLine(data: string, m: Measures, what: string): string {
  const levels = m.terms.consistency.map((c) => c.toFixed(4)).join(", ");
  return `${data}: ${m.bpd.toFixed(4)} ± ${m.bpdStdError.toFixed(4)} bits/dim on ${m.n} ${what} = ${m.nats.toFixed(4)} ± ${m.natsStdError.toFixed(4)} nats (reconstruction ${m.terms.reconstruction.toFixed(4)}, consistency of levels 1..${m.levels - 1} [${levels}], prior ${m.terms.prior.toFixed(4)})`;
}

/** The options of an HVAE run's report that `vdm train` takes from its flags. */
export interface HvaeReportOptions {
  evalImages: number;
  elboSamples: number;
  zoom: number;
  json: boolean;
}

/** `vdm train --net hvae`'s report of a finished run: metrics.json, loss.png, samples.png; printed as `vdm train` prints. */
export function hvaeTrainReport(trained: TrainedRun, o: HvaeReportOptions): void {
  const { config, dir, split, state, facts } = trained;
  const run = loadHvae(dir);
  const image = config.data.shape !== undefined;
  const test = image ? firstOf(split.test, o.evalImages) : split.test;
  const n = image ? 64 : Math.min(1000, split.test.n);
  const reference = image ? undefined : referenceSample(config.data.spec, split.train, n, config.seed);
  const { samples, measures: m } = measure(run, test, reference, n, image ? o.elboSamples : POINT_DRAWS, config.seed);
  tree.dispose(run.params);
  const written = [join(dir, "samples.png"), join(dir, "loss.png"), join(dir, "metrics.json")];
  if (image) {
    const shape = dataShape(config);
    const panels = [
      {
        title: "held-out test images",
        pixels: split.test.points.subarray(0, 64 * test.dim),
        shape,
        n: Math.min(64, split.test.n),
        cols: 8,
      },
      { title: `samples (ancestral, ${m.levels} levels)`, pixels: samples, shape, n, cols: 8 },
    ];
    const title = `${config.data.spec}, hierarchical VAE after ${config.steps} training steps: held-out | samples`;
    writeFileAtomic(written[0]!, imageFigurePng({ title, panels, zoom: o.zoom }));
  } else {
    const dim = config.data.dim;
    const panels = [
      { title: `held-out data (${split.test.n})`, points: split.test.points, dim },
      { title: `samples (${n})`, points: samples, dim },
    ];
    const title = `${config.data.spec}, hierarchical VAE (T = ${m.levels}): held-out data | samples`;
    writeFileAtomic(written[0]!, chartPng(scatterChart(panels, { title, bounds: boundsOf(split.test.points, 0.05, dim) })));
  }
  writeFileAtomic(written[1]!, chartPng(lossChart(state.losses)));
  const metrics = { data: config.data.spec, net: config.model.kind, ...facts, ...m, ...(image ? { testImages: test.n } : {}) };
  writeFileAtomic(written[2]!, `${JSON.stringify(metrics, null, 2)}\n`);
  if (o.json) return void console.log(JSON.stringify(metrics));
  console.log(`trained ${config.data.spec}: ${trainedSummary(facts, trained.firstStep, trained.seconds)}`);
  console.log(boundLine(config.data.spec, m, image ? "test images" : "held-out points"));
  if (m.energyDistance !== undefined)
    console.log(`energy distance ${m.energyDistance.toExponential(2)} (noise floor ${m.noiseFloor!.toExponential(2)})`);
  console.log(`wrote ${[join(dir, "config.json"), join(dir, "state.safetensors"), ...written].join(", ")}`);
}

/** Whether `vdm eval --model M` names a hierarchical VAE's run directory (false for oracle or a directory without a run: the denoiser's path reports those). */
export function namesHvaeRun(model: string): boolean {
  const dir = modelDirectory(model);
  return model !== "oracle" && existsSync(join(dir, "config.json")) && isHvaeRun(readCheckpointConfig(dir, validateRunConfig));
}

/** The flags of `vdm eval` that an HVAE run takes; the others (samplers, ODE, guidance, quality) are refused. */
const hvaeEvalFlags = new Set(["model", "n", "seed", "json", "elbo-samples", "data-dir"]);

/** What `vdm eval` of an HVAE run reads of its flags. */
export interface HvaeEvalFlags {
  model: string;
  n: number;
  seed: number;
  json: boolean;
  "elbo-samples": number;
  "data-dir": string;
}

/**
 * `vdm eval --model DIR` of a hierarchical VAE run (`given`: the flags the command line gave): the bound of the first n held-out examples of
 * the run's own split (images: test images, --elbo-samples paths each; points: `POINT_DRAWS`), and
 * n samples (points: their energy distance; images: none).
 */
export function evalHvae(flags: HvaeEvalFlags, given: ReadonlySet<string>): void {
  const why = "a hierarchical VAE run is measured by its own ELBO and ancestral samples";
  refuseGiven(
    given,
    [...given].filter((name) => !hvaeEvalFlags.has(name)),
    why,
  );
  const run = loadHvae(modelDirectory(flags.model));
  const { data } = run.config;
  const image = data.shape !== undefined;
  if (!image)
    refuseGiven(given, ["elbo-samples", "data-dir"], `image runs only (each held-out point's terms average ${POINT_DRAWS} paths)`);
  const split = image
    ? loadSplit(data.spec, run.config.seed, { train: 1, test: flags.n, dataDir: flags["data-dir"] || data.dataDir || "" })
    : loadSplit(data.spec, run.config.seed, { labelColumn: data.labelColumn ?? "" });
  const test = firstOf(split.test, flags.n);
  const reference = image ? undefined : referenceSample(data.spec, split.train, flags.n, run.config.seed);
  const { measures: m } = measure(run, test, reference, image ? 0 : flags.n, image ? flags["elbo-samples"] : POINT_DRAWS, flags.seed);
  tree.dispose(run.params);
  if (flags.json) return void console.log(JSON.stringify(m));
  console.log(boundLine(data.spec, m, image ? "test images" : "held-out points"));
  if (m.energyDistance !== undefined)
    console.log(
      `energy distance ${m.energyDistance.toExponential(3)} between ${flags.n} samples and the held-out points (noise floor ${m.noiseFloor!.toExponential(3)})`,
    );
}
