/**
 * Checkpoints: a directory with `config.json` (everything needed to rebuild model, schedule and
 * data normalisation) and `state.safetensors` (parameters, EMA, optimizer moments, RNG key, loss
 * history, step). Each file is written atomically, so an interrupted save leaves the previous
 * checkpoint whole.
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { numpy as np, type Array as JaxArray, type JsTree } from "../engine/jax.js";
import { writeFileAtomic } from "./atomic.js";
import { decodeSafetensors, encodeSafetensors, type TensorData } from "./safetensors.js";

export type Params = JsTree<JaxArray>;

export interface TrainingState {
  params: Params;
  ema: Params;
  adam: { m: Params; v: Params };
  /** steps completed */
  step: number;
  rng: Uint32Array;
  losses: Float32Array;
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
  writeFileAtomic(join(dir, CONFIG), JSON.stringify(config, null, 2) + "\n");
  writeFileAtomic(join(dir, STATE), encodeSafetensors(tensors, { step: String(state.step), format: "vdm-1" }));
}

/** The config of a checkpoint directory, with a clear error when it is missing or corrupt. */
export function readCheckpointConfig<C>(dir: string): C {
  const path = join(dir, CONFIG);
  if (!existsSync(path)) throw new Error(`no checkpoint at ${dir} (missing ${CONFIG})`);
  try {
    return JSON.parse(readFileSync(path, "utf8")) as C;
  } catch (err) {
    throw new Error(`checkpoint ${dir}: ${CONFIG} is corrupt (${(err as Error).message})`);
  }
}

/** Load the state into trees shaped like `template` (borrowed, for structure and shapes only). */
export function loadCheckpointState(dir: string, template: Params): TrainingState {
  const path = join(dir, STATE);
  if (!existsSync(path)) throw new Error(`checkpoint ${dir}: missing ${STATE}`);
  const { tensors, metadata } = decodeSafetensors(readFileSync(path), `checkpoint ${path}`);
  const take = (prefix: string) =>
    mapNamed(template, prefix, (name, like) => {
      const t = tensors[name];
      if (!t) throw new Error(`checkpoint ${path}: tensor ${name} is missing`);
      if (t.shape.join() !== like.shape.join()) throw new Error(`checkpoint ${path}: tensor ${name} has shape [${t.shape}], the model needs [${like.shape}]`);
      return np.array(t.data as Float32Array).reshape(t.shape);
    });
  const step = Number(metadata.step);
  if (!Number.isInteger(step) || step < 0) throw new Error(`checkpoint ${path}: bad step "${metadata.step}"`);
  const rng = tensors["rng"];
  const losses = tensors["losses"];
  if (!rng || !losses) throw new Error(`checkpoint ${path}: rng or loss history missing`);
  return {
    params: take("params"),
    ema: take("ema"),
    adam: { m: take("adam.m"), v: take("adam.v") },
    step,
    rng: rng.data as Uint32Array,
    losses: losses.data as Float32Array,
  };
}
