/**
 * Training steps run by ONNX Runtime. The step is the trainer's own (`trainStep`: forward pass,
 * jax-js's gradient of the loss, AdamW, EMA), traced by jax-js and exported to ONNX as one graph;
 * ONNX Runtime only executes it. The state (params, Adam moments, EMA) is packed into two flat vectors
 * per tree (`Packing`: the optimiser's per-leaf arithmetic becomes a few long operations) and stays in
 * the session's held tensors between steps (carried outputs → inputs), so a step passes only the batch
 * and four scalars and reads back the loss and its variance; `state()` unpacks the state for checkpoints.
 */
import { type Array, type JsTree, type JsTreeDef, numpy as np, tree } from "../engine/jax.js";
import type { AdamConfig, HostScalars } from "../train/adam.js";
import type { Batch, Objective } from "../train/objectives/objective.js";
import { type StepperFactory, type StepResult, type StepState, trainStep } from "../train/step.js";
import { exportTree, type OnnxInput } from "./export.js";
import { type HostTensor, OnnxSession, type SessionOptions, toHost } from "./runtime.js";

type Names = JsTree<string>;
const leaves = (t: Names | Names[]) => tree.leaves(t as Names) as string[];

/**
 * A params-shaped tree as at most two flat vectors: its leaves of rank ≥ 2, flattened and concatenated
 * as one [1, n] row (rank 2, so AdamW still decays exactly them), and the others as one [n] vector.
 * Clipping, AdamW and the EMA — elementwise per leaf, plus a global norm — then trace to a few ONNX
 * nodes on two long vectors instead of a few per leaf.
 */
export class Packing {
  readonly #def: JsTreeDef;
  readonly #shapes: number[][];
  /** the leaf indices of each packed vector, in order */
  readonly #groups: number[][];

  /** The packing of trees shaped like `example` (only read for its shapes). */
  constructor(example: JsTree<Array>) {
    const [leafs, def] = tree.flatten(example) as [Array[], JsTreeDef];
    this.#def = def;
    this.#shapes = leafs.map((l) => [...l.shape]);
    const ranks = [(r: number) => r >= 2, (r: number) => r < 2];
    this.#groups = ranks.map((keep) => this.#shapes.flatMap((shape, i) => (keep(shape.length) ? [i] : []))).filter((g) => g.length > 0);
  }

