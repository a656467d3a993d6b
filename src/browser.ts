/**
 * vdm in a browser (`vdm/browser`): everything that needs no Node built-in. A bundler resolves the
 * engine's set-up under its "browser" condition (package.json "imports"): no Node polyfills, and
 * jax-js uses the page's own web Workers. "vdm" exports all of this and what needs Node.
 *
 * The top level holds the names a first program needs, by folder: the engine (`initEngine`, `Rng`)
 * and the errors; the schedule γ(t) = −log SNR(t) by name; the diffusion process and its network
 * interface; the data's normalisation; the main samplers and guidance; sampling in batches, the
 * held-out ELBO and the exact likelihood; a run's configuration and the model it builds. Each
 * folder's whole public API is a namespace, named after its mathematics: `schedules` (γ(t): fixed,
 * discretised, learned), `diffusion` (q(x_t | x_0), posteriors, targets, ELBO terms), `networks`
 * (x̂_θ), `densities` (mixtures with exact scores), `data`, `samplers`, `evaluation`, `training`
 * (a run's steps one at a time, bit for bit what `train` does), `io` (checkpoint bytes), `onnx`
 * (networks and training steps in ONNX Runtime Web, `useOnnxRuntimeWeb`), `text`
 * (Diffusion-LM) and `plot` (charts as Vega-Lite specs). jax-js itself comes from "vdm/jax".
 *
 * @example
 * ```ts
 * import { initEngine, runConfigFor, training, data, drawSamples, normalizationOf, trainedModel, DpmSolverSampler, Rng } from "vdm/browser";
 * await initEngine();
 * const split = data.toySplit("moons", 0), config = runConfigFor("moons", split, { steps: 500 });
 * const run = new training.TrainingRun(config, split.train);
 * while (run.step < config.steps) run.next();
 * const { denoiser, process: diffusion } = trainedModel(config, run.state().ema);
 * const points = drawSamples(denoiser, diffusion, { normalization: normalizationOf(config), shape: [2], n: 500, rng: new Rng(1), sampler: new DpmSolverSampler(diffusion, { steps: 20 }) });
 * ```
 * @packageDocumentation
 */

export * as data from "./data/browser.js";
export { denormalize, type Normalization, normalize, type PointSet } from "./data/browser.js";
export * as densities from "./densities/index.js";
export * as diffusion from "./diffusion/index.js";
export { DiffusionProcess, type Model, type Target } from "./diffusion/index.js";
export { type EngineDevice, exactArray, initEngine, type Params, Rng, shutdownEngine, threads } from "./engine/index.js";
export { CheckpointError, ConfigError, DataError, ShapeError, UnsupportedError, VdmError } from "./errors.js";
export * as evaluation from "./eval/browser.js";
export {
  type DrawSamplesOptions,
  drawSamples,
  type ElboEvalOptions,
  type EvaluateOptions,
  type Evaluation,
  evaluate,
  type HeldOutElbo,
  heldOutElbo,
  type OdeLikelihood,
  type OdeLikelihoodOptions,
  odeLikelihood,
} from "./eval/browser.js";
export { cfgModel, classifierGuidedModel, conditionalModel, guidanceDefaults } from "./guidance/guided.js";
export * as io from "./io/browser.js";
export * as networks from "./models/index.js";
export * as onnx from "./onnx/browser.js";
export * as plot from "./plot/browser.js";
export * as samplers from "./sample/index.js";
export {
  type AncestralOptions,
  AncestralSampler,
  type DdimOptions,
  DdimSampler,
  type Denoiser,
  type DpmSolverOptions,
  DpmSolverSampler,
  EulerSampler,
  HeunSampler,
  type SampleOptions,
  type Sampler,
  type SamplerOptions,
  samplerByName,
  samplerDefaults,
  samplerNames,
} from "./sample/index.js";
export * as schedules from "./schedule/index.js";
export { getSchedule, type NoiseSchedule, scheduleNames } from "./schedule/index.js";
export * as text from "./text/browser.js";
export * as training from "./train/browser.js";
export {
  buildModel,
  buildProcess,
  initParams,
  makeRunConfig,
  NonFiniteLossError,
  normalizationOf,
  type RunConfig,
  type RunOptions,
  runConfigFor,
  trainedModel,
} from "./train/browser.js";
