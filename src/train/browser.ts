/**
 * Training without a file system: a run's configuration and the model, process and parameters it
 * builds, its objective (the mean of per-example −ELBO or simple-loss estimates), Adam, and its
 * steps one at a time (`TrainingRun`, bit for bit what `train` does). The `training` namespace of
 * "vdm/browser"; "vdm"'s adds the training loop with checkpoints and the shipped runs (./index.ts).
 */
export { type AdamConfig, type AdamState, defaultAdam, type HostScalars } from "./adam.js";
export { buildModel, buildProcess, initParams, normalizationOf, trainedModel } from "./build.js";
export { type RunConfig, runConfigSchema, validateRunConfig } from "./config.js";
export { makeRunConfig, type RunOptions, runConfigFor } from "./defaults.js";
export type { LatentSampling } from "./latent.js";
export {
  type EmbeddingParams,
  type TextLossEnds,
  type TextLossTerms,
  textLoss,
  textLossEnds,
  textLossTerms,
  textObjective,
} from "./objectives/diffusion-lm.js";
export { learnedScheduleObjective } from "./objectives/learned.js";
export { type Batch, meanObjective, type Objective, type ObjectiveValue } from "./objectives/objective.js";
export { type LoadedRun, type RestoreRunOptions, restoreRun } from "./restore.js";
export {
  jaxStepper,
  NonFiniteLossError,
  type Stepper,
  type StepperFactory,
  type StepResult,
  type StepState,
  TrainingRun,
  type TrainingRunOptions,
} from "./step.js";
