/**
 * vdm: variational diffusion models in TypeScript. The top level holds what a first program needs
 * (the engine, errors, schedules, the diffusion process, data, a run's configuration, training,
 * checkpoints, the main samplers, the held-out ELBO and likelihood); each folder's whole public API
 * is a namespace: `schedules`, `diffusion`, `networks`, `densities`, `data`, `samplers`,
 * `evaluation`, `training`, `io`, `text`, `onnx`, `plot` (charts). jax-js itself (arrays, `numpy`, `tree`, `grad`…)
 * comes from "vdm/jax", after the engine's set-up. Start jax-js with `initEngine` before anything
 * else; choose its thread count first through "vdm/engine".
 *
 * @example
 * ```ts
 * import { initEngine, loadSplit, runConfigFor, train, trainedModel, DpmSolverSampler, drawSamples, normalizationOf, Rng } from "vdm";
 * await initEngine();
 * const split = loadSplit("moons", 0);
 * const config = runConfigFor("moons", split, { steps: 2000 });
 * const { denoiser, process: diffusion } = trainedModel(config, train(config, split.train).state.ema);
 * const points = drawSamples(denoiser, diffusion, { normalization: normalizationOf(config), shape: [2], n: 1000, rng: new Rng(1), sampler: new DpmSolverSampler(diffusion, { steps: 20 }) });
 * ```
 * @packageDocumentation
 */

// Everything "vdm/browser" exports, and what needs Node: files and image sets, checkpoint folders,
// the training loop, ONNX Runtime. The namespaces here that share a name with one of the browser
// entry's (data, evaluation, io, text, training) replace it (an explicit export shadows `export *`)
// with the folder's whole API.
export * from "./browser.js";
export * as data from "./data/index.js";
export { loadSplit, type Split, type SplitOptions } from "./data/index.js";
export { type EngineOptions, engineThreads } from "./engine/configure.js";
export * as evaluation from "./eval/index.js";
export * as io from "./io/index.js";
export { loadCheckpoint, readCheckpointConfig, saveCheckpoint, saveWeights, type TrainingState } from "./io/index.js";
export * as onnx from "./onnx/index.js";
export * as plot from "./plot/index.js";
export * as text from "./text/index.js";
export * as training from "./train/index.js";
export {
  type LoadedRun,
  type LoadRunOptions,
  loadRun,
  modelDirectory,
  shippedModelNames,
  type TrainOptions,
  type TrainProgress,
  type TrainResult,
  train,
  trainAsync,
} from "./train/index.js";
