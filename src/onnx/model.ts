/**
 * A diffusion `Model` whose predictions ONNX Runtime computes: the wrapped model at fixed params,
 * exported to ONNX (export.ts) at each input shape it meets, one session per shape. It keeps the
 * model's target and classes, so samplers and the ELBO take { model: onnxModel(model, params),
 * params } where they took { model, params }. It is a host model (`Model.host`) that compiles
 * whole functions: a sampler's step compiled with `jitFor` (network and the arithmetic around it)
 * is exported as one graph and runs in one ONNX Runtime call.
 */

import { type CompiledStep, type HostPredictor, hostApply, type Model, withTracedHosts } from "../diffusion/model.js";
import { type Array, type JsTree, type JsTreeDef, numpy as np, tree } from "../engine/jax.js";
import { UnsupportedError } from "../errors.js";
import { exportOnnx, exportTree, type OnnxInput, type TreeExport } from "./export.js";
import { type HostTensor, OnnxSession, type SessionOptions, toHost } from "./runtime.js";

/** A `Model` whose predictions run in ONNX Runtime (one session per batch shape); `close` releases them. */
export interface OnnxModel<P extends JsTree<Array>> extends Model<P> {
  /** Close every session (releasing ONNX Runtime's memory). */
  close(): void;
}

/** The ONNX inputs of `model` at batch shape `shape` ([B, ...]): x, t, γ (and labels if conditional). */
export function modelInputs(model: Model, shape: readonly number[]): OnnxInput[] {
  const B = shape[0]!;
  const inputs: OnnxInput[] = [
    { name: "x", shape: [...shape] },
    { name: "t", shape: [B] },
    { name: "gamma", shape: [B] },
  ];
  return model.classes ? [...inputs, { name: "labels", shape: [B], dtype: np.int32 }] : inputs;
}

/** The ONNX bytes of model.apply(params, x, t, γ[, labels]) at batch shape `shape`. Borrows params. */
export function exportModel<P extends JsTree<Array>>(model: Model<P>, params: P, shape: readonly number[]): Uint8Array {
  return exportOnnx((x, t, gamma, labels) => model.apply(tree.ref(params), x, t, gamma, labels), modelInputs(model, shape));
}

/**
 * `model` at `params` (borrowed: keep them alive while this model is used), run by ONNX Runtime.
 * The params given to `apply` are ignored: the exported network carries its own weights.
 */
export function onnxModel<P extends JsTree<Array>>(model: Model<P>, params: P, options: SessionOptions = {}): OnnxModel<P> {
  if (model.host) throw new UnsupportedError("this model already runs outside jax-js");
  const sessions = new Map<string, OnnxSession>();
  const steps = new Set<Map<string, CompiledGraph>>();
  const predictor: HostPredictor = {
    // a conditional model without labels is asked for "no label" (class `classes`), as `predict` asks
    traced: (xt, t, gamma, labels) =>
      model.apply(tree.ref(params), xt, t, gamma, model.classes ? (labels ?? noLabel(model, xt.shape[0]!)) : labels),
    // biome-ignore lint/suspicious/noExplicitAny: jit's own constraint on the functions it compiles
    compile<F extends (...args: any[]) => JsTree<Array>>(f: F): CompiledStep<F> {
      const graphs = new Map<string, CompiledGraph>();
      steps.add(graphs);
      const step = (...args: Parameters<F>) => runWhole(f, args, graphs, options);
      const dispose = () => {
        for (const g of graphs.values()) g.session.close();
        graphs.clear();
        steps.delete(graphs);
      };
      return Object.assign(step, { dispose }) as CompiledStep<F>;
    },
    predict(xt: Array, t: Array, gamma: Array, labels?: Array): Array {
      const key = xt.shape.join("×");
      let session = sessions.get(key);
      if (!session) {
        session = new OnnxSession(exportModel(model, params, xt.shape), options);
        sessions.set(key, session);
      }
      const B = xt.shape[0]!;
      // the network is exported for t [B]: a shared time (`Model.sharedTime`) is repeated for it
      const times = t.shape[0] === B ? t : np.broadcastTo(t, [B]);
      const feeds: Record<string, HostTensor> = { x: toHost(xt), t: toHost(times), gamma: toHost(gamma) };
      if (model.classes) feeds.labels = toHost(labels ?? noLabel(model, B));
      const out = session.run(feeds);
      return np.array(out.data as Float32Array).reshape(out.dims);
    },
  };
  return {
    target: model.target,
    classes: model.classes,
    ...(model.sharedTime ? { sharedTime: true } : {}),
    host: predictor,
    apply(p, xt, t, gamma, labels) {
      tree.dispose(p);
      if (labels && !model.classes) {
        tree.dispose([xt, t, gamma, labels]);
        throw new UnsupportedError("labels were given to an unconditional model");
      }
      return hostApply(predictor, xt, t, gamma, labels);
    },
    close() {
      for (const s of sessions.values()) s.close();
      sessions.clear();
      for (const graphs of steps) for (const g of graphs.values()) g.session.close();
      steps.clear();
    },
  };
}

