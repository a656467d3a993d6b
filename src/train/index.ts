/**
 * Training: a run's configuration, objective and steps, the training loop that checkpoints and
 * resumes, runs loaded back from their folders, and the models shipped with the package. The
 * `training` namespace of "vdm".
 */
export * from "./browser.js";
export {
  type LoadedClassifier,
  type LoadedMasked,
  type LoadRunOptions,
  loadClassifier,
  loadMaskedClassifier,
  loadMaskedDenoiser,
  loadRun,
} from "./load.js";
export { modelDirectory, shippedModelNames } from "./shipped.js";
export { type TrainOptions, type TrainProgress, type TrainResult, train, trainAsync } from "./trainer.js";
