/**
 * Our side of the benchmark: each case builds the model and the step the library really runs
 * (the trainer's jitted step from a run config, the ancestral sampler, the jitted forward pass),
 * then times `runs` repetitions after `warmup` (the first compiles). bench/peer.py is the same in
 * PyTorch. Run by bench/bench.ts as `node dist-bench/cases.js CASE RUNS WARMUP`; prints one JSON
 * line {ms (median), times, params, peak_rss_mb, threads}.
 */
import { initEngine, Rng, shutdownEngine, threads } from "../dist/engine/index.js";
import { numpy as np, tree, type Array, type JsTree } from "../dist/engine/jax.js";
import { jitFor } from "../dist/diffusion/model.js";
import { onnxModel } from "../dist/onnx/model.js";
import { adamInit, stepScalars } from "../dist/train/adam.js";
import { buildModel, buildProcess, dataShape, initParams, makeRunConfig, type RunConfig } from "../dist/train/config.js";
import { batchOf, jaxStepper, runObjective } from "../dist/train/trainer.js";
import { onnxStepper } from "../dist/onnx/train.js";
import { AncestralSampler } from "../dist/sample/ancestral.js";

type Params = JsTree<Array>;

/** The 2-D MLP of the benchmark: 4 hidden layers of 256, cosine schedule, T = 1000. */
const mlpConfig = (batch: number): RunConfig =>
  makeRunConfig({ spec: "bench-2d", dim: 2, mean: [0, 0], std: [1, 1], train: 0, test: 0 }, { hidden: 256, layers: 4, batch, steps: 1000 });

/** The default Fashion-MNIST U-Net (base 32, multipliers 1,2,2, attention at 7×7), continuous time. */
const unetConfig = (batch: number): RunConfig =>
  makeRunConfig({ spec: "fashion-mnist", dim: 784, mean: [127.5], std: [127.5], train: 0, test: 0, shape: [28, 28, 1] }, { batch, steps: 1000 });

const countParams = (params: Params) => tree.leaves(params).reduce((s, p) => s + p.size, 0);

interface Case {
  params: number;
  run: () => void;
}

/** One optimiser step exactly as the trainer takes it (batch upload, the step, loss read back). */
function trainStep(config: RunConfig, backend: Backend): Case {
  const rng = new Rng(0);
  const process = buildProcess(config);
  const params = initParams(config, rng);
  const count = countParams(params);
  const shape = [config.batch, ...dataShape(config)];
  const batch = (x0: Array) => batchOf(process, x0, rng.normal(shape), process.uniforms(rng, config.batch), np.zeros([config.batch], { dtype: np.int32 }));
  const makeStepper = backend === "onnx" ? onnxStepper({ threads: 1 }) : jaxStepper;
  const initial = { params, adam: adamInit(params), ema: tree.map((p: Array) => p.ref.add(0), params) as Params };
  const stepper = makeStepper(runObjective(config), config.adam, initial, batch(np.zeros(shape)));
  let k = 0;
  return {
    params: count,
    run() {
      const x0 = np.array(rng.normal(shape).dataSync() as Float32Array).reshape(shape);
      stepper.step(batch(x0), stepScalars(config.adam, k++));
    },
  };
}

type Backend = "jax" | "onnx";

/** The model of `config` at fresh params, run by jax-js or (backend "onnx") by ONNX Runtime with one thread. */
function denoiserFor(config: RunConfig, backend: Backend) {
  const params = initParams(config, new Rng(0));
  const model = buildModel(config);
  return { model: backend === "onnx" ? onnxModel(model, params, { threads: 1 }) : model, params };
}

function unetForward(batch: number, backend: Backend): Case {
  const config = unetConfig(batch);
  const rng = new Rng(1);
  const { model, params } = denoiserFor(config, backend);
  const f = jitFor(model, (p: Params, x: Array, t: Array, g: Array) => model.apply(p, x, t, g));
  return {
    params: countParams(params),
    run() {
      f(tree.ref(params), rng.normal([batch, 28, 28, 1]), rng.uniform([batch]), np.zeros([batch])).dataSync();
    },
  };
}

/** A full ancestral sampling run of 1024 points through all T = 1000 steps. */
function sample2d(backend: Backend): Case {
  const config = mlpConfig(1024);
  const rng = new Rng(1);
  const den = denoiserFor(config, backend);
  const sampler = new AncestralSampler(buildProcess(config));
  return { params: countParams(den.params), run: () => void sampler.sample(den, [1024, 2], rng).dataSync() };
}

function makeCase(name: string): Case {
  const backend: Backend = name.endsWith("_onnx") ? "onnx" : "jax";
  if (name.startsWith("mlp_step")) return trainStep(mlpConfig(1024), backend);
  if (name.startsWith("sample_2d")) return sample2d(backend);
  const b = /^unet_(step|forward)_b(\d+)$/.exec(name.replace(/_onnx$/, ""));
  if (b) return b[1] === "step" ? trainStep(unetConfig(Number(b[2])), backend) : unetForward(Number(b[2]), backend);
  throw new Error(`unknown case "${name}"`);
}

const [name, runs, warmup] = [process.argv[2] ?? "", Number(process.argv[3] ?? 5), Number(process.argv[4] ?? 1)];
await initEngine("wasm");
const c = makeCase(name);
for (let i = 0; i < warmup; i++) c.run();
const times: number[] = [];
for (let i = 0; i < runs; i++) {
  const start = performance.now();
  c.run();
  times.push(performance.now() - start);
}
const sorted = [...times].sort((a, b) => a - b);
const mid = sorted.length >> 1;
const ms = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
console.log(JSON.stringify({ ms, times, params: c.params, peak_rss_mb: process.resourceUsage().maxRSS / 1024, threads: threads || 1 }));
await shutdownEngine();
