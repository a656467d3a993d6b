/**
 * Checkpoints: a directory with `config.json` (everything needed to rebuild model, schedule and
 * data normalisation) and `state.safetensors` (parameters, EMA, optimizer moments, RNG key, loss
 * history, step). Each file is written atomically, so an interrupted save leaves the previous
 * checkpoint whole.
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { numpy as np, type Array as JaxArray, type JsTree } from "../engine/jax.js";
import { CheckpointError } from "../errors.js";
import { writeFileAtomic } from "./atomic.js";
import { decodeSafetensors, encodeSafetensors, type TensorData } from "./safetensors.js";

/**
 * Model parameters as a tree of arrays.
 * @inline
 */
export type Params = JsTree<JaxArray>;

/**
 * Everything a checkpoint stores to resume training: parameters, their EMA, Adam's moments, the
 * step, the RNG key and the per-step loss history.
 */
export interface TrainingState {
  params: Params;
  ema: Params;
  adam: { m: Params; v: Params };
  /** steps completed */
  step: number;
  rng: Uint32Array;
  losses: Float32Array;
  /** per step, the batch variance of the per-example loss estimates (NaN for steps of checkpoints older than this history) */
  variances: Float32Array;
}

/** [dotted path, leaf] for every array in a tree of plain objects and arrays. */
export function namedLeaves(t: Params, prefix: string): [string, JaxArray][] {
  if (Array.isArray(t)) return t.flatMap((c, i) => namedLeaves(c, `${prefix}.${i}`));
  if (t && typeof t === "object" && !(t instanceof np.Array)) {
    return Object.entries(t as Record<string, Params>).flatMap(([k, c]) => namedLeaves(c, `${prefix}.${k}`));
  }
  return [[prefix, t as JaxArray]];
}

/** A tree shaped like `template` whose leaves come from `leaf(path, templateLeaf)`. */
export function mapNamed(template: Params, prefix: string, leaf: (name: string, like: JaxArray) => JaxArray): Params {
  if (Array.isArray(template)) return template.map((c, i) => mapNamed(c, `${prefix}.${i}`, leaf));
  if (template && typeof template === "object" && !(template instanceof np.Array)) {
    return Object.fromEntries(Object.entries(template as Record<string, Params>).map(([k, c]) => [k, mapNamed(c, `${prefix}.${k}`, leaf)]));
  }
  return leaf(prefix, template as JaxArray);
}

const CONFIG = "config.json";
const STATE = "state.safetensors";

