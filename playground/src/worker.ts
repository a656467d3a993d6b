/**
 * The playground's worker: all of jax-js and the library run here, so the page stays responsive.
 * Everything is the library's own code ("vdm/browser" and "vdm/jax", from their sources in ../../src);
 * this file only wires requests to it.
 */

import {
  buildProcess,
  cfgModel,
  type Denoiser,
  DiffusionProcess,
  DpmSolverSampler,
  data as dataSets,
  denormalize,
  densities,
  diffusion,
  drawSamples,
  evaluation,
  getSchedule,
  heldOutElbo,
  initEngine,
  io,
  normalizationOf,
  normalize,
  onnx,
  type PointSet,
  Rng,
  type RunConfig,
  runConfigFor,
  type Sampler,
  samplers,
  threads,
  trainedModel,
  training,
} from "vdm/browser";
import { type Array as JaxArray, numpy as np, tree } from "vdm/jax";
import fashionConfig from "../../models/fashion-mnist/config.json";
import fashionStateUrl from "../../models/fashion-mnist/state.safetensors?url";
import { dropFast, fastDenoiser, stepper, tune, useBackend } from "./backend.js";
import { guidedImages, imageHandlers, moveImageRun } from "./image-run.js";
import { LiveRun, restoreUploaded, type Start } from "./live-run.js";
import type { BackendName, Event, Reply, Request, Requests, TrainSettings } from "./protocol.js";

const { builtinMixture, componentFractions, componentOf, sampleMixtureWithLabels, toyNames, toySplit } = dataSets;
const { diffusionCost, qSample } = diffusion;
const { energyDistance } = evaluation;
const { encodeWeights } = io;
const { mixtureParams, oracleModel } = densities;
const { AnnealedLangevinSampler, gammaOfSigma, geometricSigmas, LangevinSampler, samplerByName, samplerTable, veScore } = samplers;
const { restoreRun, TrainingRun } = training;
type LoadedRun = training.LoadedRun;

type Result<K extends keyof Requests> = Requests[K]["result"];
const post = (message: Reply | Event, transfer: Transferable[] = []) => (self as unknown as Worker).postMessage(message, transfer);

// ---------------------------------------------------------------- data

interface Data {
  spec: string;
  train: PointSet;
  test: PointSet;
}
let data: Data | null = null;

function loadData(spec: string, points?: number[]): Data {
  if (spec === "drawn") {
    if (!points || points.length < 8) throw new Error("draw at least 4 points first");
    const set: PointSet = { points: Float32Array.from(points), n: points.length / 2, dim: 2 };
    return { spec: "drawn", train: set, test: set };
  }
  if (!toyNames.includes(spec)) throw new Error(`unknown data set "${spec}"`);
  // as the CLI's loadSplit draws a built-in set: 20,000 training and 2,000 held-out points
  return { spec, ...toySplit(spec, 0) };
}

// ---------------------------------------------------------------- training

let settings: TrainSettings | null = null;
let config: RunConfig | null = null;
let live: LiveRun | null = null;
/** a checkpoint loaded without training state (EMA weights only) */
let loadedWeights: LoadedRun | null = null;

function configFor(s: TrainSettings, d: Data): RunConfig {
  const learned = s.schedule === "learned";
  return runConfigFor(d.spec, d, {
    hidden: s.hidden,
    layers: s.layers,
    batch: s.batch,
    lr: s.lr,
    schedule: s.schedule,
    timesteps: learned ? 0 : s.timesteps,
    // the playground's own defaults (cosine, T = 1000) train on the simple loss, as they always
    // have; a learned schedule trains on the ELBO
    loss: learned ? "elbo" : "simple",
    steps: s.steps,
    seed: s.seed,
  });
}

function closeRun(): void {
  live?.close();
  live = null;
}

/** Runs made so far: with the step, the key of the ONNX export of the run's EMA weights. */
let runs = 0;

function newRun(start?: Start): void {
  closeRun();
  if (!config || !data) throw new Error("choose a data set and settings first");
  live = new LiveRun(new TrainingRun(config, data.train, { makeStepper: stepper(), ...(start ? { start } : {}) }), "points", post);
  runs++;
  loadedWeights = null;
}

/** The live run's model at its step, kept while the step stays (its EMA weights are exported to ONNX once). */
let evaluated: { key: string; config: RunConfig; denoiser: Denoiser; process: DiffusionProcess } | null = null;

