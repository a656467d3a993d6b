/**
 * What a run's config builds: its fresh parameters, its network as a denoiser `Model` or a
 * `Classifier` (through its kind, models/kinds.ts), its diffusion process, shapes and data
 * normalisation.
 */

import type { Normalization } from "../data/normalize.js";
import { exampleShape } from "../data/sets.js";
import type { Model } from "../diffusion/model.js";
import { gammaConditioned } from "../diffusion/model.js";
import { DiffusionProcess } from "../diffusion/process.js";
import type { Params, Rng } from "../engine/index.js";
import { ConfigError } from "../errors.js";
import type { MaskedDenoiser } from "../masked/denoiser.js";
import type { Autoencoder, Classifier, VocabularyClassifier } from "../models/kind.js";
import { networkOf } from "../models/kinds.js";
import type { Denoiser } from "../sample/sampler.js";
import {
  getSchedule,
  initLearnedSchedule,
  isLearnedSchedule,
  type LearnedScheduleInit,
  type LearnedScheduleParams,
  learnedSchedule,
} from "../schedule/index.js";
import type { RunConfig } from "./config.js";

/** Fresh parameters for the run: the network's, and { denoiser, schedule } with a learned schedule. */
export function initParams(config: RunConfig, rng: Rng): Params {
  const net = networkOf(config.model);
  const network = net.kind.init(net.config, rng);
  if (!isLearnedSchedule(config.schedule)) return network;
  return { denoiser: network, schedule: initLearnedSchedule(config.schedule, rng, learnedInit(config)) };
}

function learnedInit(config: RunConfig): LearnedScheduleInit {
  if (!config.learnedSchedule)
    throw new ConfigError(`a run with schedule "${config.schedule}" needs its "learnedSchedule" starting point in config.json`);
  return config.learnedSchedule;
}

/** The network's part of a run's parameters, and a learned schedule's (null for a fixed schedule). Borrows. */
export function splitParams(config: RunConfig, params: Params): { network: Params; schedule: LearnedScheduleParams | null } {
  if (!isLearnedSchedule(config.schedule)) return { network: params, schedule: null };
  const { denoiser, schedule } = params as { denoiser: Params; schedule: LearnedScheduleParams };
  return { network: denoiser, schedule };
}

/** Classes the run's labels range over: a conditional denoiser's, or a classifier's outputs (0 if unlabelled). */
export function labelClasses(config: RunConfig): number {
  const net = networkOf(config.model);
  return net.kind.labelClasses(net.config);
}

/** One example's shape: [dim] for points, [rows, cols, channels] for images. */
export function dataShape(config: RunConfig): number[] {
  return exampleShape(config.data);
}

/** The shape of one example's noise ε: the data's, except where a denoiser's kind says otherwise (text: [length, embedDim], its data are token ids). */
export function noiseShape(config: RunConfig): number[] {
  const net = networkOf(config.model);
  if (net.kind.noiseShape && config.task !== "classifier") return net.kind.noiseShape(net.config);
  return dataShape(config);
}

/** The run's data normalisation x' = (x − mean)/std. */
export function normalizationOf(config: RunConfig): Normalization {
  return { mean: config.data.mean, std: config.data.std };
}

/** The run's denoiser as a `Model` (γ-conditioned with a learned schedule); throws for a classifier run. */
export function buildModel(config: RunConfig): Model {
  if (config.task === "classifier") throw new ConfigError("this checkpoint is a classifier, not a denoiser");
  const net = networkOf(config.model);
  if (!net.kind.model) throw new ConfigError(`a ${config.model.kind} network is a classifier, not a denoiser`);
  const model = net.kind.model(net.config, config.target);
  if (!isLearnedSchedule(config.schedule)) return model;
  const { gammaMin, gammaMax } = learnedInit(config);
  return gammaConditioned(model, gammaMin, gammaMax);
}

/** The run's classifier; throws for a denoiser run. */
export function buildClassifier(config: RunConfig): Classifier {
  if (config.task !== "classifier")
    throw new ConfigError(`this checkpoint is a denoiser, not a classifier (a classifier's run has task "classifier")`);
  const net = networkOf(config.model);
  if (!net.kind.classifier) throw new ConfigError(`a ${config.model.kind} network is a denoiser, not a classifier`);
  return net.kind.classifier(net.config);
}

/** The run's masked-diffusion denoiser; throws for a classifier run or another kind. */
export function buildMaskedDenoiser(config: RunConfig): MaskedDenoiser {
  const net = networkOf(config.model);
  if (config.task === "classifier" || !net.kind.maskedDenoiser)
    throw new ConfigError(`this run (a ${config.model.kind} ${config.task ?? "denoiser"}) is not a masked-diffusion denoiser`);
  return net.kind.maskedDenoiser(net.config);
}

/** The run's classifier of masked tokens; throws for a denoiser run or another kind. */
export function buildMaskedClassifier(config: RunConfig): VocabularyClassifier {
  const net = networkOf(config.model);
  if (config.task !== "classifier" || !net.kind.maskedClassifier)
    throw new ConfigError(`this run (a ${config.model.kind} ${config.task ?? "denoiser"}) is not a classifier of masked tokens`);
  return net.kind.maskedClassifier(net.config);
}

/** The run's autoencoder; throws for a run of another kind. */
export function buildAutoencoder(config: RunConfig): Autoencoder {
  const net = networkOf(config.model);
  if (!net.kind.autoencoder) throw new ConfigError(`a ${config.model.kind} network is not an autoencoder`);
  return net.kind.autoencoder(net.config);
}

/**
 * The run's diffusion process. A learned schedule needs the run's parameters (`params`, borrowed
 * for as long as the process is used); a fixed one ignores them.
 */
export function buildProcess(config: RunConfig, params?: Params): DiffusionProcess {
  const kind = config.schedule;
  if (!isLearnedSchedule(kind)) return new DiffusionProcess(getSchedule(kind), config.timesteps);
  if (!params) throw new ConfigError(`the "${kind}" schedule is part of the trained parameters; give them`);
  return new DiffusionProcess(learnedSchedule(kind, splitParams(config, params).schedule!), config.timesteps);
}

/** The denoiser and process of trained parameters (`params` borrowed: they back both). */
export function trainedModel(config: RunConfig, params: Params): { denoiser: Denoiser; process: DiffusionProcess } {
  return { denoiser: { model: buildModel(config), params: splitParams(config, params).network }, process: buildProcess(config, params) };
}
