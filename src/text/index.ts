/**
 * Diffusion-LM: text data, the grammar and its parser, the transformer denoiser, its loss,
 * rounding and controls, the text classifier, sampling and evaluation; masked diffusion's language model, its held-out bound and its classifiers. The `text` namespace of "vdm".
 */

export {
  type DiffusionLMBound,
  type DiffusionLMBoundOptions,
  diffusionLMBound,
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
export {
  bitsPerPosition,
  expectedCopyRate,
  type GrammarEntropy,
  type GrammarOptions,
  grammarEntropy,
  type SentenceProbability,
  sentenceDistribution,
  sentenceLogProb,
} from "./entropy.js";
export {
  evaluateText,
  type SteeringReport,
  type TextEvalOptions,
  type TextEvalReport,
  type TextSource,
  type TextSteering,
} from "./evaluate.js";
export type { TextInfill } from "./infill.js";
export { loadMaskedLM, type MaskedBound, type MaskedBoundOptions, type MaskedLM, maskedBound, maskedLM, maskedPoints } from "./masked.js";
export { loadMaskedTextClassifier, type MaskedTextClassifier, trainMaskedClassifier } from "./masked-classifier.js";
export {
  classifierSteering,
  diffusionLMSource,
  loadTextLM,
  sampleSentences,
  sampleTextIds,
  type TextControl,
  type TextLM,
  type TextSampleOptions,
  textControlDefaults,
  textLM,
  textSamplerDefaults,
} from "./sample.js";
