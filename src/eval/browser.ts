/**
 * Evaluation that needs no file system: samples drawn in batches, the held-out −ELBO in nats and
 * bits/dim, the exact likelihood through the probability-flow ODE, the ELBO estimators' variance,
 * and the distances between sample and data (energy, Fréchet). The `evaluation` namespace of
 * "vdm/browser"; "vdm"'s adds the image-quality features of the shipped classifier (./index.ts).
 */
export { type EstimatorStudy, type EstimatorStudyOptions, type EstimatorSummary, studyElboEstimators } from "./elbo-variance.js";
export { energyDistance } from "./energy.js";
export { frechetDistance } from "./frechet.js";
export { type DivergenceKind, type OdeLikelihood, type OdeLikelihoodOptions, odeLikelihood } from "./ode-likelihood.js";
export {
  type BatchDenoiser,
  type BatchOptions,
  type DrawSamplesOptions,
  drawSamples,
  type ElboEvalOptions,
  type EvaluateOptions,
  type Evaluation,
  type EvaluationBatches,
  evaluate,
  type HeldOutElbo,
  heldOutElbo,
} from "./run.js";
