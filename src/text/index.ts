/**
 * Diffusion-LM: text data, the grammar and its parser, the transformer denoiser, its loss,
 * rounding and controls, the text classifier, sampling and evaluation. The `text` namespace of "vdm".
 */

export {
  type DiffusionLMBound,
  type DiffusionLMBoundOptions,
  type DiffusionLMBoundTerms,
  diffusionLMBound,
  diffusionLMBoundTerms,
  type MeanWithError,
} from "./bound.js";
export * from "./browser.js";
export {
  classifierPoints,
  isAttribute,
  loadTextClassifier,
  type TextClassifier,
  type TrainTextClassifierOptions,
  trainTextClassifier,
} from "./classifier.js";
export { BUILTIN_CORPUS, isTextSpec, loadTextCorpus, type TextCorpus, type TextCorpusOptions, tokenPoints } from "./data.js";
export { evaluateText, type TextEvalOptions, type TextEvalReport } from "./evaluate.js";
export {
  loadTextLM,
  sampleSentences,
  sampleTextIds,
  type TextControl,
  type TextInfill,
  type TextLM,
  type TextSampleOptions,
  textControlDefaults,
  textLM,
  textSamplerDefaults,
} from "./sample.js";
