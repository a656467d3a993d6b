/** Rebuild a trained model from a checkpoint directory (EMA parameters by default). */

import type { Normalization } from "../data/normalize.js";
import type { DiffusionProcess } from "../diffusion/process.js";
import { Rng } from "../engine/index.js";
import { tree } from "../engine/jax.js";
import { ConfigError } from "../errors.js";
import type { HvaeNetwork } from "../hvae/elbo.js";
import { loadCheckpointState, readCheckpointConfig, readStateFile } from "../io/checkpoint.js";
import type { TrainingState } from "../io/state.js";
import type { MaskedDenoiser } from "../masked/denoiser.js";
import type { Classifier, VocabularyClassifier } from "../models/kind.js";
import { networkOf } from "../models/kinds.js";
import { buildClassifier, buildMaskedClassifier, buildMaskedDenoiser, buildProcess, initParams, normalizationOf } from "./build.js";
import { type RunConfig, validateRunConfig } from "./config.js";
import { type LoadedRun, runOf } from "./restore.js";

/** Options of `loadRun`. */
export interface LoadRunOptions {
  /** the exponential moving average of the parameters (true) or the last step's (false); default true */
  ema?: boolean;
}

/** A run's model from a training checkpoint or exported weights (`saveWeights`); EMA parameters unless `ema` is false. */
export function loadRun(dir: string, options: LoadRunOptions = {}): LoadedRun {
  return runOf(readCheckpointConfig(dir, validateRunConfig), readStateFile(dir), { ema: options.ema ?? true, source: dir });
}

/** The EMA parameters of the checkpoint in `dir` of a run of `config` (the rest of its state disposed). */
function checkpointEma(dir: string, config: RunConfig): TrainingState["ema"] {
  const template = initParams(config, new Rng(0));
  const state = loadCheckpointState(dir, template);
  tree.dispose([template, state.params, state.adam.m, state.adam.v]);
  return state.ema;
}

/** A classifier checkpoint rebuilt by `loadClassifier`: config, classifier, EMA parameters, process, normalisation. */
export interface LoadedClassifier {
  config: RunConfig;
  classifier: Classifier;
  params: TrainingState["ema"];
  process: DiffusionProcess;
  normalization: Normalization;
}

/** A noise-aware classifier checkpoint (EMA parameters). */
export function loadClassifier(dir: string): LoadedClassifier {
  const config = readCheckpointConfig(dir, validateRunConfig);
  const classifier = buildClassifier(config);
  return { config, classifier, params: checkpointEma(dir, config), process: buildProcess(config), normalization: normalizationOf(config) };
}

/** A hierarchical VAE's checkpoint rebuilt by `loadHvae`: config, the network its kind declares, EMA parameters, normalisation. */
export interface LoadedHvae {
  config: RunConfig;
  network: HvaeNetwork;
  params: TrainingState["ema"];
  normalization: Normalization;
}

/** Whether a run's network is a hierarchical VAE (its kind declares `hvae`). */
export function isHvaeRun(config: RunConfig): boolean {
  return networkOf(config.model).kind.hvae !== undefined;
}

/** A hierarchical VAE's checkpoint (EMA parameters); throws `ConfigError` for another network. */
export function loadHvae(dir: string): LoadedHvae {
  const config = readCheckpointConfig(dir, validateRunConfig);
  const net = networkOf(config.model);
  if (!net.kind.hvae) throw new ConfigError(`${dir}: a ${config.model.kind} network is not a hierarchical VAE`);
  return { config, network: net.kind.hvae(net.config), params: checkpointEma(dir, config), normalization: normalizationOf(config) };
}

/** A masked-diffusion checkpoint rebuilt by `loadMaskedDenoiser` or `loadMaskedClassifier`: config, network, EMA parameters. */
export interface LoadedMasked<N> {
  config: RunConfig;
  network: N;
  params: TrainingState["ema"];
}

/** A masked-diffusion denoiser's checkpoint (EMA parameters); throws `ConfigError` for another run. */
export function loadMaskedDenoiser(dir: string): LoadedMasked<MaskedDenoiser> {
  const config = readCheckpointConfig(dir, validateRunConfig);
  return { config, network: buildMaskedDenoiser(config), params: checkpointEma(dir, config) };
}

/** A classifier of masked tokens from its checkpoint (EMA parameters); throws `ConfigError` for another run. */
export function loadMaskedClassifier(dir: string): LoadedMasked<VocabularyClassifier> {
  const config = readCheckpointConfig(dir, validateRunConfig);
  return { config, network: buildMaskedClassifier(config), params: checkpointEma(dir, config) };
}
