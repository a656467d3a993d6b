/**
 * A trained model rebuilt from a checkpoint's two files held in memory (config.json's text and
 * state.safetensors' bytes), with no file system: what `loadRun` does for a directory, and what
 * the browser playground does with files a user picks or the page fetches.
 */

import type { Normalization } from "../data/normalize.js";
import type { DiffusionProcess } from "../diffusion/process.js";
import { Rng } from "../engine/index.js";
import { tree } from "../engine/jax.js";
import { CheckpointError } from "../errors.js";
import { decodeStateFile, type StateFile, stateOrWeights, type TrainingState } from "../io/state.js";
import type { Denoiser } from "../sample/sampler.js";
import { initParams, normalizationOf, trainedModel } from "./build.js";
import { type RunConfig, validateRunConfig } from "./config.js";

/** A trained run rebuilt by `loadRun`: its config, denoiser, diffusion process and data normalisation. */
export interface LoadedRun {
  config: RunConfig;
  denoiser: Denoiser;
  process: DiffusionProcess;
  normalization: Normalization;
  /** the training state (null for exported weights, which hold the EMA parameters only) */
  state: TrainingState | null;
}

/** Options of `restoreRun`. */
export interface RestoreRunOptions {
  /** the exponential moving average of the parameters (true) or the last step's (false); default true */
  ema?: boolean;
  /** the checkpoint's name in error messages (default "checkpoint") */
  source?: string;
}

/**
 * A run's model from its config (parsed config.json, validated here) and state bytes (a training
 * checkpoint or exported weights); EMA parameters unless `ema` is false. `source` names the
 * checkpoint in errors.
 */
export function restoreRun(configValue: unknown, stateBytes: Uint8Array, options: RestoreRunOptions = {}): LoadedRun {
  const { ema = true, source = "checkpoint" } = options;
  return runOf(validateRunConfig(configValue, `${source}: config.json`), decodeStateFile(stateBytes, `${source}/state.safetensors`), {
    ema,
    source,
  });
}

/**
 * A run's model from its validated config and decoded state file (a training checkpoint or
 * exported weights); EMA parameters unless `ema` is false. `source` names the checkpoint in errors.
 */
export function runOf(config: RunConfig, file: StateFile, { ema, source }: { ema: boolean; source: string }): LoadedRun {
  const template = initParams(config, new Rng(0));
  const loaded = stateOrWeights(file, template);
  tree.dispose(template);
  const state = "state" in loaded ? loaded.state : null;
  if (!state && !ema) throw new CheckpointError(`checkpoint ${source} holds exported EMA weights only, not the training parameters`);
  const params = state ? (ema ? state.ema : state.params) : (loaded as { ema: TrainingState["ema"] }).ema;
  return { config, ...trainedModel(config, params), normalization: normalizationOf(config), state };
}
