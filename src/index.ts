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
export { initEngine, shutdownEngine, exactArray, Rng, type EngineDevice } from "./engine/index.js";
// The thread count is chosen before this module loads, through "vdm/engine" (configureEngine).
export { engineThreads, type EngineOptions } from "./engine/configure.js";
export * as jax from "./engine/jax.js";
export { VdmError, DataError, CheckpointError, ConfigError } from "./errors.js";

// schedules: γ(t) = −log SNR(t), fixed or learned, continuous or discretised
export {
  cosineSchedule,
  linearSchedule,
  logSnrLinearSchedule,
  geometricSchedule,
  sqrtSchedule,
  getSchedule,
  scheduleNames,
  discretize,
  gammaWithDerivative,
  posteriorCoefficients,
  learnedSchedule,
  initLearnedSchedule,
  isLearnedSchedule,
  learnedScheduleKinds,
  defaultLearnedInit,
  type NoiseSchedule,
  type DiscreteSchedule,
  type LearnedScheduleKind,
  type LearnedScheduleParams,
  type LearnedScheduleInit,
  type MonotoneGammaParams,
} from "./schedule/index.js";

// the diffusion process, its parameterisations and the ELBO
export { DiffusionProcess, spacings, type Spacing, type Levels, type Level, type KlLevels, type Weighting, levelSamplings, type LevelSampling } from "./diffusion/process.js";
export { qSample, qStep, posteriorMean, posteriorVariance } from "./diffusion/forward.js";
export { targets, toEps, toX0, convert, type Target } from "./diffusion/parameterization.js";
export { gammaConditioned, type Model, type HostPredictor, type CompiledStep } from "./diffusion/model.js";
export type { FlowFunction, FlowValue } from "./diffusion/flow.js";
export type { DecoderKind } from "./diffusion/decoder.js";
export {
  ElboEstimator,
  summarizeElbo,
  reconstructionCost,
  diffusionCost,
  chainEstimatorNames,
  type ElboTerms,
  type ElboSummary,
  type ElboOptions,
  type ElboMode,
  type ChainEstimates,
  type ChainEstimatorName,
} from "./diffusion/elbo.js";

// models
export { mlpModel, initMlp, mlpClassifier, type MlpConfig, type MlpParams, type Dense, type Classifier } from "./models/mlp.js";
export { unetModel, initUNet, unetClassifier, type UNetConfig, type UNetParams, type Conv } from "./models/unet.js";
export type { CnnConfig, CnnParams } from "./models/cnn.js";
export { oracleModel, mixtureParams, mixtureLogDensity, type MixtureParams } from "./models/oracle.js";

// training
export { train, trainAsync, jaxStepper, NonFiniteLossError, type TrainOptions, type TrainProgress, type TrainResult, type Stepper, type StepperFactory, type StepState, type StepResult, type Batch } from "./train/trainer.js";
export { learnedScheduleObjective, meanObjective, type Objective, type ObjectiveValue } from "./train/objective.js";
export {
  makeRunConfig,
  runConfigFor,
  trainedModel,
  buildModel,
  buildProcess,
  initParams,
  normalizationOf,
  type RunConfig,
  type RunOptions,
  type ModelSpec,
  type UNetOptions,
} from "./train/config.js";
export { defaultAdam, type AdamConfig, type AdamState, type HostScalars } from "./train/adam.js";

// samplers
export type { Sampler, Denoiser, SampleOptions } from "./sample/sampler.js";
export type { LevelOptions } from "./sample/predict.js";
export type { Init } from "./sample/init.js";
export { DpmSolverSampler, type DpmSolverOptions, type DpmSolverOrder } from "./sample/dpm-solver.js";
export { DdimSampler, type DdimOptions } from "./sample/ddim.js";
export { EulerSampler } from "./sample/euler.js";
export { HeunSampler } from "./sample/heun.js";
export { AncestralSampler, type AncestralOptions, type AncestralVariance } from "./sample/ancestral.js";
export { PredictorCorrectorSampler, type PredictorCorrectorOptions } from "./sample/pc.js";
export { LangevinSampler, AnnealedLangevinSampler, type LangevinOptions, type AnnealedLangevinOptions } from "./sample/langevin.js";
export { vpScore, veScore } from "./sample/score.js";
export { levelSampler, levelSamplerNames, isLevelSamplerName, type LevelSamplerName, type LevelSamplerOptions } from "./sample/by-name.js";

