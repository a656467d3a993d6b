/**
 * Checkpoints: a directory with `config.json` (everything needed to rebuild model, schedule and
 * data normalisation) and `state.safetensors` (parameters, EMA, optimizer moments, RNG key, loss
 * history, step). Each file is written atomically, so an interrupted save leaves the previous
 * checkpoint whole. The state file's bytes are made and read in `state.ts` (no file system).
 */

import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Params } from "../engine/index.js";
import { CheckpointError } from "../errors.js";
import { writeFileAtomic } from "./atomic.js";
import {
  decodeStateFile,
  encodeTrainingState,
  encodeWeights,
  type StateFile,
  stateOrWeights,
  stepOf,
  type TrainingState,
  trainingStateOf,
} from "./state.js";

const CONFIG = "config.json";
const STATE = "state.safetensors";

/** Writes `config` (as config.json) and `state` (as state.safetensors) to `dir`, atomically; borrows the state. */
export function saveCheckpoint(dir: string, config: object, state: TrainingState): void {
  mkdirSync(dir, { recursive: true });
  const bytes = encodeTrainingState(state);
  writeFileAtomic(join(dir, CONFIG), `${JSON.stringify(config, null, 2)}\n`);
  writeFileAtomic(join(dir, STATE), bytes);
}

/**
 * The config of a checkpoint directory as parsed JSON, with a `CheckpointError` when it is missing,
 * unreadable or not JSON. `validate` checks its structure (a run's: `validateRunConfig`); without
 * it the value is returned unchecked.
 */
export function readCheckpointConfig<C>(dir: string, validate?: (value: unknown, source: string) => C): C {
  const path = join(dir, CONFIG);
  if (!existsSync(path)) throw new CheckpointError(`no checkpoint at ${dir} (missing ${CONFIG})`);
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new CheckpointError(`checkpoint ${dir}: ${CONFIG} is corrupt (${(err as Error).message})`, { cause: err });
  }
  return validate ? validate(value, `checkpoint ${dir}: ${CONFIG}`) : (value as C);
}

/** The decoded state file of a checkpoint directory (tensors and metadata; no trees built yet). */
export function readStateFile(dir: string): StateFile {
  const path = join(dir, STATE);
  if (!existsSync(path)) throw new CheckpointError(`checkpoint ${dir}: missing ${STATE}`);
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new CheckpointError(`checkpoint ${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, {
      cause: err,
    });
  }
  return decodeStateFile(bytes, path);
}

/**
 * A model for sampling and evaluation only: the config and the EMA parameters, a quarter of a
 * training checkpoint's size (no parameters, Adam moments, RNG or loss history: it cannot be
 * resumed). `metadata` goes into the safetensors header. Borrows ema.
 */
export function saveWeights(dir: string, config: object, ema: Params, metadata: Record<string, string> = {}): void {
  mkdirSync(dir, { recursive: true });
  const bytes = encodeWeights(ema, metadata);
  writeFileAtomic(join(dir, CONFIG), `${JSON.stringify(config, null, 2)}\n`);
  writeFileAtomic(join(dir, STATE), bytes);
}

/**
 * Whatever `dir` holds, shaped like `template` (borrowed): a training state, or exported EMA
 * weights (`saveWeights`).
 */
export function loadCheckpoint(dir: string, template: Params): { state: TrainingState } | { ema: Params } {
  return stateOrWeights(readStateFile(dir), template);
}

/** The steps the training checkpoint in `dir` has completed (a `CheckpointError` for exported weights). */
export function checkpointStep(dir: string): number {
  return stepOf(readStateFile(dir));
}

/** Load the state into trees shaped like `template` (borrowed, for structure and shapes only). */
export function loadCheckpointState(dir: string, template: Params): TrainingState {
  return trainingStateOf(readStateFile(dir), template);
}
