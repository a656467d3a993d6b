/**
 * Training steps run by ONNX Runtime. The step is the trainer's own (`trainStep`: forward pass,
 * jax-js's gradient of the loss, AdamW, EMA), traced by jax-js and exported to ONNX as one graph;
 * ONNX Runtime only executes it. The state (params, Adam moments, EMA) stays in the session's
 * thread between steps (carried outputs → inputs), so a step sends only the batch and four scalars
 * and receives the loss and its variance; `state()` reads the state back for checkpoints.
 */
import { numpy as np, tree, type Array, type JsTree, type JsTreeDef } from "../engine/jax.js";
import { trainStep, type StepperFactory, type StepState } from "../train/trainer.js";
import { exportTree } from "./export.js";
import { OnnxSession, toHost, type HostTensor, type SessionOptions } from "./runtime.js";

type Names = JsTree<string>;
const leaves = (t: Names | Names[]) => tree.leaves(t as Names) as string[];

/** A `StepperFactory` for the trainer (`train(…, { makeStepper: onnxStepper() })`). */
export function onnxStepper(options: SessionOptions = {}): StepperFactory {
  return (objective, adam, initial, example) => {
    // lr, the two bias corrections and the EMA decay: scalars fed at every step
    const scalars = [0, 0, 0, 0].map(() => np.zeros([]));
    const args = [initial.params, initial.adam, initial.ema, example, ...scalars] as JsTree<Array>[];
    const exported = exportTree(trainStep(objective, adam) as unknown as (...a: JsTree<Array>[]) => JsTree<Array>, args);
    tree.dispose(scalars);
    const inputNames = tree.unflatten(tree.flatten(args)[1], exported.inputs.map((i) => i.name)) as unknown as [Names, { m: Names; v: Names }, Names, Names, string, string, string, string];
    const outputNames = tree.unflatten(exported.outputTree, exported.outputs) as unknown as { params: Names; adam: { m: Names; v: Names }; ema: Names; loss: string; variance: string };
    const [paramsIn, adamIn, emaIn, batchIn, ...scalarsIn] = inputNames;
    // the state as one tree [params, m, v, ema]; the new one becomes the next step's input, in the session's thread
    const stateIn = leaves([paramsIn, adamIn.m, adamIn.v, emaIn]);
    const stateOut = leaves([outputNames.params, outputNames.adam.m, outputNames.adam.v, outputNames.ema]);
    const carry = Object.fromEntries(stateOut.map((o, k) => [o, stateIn[k]!]));
    const [initialLeaves, stateTree] = tree.flatten([initial.params, initial.adam.m, initial.adam.v, initial.ema]) as [Array[], JsTreeDef];

    const session = new OnnxSession(exported.bytes, options);
    session.hold(Object.fromEntries(initialLeaves.map((l, k) => [stateIn[k]!, toHost(l)])));
    tree.dispose(example); // (toHost consumed the initial state)
    let cached: StepState | null = null;
    const dropCache = () => {
      if (cached) tree.dispose([cached.params, cached.adam, cached.ema]);
      cached = null;
    };
    return {
      step(batch, s) {
        dropCache();
        const feeds: Record<string, HostTensor> = {};
        const batchLeaves = tree.leaves(batch as unknown as JsTree<Array>) as Array[];
        leaves(batchIn).forEach((name, k) => (feeds[name] = toHost(batchLeaves[k]!)));
        [s.lr, s.correction1, s.correction2, s.emaDecay].forEach((v, k) => (feeds[scalarsIn[k]!] = { data: Float32Array.of(v), dims: [] }));
        const [loss, variance] = session.runOutputs(feeds, [outputNames.loss, outputNames.variance], carry);
        return { loss: loss!.data[0]!, variance: variance!.data[0]! };
      },
      state() {
        if (!cached) {
          const arrays = session.read(stateIn).map((t) => np.array(t.data as Float32Array).reshape(t.dims));
          const [params, m, v, ema] = tree.unflatten(stateTree, arrays) as JsTree<Array>[];
          cached = { params: params!, adam: { m: m!, v: v! }, ema: ema! };
        }
        return cached;
      },
      close() {
        dropCache();
        session.close();
      },
    };
  };
}