// guidance
export { conditionalModel, cfgModel, classifierGuidedModel } from "./guidance/guided.js";

// Diffusion-LM: text data, the built-in grammar and its parser, the transformer denoiser, its loss, rounding, controls, evaluation
export { tokenize, detokenize, Tokenizer, encodeAll, longestSentence, PAD, UNK, type VocabularyOptions } from "./text/tokenizer.js";
export {
  SLOT_VALUES,
  TEMPLATE_COUNT,
  restaurantSentences,
  realizeTemplate,
  templateSlots,
  parseTokens,
  parseSentence,
  article,
  attributes,
  attributeClasses,
  attributeClass,
  attributeValue,
  type Slot,
  type ParsedSentence,
  type Attribute,
} from "./text/grammar.js";
export { loadTextCorpus, isTextSpec, tokenPoints, BUILTIN_CORPUS, type TextCorpus, type TextCorpusOptions } from "./text/data.js";
export { textModel, textClassifier, initTextNet, textForward, validateTextNet, layerNorm, embed, type TextNetConfig, type TextParams } from "./text/model.js";
export { textLoss, textLossTerms, textLossEnds, textObjective, type TextLossTerms, type TextLossEnds } from "./text/loss.js";
export { nearestTokens, clampToEmbeddings, roundToIds, clampedModel } from "./text/rounding.js";
export { fluencyModel, guidedTextModel, roundingLogProb, type GuidedTextParams } from "./text/guidance.js";
export { infillModel, infillPattern, repeatRows, type InfillParams } from "./text/infill.js";
export { textRunConfig, textRunDefaults, textClassifierConfig, TEXT_CLASSIFIER_STEPS, type TextRunOptions, type TextClassifierOptions, type TextClassifierTask } from "./text/config.js";
export { textLM, loadTextLM, sampleTextIds, sampleSentences, type TextLM, type TextControl, type TextInfill, type TextSampleOptions } from "./text/sample.js";
export { trainTextClassifier, loadTextClassifier, classifierPoints, isAttribute, type TextClassifier, type TrainTextClassifierOptions } from "./text/classifier.js";
export { parseRate, controlSuccess, distinctN, copyRate, infillSuccess, proportionError } from "./text/eval.js";
export { evaluateText, type TextEvalOptions, type TextEvalReport } from "./text/evaluate.js";

// data
export { loadSplit, classCount, toyNames, imageNames, knownDensityNames, knownMixture, sampleMixture, type PointSet, type Split, type SplitOptions, type GaussianMixture } from "./data/index.js";
export { fitNormalization, normalize, denormalize, type Normalization } from "./data/normalize.js";

// checkpoints and shipped models
export { saveCheckpoint, saveWeights, loadCheckpoint, readCheckpointConfig, type TrainingState } from "./io/checkpoint.js";
export { loadRun, loadClassifier, type LoadedRun, type LoadedClassifier, type LoadRunOptions } from "./train/load.js";
export { modelDirectory, shippedModelNames } from "./train/shipped.js";

// evaluation
export { drawSamples, heldOutElbo, evaluate, type DrawSamplesOptions, type EvaluateOptions, type HeldOutElbo, type Evaluation, type BatchDenoiser, type BatchOptions, type ElboEvalOptions, type EvaluationBatches } from "./eval/run.js";
export { studyElboEstimators, type EstimatorStudy, type EstimatorStudyOptions, type EstimatorSummary } from "./eval/elbo-variance.js";
export { odeLikelihood, type OdeLikelihood, type OdeLikelihoodOptions, type DivergenceKind } from "./eval/ode-likelihood.js";
export { energyDistance } from "./eval/energy.js";
export { frechetDistance } from "./eval/frechet.js";
export { imageQuality, imageLogits, loadFeatureClassifier, qualityReference, type FeatureClassifier, type QualityReference, type ImageQuality, type QualityOptions, type ImageQualityOptions } from "./eval/quality.js";

// ONNX: export any jax-js function, run models and training steps in ONNX Runtime
export { exportOnnx, type OnnxInput } from "./onnx/export.js";
export { onnxModel, exportModel, type OnnxModel } from "./onnx/model.js";
export type { SessionOptions } from "./onnx/runtime.js";
export { onnxStepper, stepsPerCall, type StepperOptions } from "./onnx/train.js";
export { chooseBackend, onnxRuntimeLoads, backendNames, type BackendName, type BackendChoice } from "./onnx/available.js";
