/**
 * Training without a file system: a run's configuration and the model, process and parameters it
 * builds, its objective (the mean of per-example −ELBO or simple-loss estimates), Adam, and its
 * steps one at a time (`TrainingRun`, bit for bit what `train` does). The `training` namespace of
 * "vdm/browser"; "vdm"'s adds the training loop with checkpoints and the shipped runs (./index.ts).
 */
export { type AdamConfig, type AdamState, defaultAdam, type HostScalars } from "./adam.js";
export {
  buildModel,
  buildProcess,
  initParams,
  type ModelSpec,
  makeRunConfig,
  normalizationOf,
  type RunConfig,
  type RunOptions,
  runConfigFor,
  trainedModel,
  type UNetOptions,
} from "./config.js";
export { learnedScheduleObjective, meanObjective, type Objective, type ObjectiveValue } from "./objective.js";
export { type LoadedRun, type RestoreRunOptions, restoreRun } from "./restore.js";
export {
  type Batch,
  jaxStepper,
  NonFiniteLossError,
  type Stepper,
  type StepperFactory,
  type StepResult,
  type StepState,
  TrainingRun,
  type TrainingRunOptions,
} from "./step.js";
