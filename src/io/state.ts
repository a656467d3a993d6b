/**
 * A checkpoint's state file (`state.safetensors`) as bytes: a training state or exported EMA
 * weights to bytes and back, with no file system (the browser playground builds and reads
 * checkpoints in memory; `checkpoint.ts` puts them in directories).
 */
import type { Params } from "../engine/index.js";
import { type Array as JaxArray, numpy as np } from "../engine/jax.js";
import { CheckpointError } from "../errors.js";
import { decodeSafetensors, encodeSafetensors, type Tensor, type TensorData } from "./safetensors.js";

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

/** The state format of a model exported for sampling and evaluation only (EMA parameters). */
export const WEIGHTS_FORMAT = "vdm-weights-1";

/** A training state as safetensors bytes (what `saveCheckpoint` writes as state.safetensors). Borrows the state. */
export function encodeTrainingState(state: TrainingState): Uint8Array {
  const tensors: Record<string, { shape: number[]; data: TensorData }> = {};
  const add = (tree: Params, prefix: string) => {
    for (const [name, a] of namedLeaves(tree, prefix)) tensors[name] = { shape: a.shape, data: a.ref.dataSync() as Float32Array };
  };
  add(state.params, "params");
  add(state.ema, "ema");
  add(state.adam.m, "adam.m");
  add(state.adam.v, "adam.v");
  tensors.rng = { shape: [state.rng.length], data: state.rng };
  tensors.losses = { shape: [state.losses.length], data: state.losses };
  tensors.loss_variances = { shape: [state.variances.length], data: state.variances };
  return encodeSafetensors(tensors, { step: String(state.step), format: "vdm-1" });
}

/** EMA parameters as safetensors bytes (what `saveWeights` writes), `metadata` in the header. Borrows ema. */
export function encodeWeights(ema: Params, metadata: Record<string, string> = {}): Uint8Array {
  const tensors: Record<string, { shape: number[]; data: TensorData }> = {};
  for (const [name, a] of namedLeaves(ema, "ema")) tensors[name] = { shape: a.shape, data: a.ref.dataSync() as Float32Array };
  return encodeSafetensors(tensors, { ...metadata, format: WEIGHTS_FORMAT });
}

/** A decoded state file; `path` names it in errors. */
export interface StateFile {
  path: string;
  tensors: Record<string, Tensor>;
  metadata: Record<string, string>;
}

/** Decode state bytes; `path` names them in errors. */
export function decodeStateFile(bytes: Uint8Array, path: string): StateFile {
  return { path, ...decodeSafetensors(bytes, `checkpoint ${path}`) };
}

/** Trees shaped like `template` from the tensors named prefix.leaf. */
function takeTree(file: StateFile, template: Params, prefix: string): Params {
  return mapNamed(template, prefix, (name, like) => {
    const t = file.tensors[name];
    if (!t) throw new CheckpointError(`checkpoint ${file.path}: tensor ${name} is missing`);
    if (t.shape.join() !== like.shape.join())
      throw new CheckpointError(`checkpoint ${file.path}: tensor ${name} has shape [${t.shape}], the model needs [${like.shape}]`);
    if (t.dtype !== "F32") throw new CheckpointError(`checkpoint ${file.path}: tensor ${name} holds ${t.dtype}, the model needs F32`);
    return np.array(t.data as Float32Array).reshape(t.shape);
  });
}

/** Whatever the state file holds, shaped like `template` (borrowed): a training state, or exported EMA weights. */
export function stateOrWeights(file: StateFile, template: Params): { state: TrainingState } | { ema: Params } {
  return file.metadata.format === WEIGHTS_FORMAT ? { ema: takeTree(file, template, "ema") } : { state: trainingStateOf(file, template) };
}

/** The steps a training state file has completed (an error for exported weights, which have none). */
export function stepOf(file: StateFile): number {
  const { path, metadata } = file;
  if (metadata.format === WEIGHTS_FORMAT)
    throw new CheckpointError(
      `checkpoint ${path} holds exported EMA weights only: it samples and evaluates, but cannot be resumed or give training parameters`,
    );
  const step = Number(metadata.step);
  if (!Number.isInteger(step) || step < 0) throw new CheckpointError(`checkpoint ${path}: bad step "${metadata.step}"`);
  return step;
}

/** The training state in a state file (an error for exported weights), shaped like `template` (borrowed). */
export function trainingStateOf(file: StateFile, template: Params): TrainingState {
  const { path, tensors } = file;
  const step = stepOf(file);
  const rng = tensors.rng;
  const losses = tensors.losses;
  const variances = tensors.loss_variances;
  if (!rng || !losses) throw new CheckpointError(`checkpoint ${path}: rng or loss history missing`);
  if (rng.dtype !== "U32" || rng.shape.join() !== "2")
    throw new CheckpointError(`checkpoint ${path}: rng is ${rng.dtype} [${rng.shape}], expected a key of U32 [2]`);
  if (losses.dtype !== "F32" || losses.shape.length !== 1)
    throw new CheckpointError(`checkpoint ${path}: losses are ${losses.dtype} [${losses.shape}], expected an F32 vector`);
  if (variances && (variances.dtype !== "F32" || variances.data.length !== losses.data.length)) {
    throw new CheckpointError(
      `checkpoint ${path}: loss_variances are ${variances.dtype} [${variances.shape}], expected F32 [${losses.data.length}] like the losses`,
    );
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