/** Writes `config` (as config.json) and `state` (as state.safetensors) to `dir`, atomically; borrows the state. */
export function saveCheckpoint(dir: string, config: object, state: TrainingState): void {
  mkdirSync(dir, { recursive: true });
  const tensors: Record<string, { shape: number[]; data: TensorData }> = {};
  const add = (tree: Params, prefix: string) => {
    for (const [name, a] of namedLeaves(tree, prefix)) tensors[name] = { shape: a.shape, data: a.ref.dataSync() as Float32Array };
  };
  add(state.params, "params");
  add(state.ema, "ema");
  add(state.adam.m, "adam.m");
  add(state.adam.v, "adam.v");
  tensors["rng"] = { shape: [state.rng.length], data: state.rng };
  tensors["losses"] = { shape: [state.losses.length], data: state.losses };
  tensors["loss_variances"] = { shape: [state.variances.length], data: state.variances };
  writeFileAtomic(join(dir, CONFIG), JSON.stringify(config, null, 2) + "\n");
  writeFileAtomic(join(dir, STATE), encodeSafetensors(tensors, { step: String(state.step), format: "vdm-1" }));
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

/** The decoded state file of a checkpoint directory. */
function readState(dir: string) {
  const path = join(dir, STATE);
  if (!existsSync(path)) throw new CheckpointError(`checkpoint ${dir}: missing ${STATE}`);
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new CheckpointError(`checkpoint ${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { cause: err });
  }
  return { path, ...decodeSafetensors(bytes, `checkpoint ${path}`) };
}

/** Trees shaped like `template` from the tensors named prefix.leaf. */
function takeTree(file: ReturnType<typeof readState>, template: Params, prefix: string): Params {
  return mapNamed(template, prefix, (name, like) => {
    const t = file.tensors[name];
    if (!t) throw new CheckpointError(`checkpoint ${file.path}: tensor ${name} is missing`);
    if (t.shape.join() !== like.shape.join()) throw new CheckpointError(`checkpoint ${file.path}: tensor ${name} has shape [${t.shape}], the model needs [${like.shape}]`);
    if (t.dtype !== "F32") throw new CheckpointError(`checkpoint ${file.path}: tensor ${name} holds ${t.dtype}, the model needs F32`);
    return np.array(t.data as Float32Array).reshape(t.shape);
  });
}

/** The state format of a model exported for sampling and evaluation only (EMA parameters). */
const WEIGHTS_FORMAT = "vdm-weights-1";

/**
 * A model for sampling and evaluation only: the config and the EMA parameters, a quarter of a
 * training checkpoint's size (no parameters, Adam moments, RNG or loss history: it cannot be
 * resumed). `metadata` goes into the safetensors header. Borrows ema.
 */
export function saveWeights(dir: string, config: object, ema: Params, metadata: Record<string, string> = {}): void {
  mkdirSync(dir, { recursive: true });
  const tensors: Record<string, { shape: number[]; data: TensorData }> = {};
  for (const [name, a] of namedLeaves(ema, "ema")) tensors[name] = { shape: a.shape, data: a.ref.dataSync() as Float32Array };
  writeFileAtomic(join(dir, CONFIG), JSON.stringify(config, null, 2) + "\n");
  writeFileAtomic(join(dir, STATE), encodeSafetensors(tensors, { ...metadata, format: WEIGHTS_FORMAT }));
}

/**
 * Whatever `dir` holds, shaped like `template` (borrowed): a training state, or exported EMA
 * weights (`saveWeights`).
 */
export function loadCheckpoint(dir: string, template: Params): { state: TrainingState } | { ema: Params } {
  const file = readState(dir);
  return file.metadata.format === WEIGHTS_FORMAT ? { ema: takeTree(file, template, "ema") } : { state: stateOf(file, template) };
}

/** Load the state into trees shaped like `template` (borrowed, for structure and shapes only). */
export function loadCheckpointState(dir: string, template: Params): TrainingState {
  const file = readState(dir);
  if (file.metadata.format === WEIGHTS_FORMAT) throw new CheckpointError(`checkpoint ${file.path} holds exported EMA weights only: it samples and evaluates, but cannot be resumed or give training parameters`);
  return stateOf(file, template);
}

function stateOf(file: ReturnType<typeof readState>, template: Params): TrainingState {
  const { path, tensors, metadata } = file;
  const step = Number(metadata.step);
  if (!Number.isInteger(step) || step < 0) throw new CheckpointError(`checkpoint ${path}: bad step "${metadata.step}"`);
  const rng = tensors["rng"];
  const losses = tensors["losses"];
  const variances = tensors["loss_variances"];
  if (!rng || !losses) throw new CheckpointError(`checkpoint ${path}: rng or loss history missing`);
  if (rng.dtype !== "U32" || rng.shape.join() !== "2") throw new CheckpointError(`checkpoint ${path}: rng is ${rng.dtype} [${rng.shape}], expected a key of U32 [2]`);
  if (losses.dtype !== "F32" || losses.shape.length !== 1) throw new CheckpointError(`checkpoint ${path}: losses are ${losses.dtype} [${losses.shape}], expected an F32 vector`);
  if (variances && (variances.dtype !== "F32" || variances.data.length !== losses.data.length)) {
    throw new CheckpointError(`checkpoint ${path}: loss_variances are ${variances.dtype} [${variances.shape}], expected F32 [${losses.data.length}] like the losses`);
  }
  return {
    params: takeTree(file, template, "params"),
    ema: takeTree(file, template, "ema"),
    adam: { m: takeTree(file, template, "adam.m"), v: takeTree(file, template, "adam.v") },
    step,
    rng: rng.data as Uint32Array,
    losses: losses.data as Float32Array,
    variances: (variances?.data as Float32Array | undefined) ?? new Float32Array(losses.data.length).fill(NaN),
  };
}
