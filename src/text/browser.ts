/**
 * Diffusion-LM without a file system: the restaurant grammar and its parser, the tokenizer, the
 * transformer denoiser over word embeddings, its loss, rounding to tokens, guided and infilled
 * sampling models, and the text metrics. The `text` namespace of "vdm/browser"; "vdm"'s adds
 * corpora from files, the text classifier, sampling from saved runs and their evaluation (./index.ts).
 */
export {
  type MaskedRunOptions,
  maskedClassifierConfig,
  maskedRunConfig,
  maskedRunDefaults,
  TEXT_CLASSIFIER_STEPS,
  type TextClassifierOptions,
  type TextClassifierTask,
  type TextRunOptions,
  textClassifierConfig,
  textRunConfig,
  textRunDefaults,
} from "./config.js";
export { controlSuccess, copyRate, distinctN, infillSuccess, parseRate, proportionError } from "./eval.js";
export {
  type Attribute,
  article,
  attributeClass,
  attributeClasses,
  attributes,
  attributeValue,
  type ParsedSentence,
  parseSentence,
  parseTokens,
  realizeTemplate,
  restaurantSentences,
  SLOT_VALUES,
  type Slot,
  TEMPLATE_COUNT,
  templateSlots,
} from "./grammar.js";
export { fluencyModel, type GuidedTextParams, guidedTextModel, roundingLogProb } from "./guidance.js";
export { type InfillParams, infillModel, infillPattern, repeatRows } from "./infill.js";
export { clampedModel, clampToEmbeddings, nearestTokens, roundToIds } from "./rounding.js";
export { detokenize, encodeAll, longestSentence, PAD, Tokenizer, tokenize, UNK, type VocabularyOptions } from "./tokenizer.js";
