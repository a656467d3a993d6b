/**
 * Our side of the benchmark: each case builds the model and the step the library really runs
 * (the trainer's step from a run config, by jax-js or by ONNX Runtime; the ancestral and
 * DPM-Solver++ samplers; the forward pass), then times `runs` repetitions after `warmup` (the
 * first compiles). bench/peer.py and bench/peer_jax.py are the same in PyTorch and JAX.
 *
 *   node dist-bench/cases.js CASE RUNS WARMUP [BACKEND]
 *
 * CASE is BASE_tN (BASE in `BASES`): N threads for jax-js (`configureEngine`, before the library
 * loads) and for ONNX Runtime (the sessions' intra-op threads). BACKEND is auto (default: ONNX
 * Runtime when onnxruntime-node loads), onnx or jax. Training cases take as many steps per run as
 * the stepper takes in one call and report times per step. A soak case takes RUNS as its number of
 * steps and reports the slope of resident memory after its first quarter. The library is loaded
 * from dist/ (the package's build), or from the folder VDM_BENCH_DIST names, relative to the
 * repository root; VDM_BENCH_SPIN (auto, on or off; default auto) sets ONNX Runtime's spinning
 * (`SessionOptions.spin`). Prints one JSON line {ms (median), times, params, peak_rss_mb, threads,
 * backend[, rss_slope_mb_per_1k_steps, rss_mb]}.
 */
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

type EngineModule = typeof import("vdm-dist/engine/index.js");
type JaxModule = typeof import("vdm-dist/engine/jax.js");
type Array = import("vdm-dist/engine/jax.js").Array;
type Params = import("vdm-dist/engine/jax.js").JsTree<Array>;
type RunConfig = import("vdm-dist/train/config.js").RunConfig;

/** BASE → what it runs; BASE_tN is the case at N threads (bench/peer_common.py has the same list). */
export const BASES = {
  mlp_step_b256: "the default 2-D training step (3 hidden layers of 128, batch 256)",
  mlp_step_b1024: "the larger 2-D training step (4 hidden layers of 256, batch 1024)",
  unet_step_b32: "the U-Net training step at batch 32",
  unet_step_b64: "the U-Net training step at batch 64",
  unet_forward_b64: "a U-Net forward pass at batch 64",
  sample_2d_n1024: "ancestral sampling of 1,024 points through all T = 1000 steps (default 2-D model)",
  sample_fmnist_n64: "64 Fashion-MNIST images with the default sampler (DPM-Solver++ 2M, 20 steps)",
  soak_2d_b256: "resident memory over many default 2-D training steps",
  soak_unet_b32: "resident memory over many U-Net training steps (batch 32)",
} as const;
export type Base = keyof typeof BASES;

/**
 * The 2-D cases' chain: the discrete cosine schedule (T = 1000) with the simple loss, which the
 * peers (bench/peer.py, peer_jax.py) implement; the library's 2-D default is continuous time.
 */
export const DISCRETE_COSINE = { schedule: "cosine", timesteps: 1000, loss: "simple" } as const;

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");