/** The model to evaluate, on the backend in use: the live run's EMA parameters, or a loaded checkpoint's. */
function current(): { config: RunConfig; denoiser: Denoiser; process: DiffusionProcess } {
  const run = live?.run;
  if (run) {
    const key = `${runs}:${run.step}`;
    if (evaluated?.key !== key) {
      // (the parameters are the run's: valid until its next step, when the key changes)
      const { denoiser, process } = trainedModel(run.config, run.state().ema);
      evaluated = { key, config: run.config, denoiser, process };
    }
    const { config: c, denoiser, process } = evaluated;
    return { config: c, denoiser: fastDenoiser("trained", key, () => denoiser), process };
  }
  if (loadedWeights) {
    const { denoiser } = loadedWeights;
    return { ...loadedWeights, denoiser: fastDenoiser("trained", `loaded:${runs}`, () => denoiser) };
  }
  throw new Error("no model yet: configure training or load a checkpoint");
}

/** The exact denoiser of a built-in mixture (`target` "score", or "eps" with its components as classes), on the backend in use. */
function oracle(name: string, target: "score" | "eps"): Denoiser {
  const mixture = builtinMixture(name);
  if (!mixture) throw new Error(`no exact density for "${name}"`);
  const classes = target === "eps" ? mixture.weights.length : undefined;
  return fastDenoiser(`oracle-${target}`, name, () => ({ model: oracleModel(target, classes), params: mixtureParams(mixture) }));
}

// ---------------------------------------------------------------- sampling

function makeSampler(name: string, process: DiffusionProcess, steps: number): Sampler {
  return samplerByName(name, process, { steps });
}

/** The menu's samplers: those of the table on N levels placed by a spacing (the steps slider gives N). */
const samplerMenu = samplerTable.filter((e) => e.reads.includes("spacing")).map(({ name, title }) => ({ name, title }));

// ---------------------------------------------------------------- images

let images: { loaded: LoadedRun; loadMs: number } | null = null;

async function imageModel() {
  if (!images) {
    const t0 = performance.now();
    const bytes = new Uint8Array(await (await fetch(fashionStateUrl)).arrayBuffer());
    images = { loaded: restoreRun(fashionConfig, bytes, { source: "fashion-mnist" }), loadMs: performance.now() - t0 };
  }
  const { denoiser } = images.loaded;
  return { ...images, denoiser: fastDenoiser("shipped", "fashion-mnist", () => denoiser) };
}

/** Switch the backend: cached exports are dropped, and a live run continues on the new one from its state. */
async function switchBackend(name: BackendName) {
  // the live run's state, read from the old backend before it goes
  const state = live?.detach();
  live = null;
  dropFast();
  const chosen = await moveImageRun(() => useBackend(name), post);
  if (state) {
    newRun(state);
    live!.progress([]);
  }
  return chosen;
}

// ---------------------------------------------------------------- handlers

