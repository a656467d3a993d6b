/** Rebuild a trained model from a checkpoint directory (EMA parameters by default). */
import { Rng } from "../engine/index.js";
import { tree } from "../engine/jax.js";
import type { DiffusionProcess } from "../diffusion/process.js";
import type { Normalization } from "../data/normalize.js";
import { loadCheckpoint, loadCheckpointState, readCheckpointConfig, type TrainingState } from "../io/checkpoint.js";
import type { Classifier } from "../models/mlp.js";
import type { Denoiser } from "../sample/sampler.js";
import { buildClassifier, buildProcess, initParams, normalizationOf, trainedModel, validateRunConfig, type RunConfig } from "./config.js";
import { CheckpointError } from "../errors.js";

/** A trained run rebuilt by `loadRun`: its config, denoiser, diffusion process and data normalisation. */
export interface LoadedRun {
  config: RunConfig;
  denoiser: Denoiser;
  process: DiffusionProcess;
  normalization: Normalization;
  /** the training state (null for exported weights, which hold the EMA parameters only) */
  state: TrainingState | null;
}

/** A run's model from a training checkpoint or exported weights (`saveWeights`); EMA parameters unless `ema` is false. */
export function loadRun(dir: string, { ema = true } = {}): LoadedRun {
  const config = readCheckpointConfig(dir, validateRunConfig);
  const template = initParams(config, new Rng(0));
  const loaded = loadCheckpoint(dir, template);
  tree.dispose(template);
  const state = "state" in loaded ? loaded.state : null;
  if (!state && !ema) throw new CheckpointError(`checkpoint ${dir} holds exported EMA weights only, not the training parameters`);
  const params = state ? (ema ? state.ema : state.params) : (loaded as { ema: TrainingState["ema"] }).ema;
  return { config, ...trainedModel(config, params), normalization: normalizationOf(config), state };
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
  const template = initParams(config, new Rng(0));
  const state = loadCheckpointState(dir, template);
  tree.dispose([template, state.params, state.adam.m, state.adam.v]);
  return { config, classifier, params: state.ema, process: buildProcess(config), normalization: normalizationOf(config) };
}
