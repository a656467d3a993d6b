/**
 * vdm: variational diffusion models in TypeScript. The public API: schedules, the diffusion
 * process and its ELBO, models, training, samplers, guidance, data sets, checkpoints, evaluation
 * and the ONNX backend. Start jax-js with `initEngine` before anything else.
 *
 * @example
 * ```ts
 * import { initEngine, loadSplit, runConfigFor, train, trainedModel, DpmSolverSampler, drawSamples, normalizationOf, Rng } from "vdm";
 * await initEngine();
 * const split = loadSplit("moons", 0);
 * const config = runConfigFor("moons", split, { steps: 2000 });
 * const { denoiser, process: diffusion } = trainedModel(config, train(config, split.train).state.ema);
 * const points = drawSamples(denoiser, diffusion, { normalization: normalizationOf(config), shape: [2], n: 1000, rng: new Rng(1), sampler: new DpmSolverSampler(diffusion, { steps: 20 }) });
 * ```
 * @packageDocumentation
 */
// The engine entry installs the Node polyfills before jax-js loads: it comes first.

// data
export {
  classCount,
  type GaussianMixture,
  imageNames,
  knownDensityNames,
  knownMixture,
  loadSplit,
  type PointSet,
  type Split,
  type SplitOptions,
  sampleMixture,
  toyNames,
} from "./data/index.js";
export { denormalize, fitNormalization, type Normalization, normalize } from "./data/normalize.js";
export type { DecoderKind } from "./diffusion/decoder.js";
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
} from "./diffusion/elbo.js";
export type { FlowFunction, FlowValue } from "./diffusion/flow.js";
export { posteriorMean, posteriorVariance, qSample, qStep } from "./diffusion/forward.js";
export { type CompiledStep, gammaConditioned, type HostPredictor, type Model } from "./diffusion/model.js";
export { convert, type Target, targets, toEps, toX0 } from "./diffusion/parameterization.js";
// the diffusion process, its parameterisations and the ELBO
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
} from "./diffusion/process.js";
// The thread count is chosen before this module loads, through "vdm/engine" (configureEngine).
export { type EngineOptions, engineThreads } from "./engine/configure.js";
export { type EngineDevice, exactArray, initEngine, Rng, shutdownEngine } from "./engine/index.js";
export * as jax from "./engine/jax.js";
export { CheckpointError, ConfigError, DataError, VdmError } from "./errors.js";
export { type EstimatorStudy, type EstimatorStudyOptions, type EstimatorSummary, studyElboEstimators } from "./eval/elbo-variance.js";
export { energyDistance } from "./eval/energy.js";
export { frechetDistance } from "./eval/frechet.js";
export { type DivergenceKind, type OdeLikelihood, type OdeLikelihoodOptions, odeLikelihood } from "./eval/ode-likelihood.js";
export {
  type FeatureClassifier,
  type ImageQuality,
  type ImageQualityOptions,
  imageLogits,
  imageQuality,
  loadFeatureClassifier,
  type QualityOptions,
  type QualityReference,
  qualityReference,
} from "./eval/quality.js";
// evaluation
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
} from "./eval/run.js";
// guidance
export { cfgModel, classifierGuidedModel, conditionalModel, guidanceDefaults } from "./guidance/guided.js";
// checkpoints and shipped models
export { loadCheckpoint, readCheckpointConfig, saveCheckpoint, saveWeights, type TrainingState } from "./io/checkpoint.js";
export type { CnnConfig, CnnParams } from "./models/cnn.js";
// models
export { type Classifier, type Dense, initMlp, type MlpConfig, type MlpParams, mlpClassifier, mlpModel } from "./models/mlp.js";
export { type MixtureParams, mixtureLogDensity, mixtureParams, oracleModel } from "./models/oracle.js";
export { type Conv, initUNet, type UNetConfig, type UNetParams, unetClassifier, unetModel } from "./models/unet.js";
export { type BackendChoice, type BackendName, backendNames, chooseBackend, onnxRuntimeLoads } from "./onnx/available.js";
// ONNX: export any jax-js function, run models and training steps in ONNX Runtime
export { exportOnnx, type OnnxInput } from "./onnx/export.js";
export { exportModel, type OnnxModel, onnxModel } from "./onnx/model.js";
export type { SessionOptions } from "./onnx/runtime.js";
export { onnxStepper, type StepperOptions, stepsPerCall } from "./onnx/train.js";
export { type AncestralOptions, AncestralSampler, type AncestralVariance } from "./sample/ancestral.js";
export {
  defaultSampler,
  isSamplerName,
  type SamplerEntry,
  samplerByName,
  samplerEntry,
  samplerNames,
  samplerTable,
} from "./sample/by-name.js";
export { type DdimOptions, DdimSampler } from "./sample/ddim.js";
export { type DpmSolverOptions, type DpmSolverOrder, DpmSolverSampler } from "./sample/dpm-solver.js";
export { EulerSampler } from "./sample/euler.js";
export { HeunSampler } from "./sample/heun.js";
export type { Init } from "./sample/init.js";
export { type AnnealedLangevinOptions, AnnealedLangevinSampler, type LangevinOptions, LangevinSampler } from "./sample/langevin.js";
export { type PredictorCorrectorOptions, PredictorCorrectorSampler } from "./sample/pc.js";
export {
  type SamplerOption,
  SamplerOptionError,
  type SamplerOptions,
  type SamplerOptionsInput,
  samplerDefaults,
  samplerOptions,
  samplerOptionsSchema,
} from "./sample/options.js";
export type { LevelOptions } from "./sample/predict.js";
// samplers
export type { Denoiser, SampleOptions, Sampler } from "./sample/sampler.js";
export { veScore, vpScore } from "./sample/score.js";
// schedules: γ(t) = −log SNR(t), fixed or learned, continuous or discretised
export {
  cosineSchedule,
  type DiscreteSchedule,
  defaultLearnedInit,
  discretize,
  gammaWithDerivative,
  geometricSchedule,
  getSchedule,
  initLearnedSchedule,
  isLearnedSchedule,
  type LearnedScheduleInit,
  type LearnedScheduleKind,
  type LearnedScheduleParams,
  learnedSchedule,
  learnedScheduleKinds,
  linearSchedule,
  logSnrLinearSchedule,
  type MonotoneGammaParams,
  type NoiseSchedule,
  posteriorCoefficients,
  scheduleNames,
  sqrtSchedule,
} from "./schedule/index.js";
export {
  classifierPoints,
  isAttribute,
  loadTextClassifier,
  type TextClassifier,
  type TrainTextClassifierOptions,
  trainTextClassifier,
} from "./text/classifier.js";
export {
  TEXT_CLASSIFIER_STEPS,
  type TextClassifierOptions,
  type TextClassifierTask,
  type TextRunOptions,
  textClassifierConfig,
  textRunConfig,
  textRunDefaults,
} from "./text/config.js";
export { BUILTIN_CORPUS, isTextSpec, loadTextCorpus, type TextCorpus, type TextCorpusOptions, tokenPoints } from "./text/data.js";
export { controlSuccess, copyRate, distinctN, infillSuccess, parseRate, proportionError } from "./text/eval.js";
export { evaluateText, type TextEvalOptions, type TextEvalReport } from "./text/evaluate.js";
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
} from "./text/grammar.js";
export { fluencyModel, type GuidedTextParams, guidedTextModel, roundingLogProb } from "./text/guidance.js";
export { type InfillParams, infillModel, infillPattern, repeatRows } from "./text/infill.js";
export { type TextLossEnds, type TextLossTerms, textLoss, textLossEnds, textLossTerms, textObjective } from "./text/loss.js";
export {
  embed,
  initTextNet,
  layerNorm,
  type TextNetConfig,
  type TextParams,
  textClassifier,
  textForward,
  textModel,
  validateTextNet,
} from "./text/model.js";
export { clampedModel, clampToEmbeddings, nearestTokens, roundToIds } from "./text/rounding.js";
export {
  loadTextLM,
  sampleSentences,
  sampleTextIds,
  type TextControl,
  type TextInfill,
  type TextLM,
  type TextSampleOptions,
  textLM,
} from "./text/sample.js";
// Diffusion-LM: text data, the built-in grammar and its parser, the transformer denoiser, its loss, rounding, controls, evaluation
export { detokenize, encodeAll, longestSentence, PAD, Tokenizer, tokenize, UNK, type VocabularyOptions } from "./text/tokenizer.js";
export { type AdamConfig, type AdamState, defaultAdam, type HostScalars } from "./train/adam.js";
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
} from "./train/config.js";
export { type LoadedClassifier, type LoadedRun, type LoadRunOptions, loadClassifier, loadRun } from "./train/load.js";
export { learnedScheduleObjective, meanObjective, type Objective, type ObjectiveValue } from "./train/objective.js";
export { modelDirectory, shippedModelNames } from "./train/shipped.js";
// training
export {
  type Batch,
  jaxStepper,
  NonFiniteLossError,
  type Stepper,
  type StepperFactory,
  type StepResult,
  type StepState,
  type TrainOptions,
  type TrainProgress,
  type TrainResult,
  train,
  trainAsync,
} from "./train/trainer.js";
