/**
 * The diffusion process q(x_t | x_0) under a schedule γ(t), its posteriors q(x_s | x_t, x_0), the
 * four prediction targets (x₀, ε, v, score) and their conversions, the ELBO's terms and estimators,
 * and the interface every denoising network implements. The `diffusion` namespace of "vdm".
 */
export type { DecoderKind } from "./decoder.js";
export {
  type ChainEstimates,
  type ChainEstimatorName,
  chainEstimatorNames,
  diffusionCost,
  ElboEstimator,
  type ElboMode,
  type ElboOptions,
  type ElboSummary,
  type ElboTerms,
  reconstructionCost,
  summarizeElbo,
} from "./elbo.js";
export type { FlowFunction, FlowValue } from "./flow.js";
export { posteriorMean, posteriorVariance, qSample, qStep } from "./forward.js";
export type { DiagonalGaussian } from "./gaussian.js";
export { type CompiledStep, gammaConditioned, type HostPredictor, type Model } from "./model.js";
export { convert, type Target, targets, toEps, toX0 } from "./parameterization.js";
export {
  DiffusionProcess,
  type KlLevels,
  type Level,
  type LevelSampling,
  type Levels,
  levelSamplings,
  type Spacing,
  spacings,
  type Weighting,
} from "./process.js";