  /** The packed vectors' shapes: [1, n] for the rank ≥ 2 leaves, [n] for the others. */
  shapes(): number[][] {
    return this.#groups.map((g) => {
      const n = g.reduce((total, i) => total + this.#size(i), 0);
      return this.#shapes[g[0]!]!.length >= 2 ? [1, n] : [n];
    });
  }

  /** `t` (consumed) packed: each group's leaves flattened, concatenated, shaped as `shapes()`. */
  pack(t: JsTree<Array>): Array[] {
    const leafs = tree.leaves(t) as Array[];
    const shapes = this.shapes();
    return this.#groups.map((g, k) =>
      np
        .concatenate(
          g.map((i) => leafs[i]!.reshape([-1])),
          0,
        )
        .reshape(shapes[k]!),
    );
  }

  /** The tree packed in `packed` (consumed). */
  unpack(packed: Array[]): JsTree<Array> {
    const leafs: Array[] = [];
    this.#groups.forEach((g, k) => {
      const flat = packed[k]!.reshape([-1]);
      const ends = g.slice(0, -1).map((_, j) => g.slice(0, j + 1).reduce((total, i) => total + this.#size(i), 0));
      const parts = g.length === 1 ? [flat] : np.split(flat, ends, 0);
      g.forEach((i, j) => (leafs[i] = parts[j]!.reshape(this.#shapes[i]!)));
    });
    return tree.unflatten(this.#def, leafs) as JsTree<Array>;
  }

  /** `t` (consumed) packed on the host, as `pack` packs it. */
  packHost(t: JsTree<Array>): HostTensor[] {
    const host = (tree.leaves(t) as Array[]).map(toHost);
    const shapes = this.shapes();
    return this.#groups.map((g, k) => {
      const data = new Float32Array(g.reduce((total, i) => total + this.#size(i), 0));
      let offset = 0;
      for (const i of g) {
        data.set(host[i]!.data, offset);
        offset += host[i]!.data.length;
      }
      return { data, dims: shapes[k]! };
    });
  }

  /** The tree packed in the host tensors `packed`. */
  unpackHost(packed: HostTensor[]): JsTree<Array> {
    const leafs: Array[] = [];
    this.#groups.forEach((g, k) =>
      g.reduce((offset, i) => {
        leafs[i] = np.array(packed[k]!.data.slice(offset, offset + this.#size(i)) as Float32Array).reshape(this.#shapes[i]!);
        return offset + this.#size(i);
      }, 0),
    );
    return tree.unflatten(this.#def, leafs) as JsTree<Array>;
  }

  /** The number of values in leaf i. */
  #size(i: number): number {
    return this.#shapes[i]!.reduce((a, b) => a * b, 1);
  }
}

/** Training steps exported to ONNX: the graph and the names a stepper feeds, carries and reads. */
export interface ExportedStep {
  bytes: Uint8Array;
  inputs: OnnxInput[];
  /** the packed state's inputs [params, m, v, ema], `packing.shapes().length` per tree */
  stateIn: string[];
  /** new state output → the state input it becomes at the next call */
  carry: Record<string, string>;
  /** per step: the batch's inputs (in tree.leaves order), and those of lr, the two bias corrections, the EMA decay */
  batchIn: string[][];
  scalarsIn: string[][];
  /** per step: the loss and variance outputs */
  loss: string[];
  variance: string[];
  packing: Packing;
}

/**
 * `count` consecutive `trainStep(objective, adam)`s (default 1) on the packed state (`Packing` of
 * trees shaped like `params`), each on its own batch shaped like `example` (both only read for
 * their shapes), exported to ONNX as one graph.
 */
export function exportStep(objective: Objective, adam: AdamConfig, params: JsTree<Array>, example: Batch, count = 1): ExportedStep {
  const packing = new Packing(params);
  const packedObjective: Objective = (p, batch) => {
    const { loss, variance, grads } = objective(packing.unpack(p as Array[]), batch);
    return { loss, variance, grads: packing.pack(grads) };
  };
  const step = trainStep(packedObjective, adam);
  const steps = (params: Array[], opt: { m: Array[]; v: Array[] }, ema: Array[], batches: Batch[], scalars: Array[][]) => {
    let state = { params, adam: opt, ema };
    const results = batches.map((batch, k) => {
      const [lr, correction1, correction2, emaDecay] = scalars[k] as [Array, Array, Array, Array];
      const out = step(state.params, state.adam, state.ema, batch, lr, correction1, correction2, emaDecay);
      state = { params: out.params as Array[], adam: out.adam as { m: Array[]; v: Array[] }, ema: out.ema as Array[] };
      return { loss: out.loss, variance: out.variance };
    });
    return { ...state, results };
  };
  // lr, the two bias corrections and the EMA decay: scalars fed at every step
  const packed = () => packing.shapes().map((shape) => np.zeros(shape));
  const examples = globalThis.Array.from({ length: count }, (_, k) =>
    k === 0 ? example : (tree.map((a: Array) => np.zerosLike(a.ref), example as unknown as JsTree<Array>) as unknown as Batch),
  );
  const scalars = examples.map(() => [0, 0, 0, 0].map(() => np.zeros([])));
  const args = [packed(), { m: packed(), v: packed() }, packed(), examples, scalars] as JsTree<Array>[];
  const exported = exportTree(steps as unknown as (...a: JsTree<Array>[]) => JsTree<Array>, args);
  tree.dispose([args.slice(0, 3), examples.slice(1) as unknown as JsTree<Array>, scalars]);
  const inputNames = tree.unflatten(
    tree.flatten(args)[1],
    exported.inputs.map((i) => i.name),
  ) as unknown as [Names, { m: Names; v: Names }, Names, Names[], string[][]];
  const outputNames = tree.unflatten(exported.outputTree, exported.outputs) as unknown as {
    params: Names;
    adam: { m: Names; v: Names };
    ema: Names;
    results: { loss: string; variance: string }[];
  };
  const [paramsIn, adamIn, emaIn, batchIn, scalarsIn] = inputNames;
  // the packed state [params, m, v, ema]; the new one becomes the next call's input, held by the session
  const stateIn = leaves([paramsIn, adamIn.m, adamIn.v, emaIn]);
  const stateOut = leaves([outputNames.params, outputNames.adam.m, outputNames.adam.v, outputNames.ema]);
  const carry = Object.fromEntries(stateOut.map((o, k) => [o, stateIn[k]!]));
  return {
    bytes: exported.bytes,
    inputs: exported.inputs,
    stateIn,
    carry,
    batchIn: batchIn.map((b) => leaves(b)),
    scalarsIn,
    loss: outputNames.results.map((r) => r.loss),
    variance: outputNames.results.map((r) => r.variance),
    packing,
  };
}

/**
 * Steps per ONNX Runtime call for a model of `size` parameters: 4 below 200,000 (the 2-D MLPs, whose
 * steps take ~1.5 ms: one call of four steps took 0.8× the time of four calls, the state handed back
 * to JavaScript once instead of four times), else 1 (a larger step's call overhead is a few per cent
 * of it, and the unrolled graph would take four times as long to export and load).
 */
export function stepsPerCall(size: number): number {
  return size < 200_000 ? 4 : 1;
}

/** Options of `onnxStepper`: the sessions' options, and the steps per call. */
export interface StepperOptions extends SessionOptions {
  /** training steps per ONNX Runtime call (default `stepsPerCall` of the model's parameter count: 4 below 200,000, else 1) */
  chunk?: number;
}

/** A `StepperFactory` for the trainer (`train(…, { makeStepper: onnxStepper() })`). */
export function onnxStepper(options: StepperOptions = {}): StepperFactory {
  return (objective, adam, initial, example) => {
    const size = (tree.leaves(initial.params) as Array[]).reduce((n, p) => n + p.size, 0);
    const chunk = options.chunk ?? stepsPerCall(size);
    // a session for single steps, and one for `chunk` steps at a time, sharing the state (handed over when the other runs)
    const graphs = new Map(
      [...new Set([1, chunk])].map((count) => {
        const exported = exportStep(objective, adam, initial.params, example, count);
        return [count, { session: new OnnxSession(exported.bytes, options), exported }] as const;
      }),
    );
    tree.dispose(example);
    const first = graphs.get(1)!;
    const { packing, stateIn } = first.exported;
    first.session.hold(
      Object.fromEntries(
        [initial.params, initial.adam.m, initial.adam.v, initial.ema].flatMap((t) => packing.packHost(t)).map((t, k) => [stateIn[k]!, t]),
      ),
    ); // (consumes the initial state)
    let holder = first.session; // the session holding the current state
    let cached: StepState | null = null;
    const dropCache = () => {
      if (cached) tree.dispose([cached.params, cached.adam, cached.ema]);
      cached = null;
    };
    /** `batches.length` steps (1 or `chunk`) in one call of the graph for that many. */
    const run = (batches: Batch[], scalars: HostScalars[]): StepResult[] => {
      const { session, exported } = graphs.get(batches.length)!;
      if (session !== holder) {
        session.hold(Object.fromEntries(holder.read(stateIn).map((t, k) => [stateIn[k]!, t])));
        holder = session;
      }
      const feeds: Record<string, HostTensor> = {};
      batches.forEach((batch, k) => {
        const batchLeaves = tree.leaves(batch as unknown as JsTree<Array>) as Array[];
        exported.batchIn[k]!.forEach((name, j) => (feeds[name] = toHost(batchLeaves[j]!)));
        const s = scalars[k]!;
        [s.lr, s.correction1, s.correction2, s.emaDecay].forEach(
          (v, j) => (feeds[exported.scalarsIn[k]![j]!] = { data: Float32Array.of(v), dims: [] }),
        );
      });
      const out = session.runOutputs(feeds, [...exported.loss, ...exported.variance], exported.carry);
      return batches.map((_, k) => ({ loss: out[k]!.data[0]!, variance: out[batches.length + k]!.data[0]! }));
    };
    return {
      chunk,
      steps(batches, scalars) {
        dropCache();
        // whole chunks in one call each, a remainder one step at a time
        const results: StepResult[] = [];
        for (let k = 0; k < batches.length; ) {
          const n = batches.length - k >= chunk ? chunk : 1;
          results.push(...run(batches.slice(k, k + n), scalars.slice(k, k + n)));
          k += n;
        }
        return results;
      },
      state() {
        if (!cached) {
          const state = holder.read(stateIn);
          const vectors = state.length / 4; // packed vectors per tree
          const [params, m, v, ema] = [0, 1, 2, 3].map((k) => packing.unpackHost(state.slice(k * vectors, (k + 1) * vectors)));
          cached = { params: params!, adam: { m: m!, v: v! }, ema: ema! };
        }
        return cached;
      },
      close() {
        dropCache();
        for (const g of graphs.values()) g.session.close();
      },
    };
  };
}