interface Case {
  params: number;
  run: () => void;
  /** training steps one run takes (its time is reported per step) */
  steps?: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Least-squares slope of ys against xs, per 1,000 steps. */
export function slopePer1k(xs: number[], ys: number[]): number {
  const n = xs.length;
  if (n < 2) return 0;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den ? (1000 * num) / den : 0;
}

async function main() {
  const [name = "", runsArg = "5", warmupArg = "1", backendArg = "auto"] = process.argv.slice(2);
  const m = /^(.+)_t(\d+)$/.exec(name);
  if (!m || !(m[1]! in BASES))
    throw new Error(
      `unknown case "${name}" (known: ${Object.keys(BASES)
        .map((b) => `${b}_tN`)
        .join(", ")})`,
    );
  const base = m[1] as Base;
  const threads = Number(m[2]);
  const [runs, warmup] = [Number(runsArg), Number(warmupArg)];

  const dist = pathToFileURL(`${join(root, process.env.VDM_BENCH_DIST || "dist")}/`);
  const load = <T>(path: string) => import(new URL(path, dist).href) as Promise<T>;
  // the engine's thread count is fixed when jax-js loads: configure it before anything else
  const { configureEngine } = await load<typeof import("vdm-dist/engine/configure.js")>("engine/configure.js");
  configureEngine({ threads });
  const { initEngine, Rng, shutdownEngine } = await load<EngineModule>("engine/index.js");
  const { numpy: np, tree } = await load<JaxModule>("engine/jax.js");
  const { jitFor } = await load<typeof import("vdm-dist/diffusion/model.js")>("diffusion/model.js");
  const { chooseBackend } = await load<typeof import("vdm-dist/onnx/available.js")>("onnx/available.js");
  const { onnxModel } = await load<typeof import("vdm-dist/onnx/model.js")>("onnx/model.js");
  const { spinModes } = await load<typeof import("vdm-dist/onnx/spin.js")>("onnx/spin.js");
  const { onnxStepper } = await load<typeof import("vdm-dist/onnx/train.js")>("onnx/train.js");
  const { adamInit, stepScalars } = await load<typeof import("vdm-dist/train/adam.js")>("train/adam.js");
  const { buildModel, buildProcess, dataShape, initParams } = await load<typeof import("vdm-dist/train/build.js")>("train/build.js");
  const { makeRunConfig } = await load<typeof import("vdm-dist/train/defaults.js")>("train/defaults.js");
  const { runObjective } = await load<typeof import("vdm-dist/train/objectives/index.js")>("train/objectives/index.js");
  const { batchOf } = await load<typeof import("vdm-dist/train/objectives/objective.js")>("train/objectives/objective.js");
  const { jaxStepper } = await load<typeof import("vdm-dist/train/step.js")>("train/step.js");
  const { AncestralSampler } = await load<typeof import("vdm-dist/sample/ancestral.js")>("sample/ancestral.js");
  const { DpmSolverSampler } = await load<typeof import("vdm-dist/sample/dpm-solver.js")>("sample/dpm-solver.js");

  const backendName = backendArg as "auto" | "onnx" | "jax";
  if (!["auto", "onnx", "jax"].includes(backendName)) throw new Error(`backend must be auto, onnx or jax, got "${backendArg}"`);
  const onnx = chooseBackend(backendName).onnx;
  const spinArg = process.env.VDM_BENCH_SPIN || "auto";
  const spin = spinModes[spinArg as keyof typeof spinModes];
  if (spin === undefined) throw new Error(`VDM_BENCH_SPIN must be auto, on or off, got "${spinArg}"`);
  const session = { threads, spin };
  await initEngine("wasm");

  /** A 2-D MLP run: the default model (3×128) at batch 256, the larger one (4×256) otherwise. */
  const mlpConfig = (batch: number): RunConfig =>
    makeRunConfig(
      { spec: "bench-2d", dim: 2, mean: [0, 0], std: [1, 1], train: 0, test: 0 },
      { ...DISCRETE_COSINE, ...(batch === 256 ? { batch, steps: 1000 } : { hidden: 256, layers: 4, batch, steps: 1000 }) },
    );
  /** The default Fashion-MNIST U-Net (base 32, multipliers 1,2,2, attention at 7×7), continuous time. */
  const unetConfig = (batch: number): RunConfig =>
    makeRunConfig(
      { spec: "fashion-mnist", dim: 784, mean: [127.5], std: [127.5], train: 0, test: 0, shape: [28, 28, 1] },
      { batch, steps: 1000 },
    );
  const countParams = (params: Params) => tree.leaves(params).reduce((s, p) => s + p.size, 0);

  /**
   * Optimiser steps exactly as the trainer takes them (batches drawn and uploaded, the steps, losses
   * read back): as many at once as the stepper takes in one call (`Stepper.chunk`), timed per step.
   */
  function trainStep(config: RunConfig): Case {
    const rng = new Rng(0);
    const process = buildProcess(config);
    const params = initParams(config, rng);
    const count = countParams(params);
    const shape = [config.batch, ...dataShape(config)];
    const batch = (x0: Array) =>
      batchOf(process, x0, rng.normal(shape), process.uniforms(rng, config.batch), np.zeros([config.batch], { dtype: np.int32 }));
    const makeStepper = onnx ? onnxStepper(session) : jaxStepper;
    const initial = { params, adam: adamInit(params), ema: tree.map((p: Array) => p.ref.add(0), params) as Params };
    const stepper = makeStepper(runObjective(config), config.adam, initial, batch(np.zeros(shape)));
    let k = 0;
    const { chunk } = stepper;
    return {
      params: count,
      steps: chunk,
      run() {
        const batches = Array.from({ length: chunk }, () => batch(rng.normal(shape)));
        stepper.steps(
          batches,
          batches.map(() => stepScalars(config.adam, k++)),
        );
      },
    };
  }

  /** The model of `config` at fresh params, run by jax-js or by ONNX Runtime. */
  function denoiserFor(config: RunConfig) {
    const params = initParams(config, new Rng(0));
    const model = buildModel(config);
    return { model: onnx ? onnxModel(model, params, session) : model, params };
  }

  function unetForward(batch: number): Case {
    const rng = new Rng(1);
    const { model, params } = denoiserFor(unetConfig(batch));
    const f = jitFor(model, (p: Params, x: Array, t: Array, g: Array) => model.apply(p, x, t, g));
    return {
      params: countParams(params),
      run() {
        f(tree.ref(params), rng.normal([batch, 28, 28, 1]), rng.uniform([batch]), np.zeros([batch])).dataSync();
      },
    };
  }

  function sample2d(n: number): Case {
    const config = mlpConfig(256);
    const rng = new Rng(1);
    const den = denoiserFor(config);
    const sampler = new AncestralSampler(buildProcess(config));
    return { params: countParams(den.params), run: () => void sampler.sample(den, [n, 2], rng).dataSync() };
  }

  function sampleImages(n: number): Case {
    const config = unetConfig(n);
    const rng = new Rng(1);
    const den = denoiserFor(config);
    const sampler = new DpmSolverSampler(buildProcess(config), { steps: 20 });
    return { params: countParams(den.params), run: () => void sampler.sample(den, [n, 28, 28, 1], rng).dataSync() };
  }

  const size = Number(/_[bn](\d+)$/.exec(base)![1]);
  const kind = base.replace(/_[bn]\d+$/, "");
  const c: Case =
    kind === "mlp_step" || kind === "soak_2d"
      ? trainStep(mlpConfig(size))
      : kind === "unet_step" || kind === "soak_unet"
        ? trainStep(unetConfig(size))
        : kind === "unet_forward"
          ? unetForward(size)
          : kind === "sample_2d"
            ? sample2d(size)
            : sampleImages(size);

  const times: number[] = [];
  const extra: Record<string, unknown> = {};
  const perRun = c.steps ?? 1;
  if (kind.startsWith("soak")) {
    // RSS sampled 50 times; the slope is fitted after the first quarter (the warm-up)
    const every = Math.max(1, Math.floor(runs / 50));
    const samples: [number, number][] = [];
    for (let k = 0; k < runs; k += perRun) {
      const start = performance.now();
      c.run();
      times.push((performance.now() - start) / perRun);
      if (Math.floor((k + perRun) / every) > Math.floor(k / every)) samples.push([k + perRun, process.memoryUsage.rss() / 2 ** 20]);
    }
    const after = samples.filter(([s]) => s > Math.floor(runs / 4));
    extra.rss_slope_mb_per_1k_steps = slopePer1k(
      after.map(([s]) => s),
      after.map(([, v]) => v),
    );
    extra.rss_mb = samples.map(([, v]) => Math.round(v * 10) / 10);
  } else {
    for (let i = 0; i < warmup; i++) c.run();
    for (let i = 0; i < runs; i++) {
      const start = performance.now();
      c.run();
      times.push((performance.now() - start) / perRun);
    }
  }
  const result = {
    ms: median(times),
    times: kind.startsWith("soak") ? [] : times,
    params: c.params,
    peak_rss_mb: process.resourceUsage().maxRSS / 1024,
    threads,
    backend: onnx ? "onnx" : "jax",
    spin: spinArg,
    ...extra,
  };
  console.log(JSON.stringify(result));
  await shutdownEngine();
  process.exit(0);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