const handlers: { [K in keyof Requests]: (args: Requests[K]["args"]) => Result<K> | Promise<Result<K>> } = {
  async init({ backend, threads: ortThreads, chunk }) {
    tune({ ...(ortThreads ? { threads: ortThreads } : {}), ...(chunk ? { chunk } : {}) });
    const device = await initEngine("wasm");
    const g = globalThis as unknown as { crossOriginIsolated?: boolean };
    const chosen = await switchBackend(backend);
    return { devices: [device], threads, isolated: !!g.crossOriginIsolated, samplers: samplerMenu, ...chosen };
  },

  backend({ backend }) {
    return switchBackend(backend);
  },

  data({ spec, points }) {
    data = loadData(spec, points);
    const n = Math.min(data.train.n, 2000);
    return { points: data.train.points.slice(0, 2 * n), labels: data.train.labels?.slice(0, n) ?? null, n: data.train.n };
  },

  configure(s) {
    if (!data || data.spec !== s.data) throw new Error(`load the data set "${s.data}" first`);
    settings = s;
    config = configFor(s, data);
    newRun();
    const parameters = tree.leaves(live!.run.state().params).reduce((a, p) => a + p.size, 0);
    live!.progress([]);
    return { parameters, config: JSON.stringify(config, null, 2) };
  },

  start() {
    if (!live) throw new Error("configure first");
    return live.launch();
  },

  pause() {
    live?.pause();
    return { step: live?.run.step ?? 0 };
  },

  reset() {
    if (!settings) throw new Error("configure first");
    newRun();
    live!.progress([]);
    return { step: 0 };
  },

  forward({ schedule, t, n, seed }) {
    if (!data) throw new Error("no data");
    let process: DiffusionProcess;
    let z = { mean: [0, 0], std: [1, 1] };
    if (schedule === "learned") {
      const run = live?.run;
      if (run?.config.schedule !== "learned") throw new Error("train with the learned schedule first");
      process = buildProcess(run.config, run.state().params);
      z = normalizationOf(run.config);
    } else {
      process = new DiffusionProcess(getSchedule(schedule), 0);
      if (config) z = normalizationOf(config);
    }
    const { tMin, tMax } = process.schedule;
    const at = (u: number) => tMin + (tMax - tMin) * u;
    const gamma = t <= 0 ? -Infinity : process.gammaAt(at(t));
    const m = Math.min(n, data.train.n);
    const x0 = np.array(normalize(data.train.points.slice(0, 2 * m), z)).reshape([m, 2]);
    const xt = Number.isFinite(gamma) ? qSample(x0, np.full([m], gamma), new Rng(seed).normal([m, 2])) : x0;
    const points = denormalize(xt.dataSync() as Float32Array, z);
    const grid = Array.from({ length: 101 }, (_, k) => k / 100);
    const gammas = grid.map((u) => process.gammaAt(at(u)));
    return {
      points,
      gamma,
      snr: Math.exp(-gamma),
      alphaBar: 1 / (1 + Math.exp(gamma)),
      curve: { t: grid, snr: gammas.map((g) => Math.exp(-g)), alphaBar: gammas.map((g) => 1 / (1 + Math.exp(g))) },
    };
  },

  sample({ sampler: name, steps, n, seed, paths }) {
    if (!data) throw new Error("no data");
    const { config: c, denoiser, process } = current();
    const z = normalizationOf(c);
    const sampler = makeSampler(name, process, steps);
    const frames: Float32Array[] = [];
    const t0 = performance.now();
    const points = drawSamples(denoiser, process, {
      normalization: z,
      shape: [2],
      n,
      rng: new Rng(seed),
      sampler,
      onStep: (_i, x) => {
        frames.push(denormalize(x.ref.slice([0, paths]).dataSync() as Float32Array, z));
      },
    });
    const ms = performance.now() - t0;
    const m = Math.min(n, data.test.n);
    const test = data.test.points.subarray(0, 2 * m);
    const reference = data.spec === "drawn" ? data.train.points : toySplit(data.spec, 7, { train: m, test: 1 }).train.points;
    return { points, frames, energy: energyDistance(points, test, 2), floor: energyDistance(reference, test, 2), nfe: sampler.nfe, ms };
  },

  elbo({ n, seed }) {
    if (!data) throw new Error("no data");
    const { config: c, denoiser, process } = current();
    const z = normalizationOf(c);
    const m = Math.min(n, data.test.n);
    const test: PointSet = { points: data.test.points.slice(0, 2 * m), n: m, dim: 2 };
    const result = heldOutElbo(denoiser, process, test, { normalization: z, rng: new Rng(seed), samples: 16 });
    // the diffusion term per level: discrete, L_{t−1} = E KL(q(x_{t−1}|x_t,x_0) ‖ p(x_{t−1}|x_t)) at 50 steps;
    // continuous, the integrand ½γ'(t) E‖ε − ε̂‖² of L_∞ = ∫ … dt at 50 times
    const x0 = np.array(normalize(test.points, z)).reshape([m, 2]);
    const rng = new Rng(seed + 1);
    const perT = { t: [] as number[], value: [] as number[] };
    const K = 50;
    for (let k = 0; k < K; k++) {
      let levels: diffusion.KlLevels;
      if (process.continuous) {
        const u = (k + 0.5) / K;
        levels = process.levelsFromUniform(np.full([m], u), null, "elbo");
        const span = process.schedule.tMax - process.schedule.tMin;
        levels = { ...levels, weight: levels.weight.mul(1 / span) };
      } else {
        const i = Math.max(2, Math.round(2 + ((process.T - 2) * k) / (K - 1)));
        levels = process.levelsAtSteps(np.full([m], i, { dtype: np.int32 }), process.gammaTable()!, 1);
      }
      const tValue = (levels.t.ref.slice([0, 1]).dataSync() as Float32Array)[0]!;
      const cost = diffusionCost(
        denoiser.model,
        tree.ref(denoiser.params),
        x0.ref,
        rng.normal([m, 2]),
        levels.t,
        levels.gamma,
        levels.weight,
      );
      perT.t.push(tValue);
      perT.value.push((np.mean(cost).dataSync() as Float32Array)[0]!);
    }
    x0.dispose();
    return { bpd: result.bpd, nats: result.nats, stdError: result.stdError, terms: result.terms, perT, continuous: process.continuous };
  },

  predict({ x, t }) {
    const { denoiser, process } = current();
    const n = t.length;
    const gammas = t.map((ti) => process.gammaAt(ti));
    const pred = denoiser.model.apply(
      tree.ref(denoiser.params),
      np.array(Float32Array.from(x)).reshape([n, 2]),
      np.array(Float32Array.from(t)),
      np.array(Float32Array.from(gammas)),
    );
    return { prediction: Array.from(pred.dataSync() as Float32Array), target: denoiser.model.target };
  },

  score({ source, sigma, grid }) {
    let den: Denoiser;
    let process: DiffusionProcess;
    let z = { mean: [0, 0], std: [1, 1] };
    let points: Float32Array;
    if (source === "trained") {
      const c = current();
      den = c.denoiser;
      process = c.process;
      z = normalizationOf(c.config);
      points = data ? data.test.points.slice(0, 1000) : new Float32Array();
    } else {
      const mixture = builtinMixture(source);
      if (!mixture) throw new Error(`no exact density for "${source}"`);
      den = oracle(source, "score");
      process = new DiffusionProcess(getSchedule("cosine"), 1000);
      points = sampleMixtureWithLabels(mixture, 500, new Rng(3)).points;
    }
    let [xmin, xmax, ymin, ymax] = [Infinity, -Infinity, Infinity, -Infinity];
    for (let i = 0; i < points.length; i += 2) {
      xmin = Math.min(xmin, points[i]!);
      xmax = Math.max(xmax, points[i]!);
      ymin = Math.min(ymin, points[i + 1]!);
      ymax = Math.max(ymax, points[i + 1]!);
    }
    const pad = 0.15 * Math.max(xmax - xmin, ymax - ymin);
    const bounds = { xmin: xmin - pad, xmax: xmax + pad, ymin: ymin - pad, ymax: ymax + pad };
    const cells: number[] = [];
    for (let i = 0; i < grid; i++) {
      for (let j = 0; j < grid; j++) {
        cells.push(
          bounds.xmin + ((i + 0.5) / grid) * (bounds.xmax - bounds.xmin),
          bounds.ymin + ((j + 0.5) / grid) * (bounds.ymax - bounds.ymin),
        );
      }
    }
    const n = grid * grid;
    // σ̃ in data units: the model sees normalised points, whose noise level is σ̃/std
    const sigmaN = sigma / Math.max(z.std[0]!, z.std[1]!);
    const gamma = sigma > 0 ? gammaOfSigma(sigmaN) : -Infinity;
    const tLevel = Number.isFinite(gamma) ? process.timeOfGamma(gamma) : 0;
    const s = veScore(
      den.model,
      tree.ref(den.params),
      np.array(normalize(Float32Array.from(cells), z)).reshape([n, 2]),
      np.full([n], tLevel),
      np.full([n], gamma),
    );
    const values = s.dataSync() as Float32Array;
    const scores = Array.from({ length: n }, (_, k) => [values[2 * k]! / z.std[0]!, values[2 * k + 1]! / z.std[1]!] as const);
    // arrows scaled so the longest is 1.5 cells
    const longest = Math.max(...scores.map(([a, b]) => Math.hypot(a, b)), 1e-12);
    const cell = (bounds.xmax - bounds.xmin) / grid;
    const scale = (1.5 * cell) / longest;
    const arrows = scores.map(([dx, dy], k) => ({ x: cells[2 * k]!, y: cells[2 * k + 1]!, dx: dx * scale, dy: dy * scale }));
    return { arrows, points, bounds };
  },

  langevin({ n, stepsPerLevel, seed }) {
    // as `vdm langevin-demo`: the exact scores of ncsn-gmm, both from uniform noise on [−8, 8]², the same budget of steps
    const mixture = builtinMixture("ncsn-gmm")!;
    const den = oracle("ncsn-gmm", "score");
    const process = new DiffusionProcess(getSchedule("cosine"), 1000); // only maps levels to times; the oracle ignores t
    const init = { kind: "uniform" as const, low: [-8, -8], high: [8, 8] };
    const levels = 10;
    const steps = levels * stepsPerLevel;
    const t0 = performance.now();
    const every = Math.max(1, Math.floor(steps / 40));
    const stream = (which: "plain" | "annealed") => (remaining: number, x: JaxArray) => {
      if (remaining % every !== 0) return;
      const points = x.ref.dataSync() as Float32Array;
      post({ event: "langevin", which, remaining, shares: componentFractions(mixture, points), points: points.slice(0, 2000) });
    };
    const plain = new LangevinSampler(process, { sigma: 0, steps, stepSize: 0.1, init }).sample(den, [n, 2], new Rng(seed), {
      onStep: stream("plain"),
    });
    const annealed = new AnnealedLangevinSampler(process, {
      sigmas: geometricSigmas(20, 1, levels),
      stepsPerLevel,
      epsilon: 0.1,
      init,
      denoise: false,
    }).sample(den, [n, 2], new Rng(seed), { onStep: stream("annealed") });
    const shares = (x: JaxArray) => componentFractions(mixture, x.dataSync() as Float32Array);
    return { plain: shares(plain), annealed: shares(annealed), weights: mixture.weights, ms: performance.now() - t0 };
  },

  guidance({ cls, scale, n, seed, steps }) {
    // the exact conditional denoiser of eight-gaussians (label k: component k, label 8: none)
    const mixture = builtinMixture("eight-gaussians")!;
    const exact = oracle("eight-gaussians", "eps");
    const process = new DiffusionProcess(getSchedule("cosine"), 1000);
    const den = {
      model: cfgModel(exact.model),
      params: { net: exact.params, labels: np.full([n], cls, { dtype: np.int32 }), scale: np.array([scale]) },
    };
    const points = drawSamples(den, process, { shape: [2], n, rng: new Rng(seed), sampler: new DpmSolverSampler(process, { steps }) });
    const assigned = componentOf(mixture, points);
    const accuracy = assigned.reduce((a, k) => a + (k === cls ? 1 : 0), 0) / n;
    // spread: RMS distance from the class mean
    const mean = mixture.means[cls]!;
    let ss = 0;
    for (let i = 0; i < n; i++) ss += (points[2 * i]! - mean[0]!) ** 2 + (points[2 * i + 1]! - mean[1]!) ** 2;
    const data = sampleMixtureWithLabels(mixture, 800, new Rng(5));
    return { points, accuracy, spread: Math.sqrt(ss / n), data: data.points, dataLabels: data.labels! };
  },

  async images({ cls, scale, steps, n, seed }) {
    const { loaded, loadMs, denoiser } = await imageModel();
    const labels = Int32Array.from({ length: n }, (_, i) => (cls >= 0 ? cls : i % 10));
    const t0 = performance.now();
    const before = onnx.onnxRuntimeWebCalls();
    const pixels = guidedImages(denoiser, loaded.process, loaded.normalization, labels, { scale, steps, seed });
    const ms = performance.now() - t0;
    const after = onnx.onnxRuntimeWebCalls();
    return {
      pixels,
      labels: Array.from(labels),
      ms,
      perImage: ms / n,
      loadMs,
      onnxMs: after.ms - before.ms,
      onnxCalls: after.calls - before.calls,
    };
  },

  ...imageHandlers(post),

  save() {
    if (live) return live.save();
    if (loadedWeights)
      return { config: `${JSON.stringify(loadedWeights.config, null, 2)}\n`, state: encodeWeights(loadedWeights.denoiser.params), step: 0 };
    throw new Error("nothing to save: train or load a model first");
  },

  load({ config: text, state }) {
    const loaded = restoreUploaded(text, state, "uploaded checkpoint", ({ config: c }) =>
      c.model.kind === "mlp" && c.data.dim === 2 ? null : "the playground trains and samples 2-D MLP models; this checkpoint is not one",
    );
    const c = loaded.config;
    closeRun();
    loadedWeights = null;
    config = c;
    if (toyNames.includes(c.data.spec) && data?.spec !== c.data.spec) data = loadData(c.data.spec);
    if (loaded.state && data) {
      // a training checkpoint: training continues from it (its EMA parameters sample)
      const s = loaded.state;
      newRun(s);
      live!.progress([...s.losses]);
      return { step: s.step, kind: "training state", config: JSON.stringify(c, null, 2) };
    }
    loadedWeights = loaded;
    runs++;
    return { step: loaded.state?.step ?? 0, kind: "weights", config: JSON.stringify(c, null, 2) };
  },
};

self.onmessage = async (e: MessageEvent<Request>) => {
  const { id, type, args } = e.data;
  try {
    const result = await (handlers[type] as (a: unknown) => unknown)(args);
    const transfer: Transferable[] = [];
    post({ id, result }, transfer);
  } catch (err) {
    post({ id, error: (err as Error).message ?? String(err) });
  }
};