/** "No label" (class `classes`) for each of B examples. */
const noLabel = (model: Model, B: number) => np.full([B], model.classes, { dtype: np.int32 });

/** One input signature of a compiled function: its graph's session and what it feeds and returns. */
interface CompiledGraph {
  session: OnnxSession;
  exported: TreeExport;
  /** the array arguments fed, by index among them (those no output depends on are not inputs) */
  fed: number[];
}

const isArray = (leaf: unknown): leaf is Array => typeof leaf === "object" && leaf !== null && "shape" in leaf;

/**
 * f(...args) in ONNX Runtime: f exported whole (host models traced as their networks) at the
 * signature of `args` — tree structure, shapes and dtypes; numbers become float32 scalar inputs, as
 * jit makes them arrays; other leaves (undefined) are constants of the signature — once per
 * signature, then run. Consumes the array arguments, as jit does.
 */
// biome-ignore lint/suspicious/noExplicitAny: jit's own constraint on the functions it compiles
function runWhole<F extends (...args: any[]) => JsTree<Array>>(
  f: F,
  args: unknown[],
  graphs: Map<string, CompiledGraph>,
  options: SessionOptions,
): ReturnType<F> {
  const [raw, def] = tree.flatten(args as JsTree<Array>) as [unknown[], JsTreeDef];
  const leaves = raw.map((l) => (typeof l === "number" ? np.array(l, { dtype: np.float32 }) : l));
  const positions = leaves.flatMap((l, k) => (isArray(l) ? [k] : []));
  const arrays = positions.map((k) => leaves[k] as Array);
  const signature = `${def.toString()}|${leaves.map((l) => (isArray(l) ? `${l.dtype}[${l.shape.join(",")}]` : String(l))).join(";")}`;
  let graph = graphs.get(signature);
  if (!graph) {
    const call = (...traced: Array[]) => {
      const all = [...leaves];
      positions.forEach((k, j) => (all[k] = traced[j]));
      return withTracedHosts(() => f(...(tree.unflatten(def, all as Array[]) as unknown as unknown[])));
    };
    const exported = exportTree(call as (...a: JsTree<Array>[]) => JsTree<Array>, arrays, { pruneInputs: true });
    graph = { session: new OnnxSession(exported.bytes, options), exported, fed: exported.inputs.map((i) => Number(i.name.slice(1))) };
    graphs.set(signature, graph);
  }
  const { session, exported, fed } = graph;
  const feeds = Object.fromEntries(fed.map((j) => [`i${j}`, toHost(arrays[j]!)]));
  tree.dispose(arrays.filter((_, j) => !fed.includes(j)));
  const outputs = session.runOutputs(feeds, exported.outputs);
  const results = outputs.map((o) => np.array(o.data, o.data instanceof Int32Array ? { dtype: np.int32 } : {}).reshape(o.dims));
  return tree.unflatten(exported.outputTree, results) as ReturnType<F>;
}
