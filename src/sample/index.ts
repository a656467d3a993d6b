/**
 * Samplers of p(x_0) from a trained denoiser: ancestral (the model's own reverse chain), DDIM,
 * DPM-Solver, UniPC, iPNDM, Euler and Heun on the probability-flow ODE, Langevin and predictor–corrector; the
 * samplers by name, and the scores ∇ log p_t they follow. The `samplers` namespace of "vdm".
 */
export { type AncestralOptions, AncestralSampler, type AncestralVariance } from "./ancestral.js";
export {
  defaultSampler,
  isSamplerName,
  type SamplerEntry,
  samplerByName,
  samplerEntry,
  samplerNames,
  samplerTable,
} from "./by-name.js";
export { type DdimOptions, DdimSampler } from "./ddim.js";
export { type DpmSolverOptions, type DpmSolverOrder, DpmSolverSampler } from "./dpm-solver.js";
export { EulerSampler } from "./euler.js";
export { HeunSampler } from "./heun.js";
export type { Init } from "./init.js";
export { IpndmSampler } from "./ipndm.js";
export { type AnnealedLangevinOptions, AnnealedLangevinSampler, type LangevinOptions, LangevinSampler } from "./langevin.js";
export {
  type SamplerOption,
  SamplerOptionError,
  type SamplerOptions,
  type SamplerOptionsInput,
  samplerDefaults,
  samplerOptions,
  samplerOptionsSchema,
} from "./options.js";
export { type PredictorCorrectorOptions, PredictorCorrectorSampler } from "./pc.js";
export type { LevelOptions } from "./predict.js";
export type { Denoiser, SampleOptions, Sampler } from "./sampler.js";
export { gammaOfSigma, geometricSigmas, veScore, vpScore } from "./score.js";
export { UniPcSampler } from "./unipc.js";
