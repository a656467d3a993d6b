/**
 * Masked (absorbing-state) diffusion of token sequences: masking schedules, the forward process and
 * its bound, the denoiser and classifier interfaces, samplers by name, guidance wrappers and
 * infilling's start.
 */
export { ancestralRule, ancestralSampler } from "./ancestral.js";
export { confidenceRule, confidenceSampler } from "./confidence.js";
export type { MaskedClassifier, MaskedDenoiser } from "./denoiser.js";
export { type ClassifierGuidedParams, classifierFreeGuided, classifierGuided, unconditional } from "./guidance.js";
export { maskedLevels, maskedNelbo, maskTokens } from "./process.js";
export {
  type MaskedSample,
  type MaskedSampleOptions,
  type MaskedSampleRequest,
  type MaskedSampler,
  type MaskedStepInfo,
  maskedSamplerDefaults,
  oneHotRows,
  type RowStep,
  type UnmaskRule,
  walk,
} from "./sampler.js";
export { type MaskedSamplerEntry, maskedSamplerByName, maskedSamplerNames, maskedSamplerTable } from "./samplers.js";
export { getMaskingSchedule, type MaskingSchedule, maskingScheduleNames, maskingSchedules, oneMinusAlphaAt } from "./schedule.js";
export { allMasked, infillStart } from "./start.js";
