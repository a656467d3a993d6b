/**
 * Export any jax-js function of arrays to an ONNX model, by tracing it to a Jaxpr and writing
 * one ONNX node (or a few) per equation. Nothing here knows about networks: the MLP, the U-Net,
 * guided models and the analytic oracle export the same way, and the ONNX graph computes
 * exactly what `f` computes (the agreement tests compare both).
 *
 * Closed-over arrays (network weights) become initializers; literals become scalar constants; each
 * equation's nodes are written by equations.ts. Nodes no output depends on are dropped.
 * Layers trace with the export flag on (engine/tracing.ts), so a convolution arrives as one `conv`
 * and becomes ONNX Conv. Shapes are the traced ones: a model exported for batch B runs at batch B.
 */
import { type Array, type ClosedJaxpr, type DType, type JsTree, type JsTreeDef, makeJaxpr, numpy as np, tree } from "../engine/jax.js";
import { tracingFor } from "../engine/tracing.js";
import { ShapeError } from "../errors.js";
import { equation } from "./equations.js";
import { Graph, tensorType } from "./graph.js";
import { Message } from "./protobuf.js";

/** ONNX opset: ReduceMax/ReduceSum with axes as inputs need 18. */
export const OPSET = 18;
const IR_VERSION = 8;

/** One input of an exported ONNX graph: its name, shape, and dtype (default float32). */
export interface OnnxInput {
  name: string;
  shape: number[];
  dtype?: DType;
}

/** The ONNX bytes of `f` traced at `inputs` (in order); its one output is named `output`. */
export function exportOnnx(f: (...args: Array[]) => Array, inputs: OnnxInput[], output = "output"): Uint8Array {
  return exportOnnxOutputs((...args) => [f(...args)], inputs, [output]);
}

/** The ONNX bytes of `f` traced at `inputs`, with its outputs named `outputs` (default o0, o1, …). */
export function exportOnnxOutputs(f: (...args: Array[]) => Array[], inputs: OnnxInput[], outputs?: string[]): Uint8Array {
  return exportGraph(f, inputs, outputs, false).bytes;
}

/** `f` traced at `inputs` as ONNX, with the inputs the graph declares (all, or with `prune` only those an output depends on). */
function exportGraph(
  f: (...args: Array[]) => Array[],
  inputs: OnnxInput[],
  outputs: string[] | undefined,
  prune: boolean,
): { bytes: Uint8Array; inputs: OnnxInput[] } {
  const examples = inputs.map((i) => np.zeros(i.shape, { dtype: i.dtype ?? np.float32 }));
  const { jaxpr: closed } = tracingFor({ export: true }, () => makeJaxpr(f)(...examples));
  try {
    const names = outputs ?? closed.jaxpr.outs.map((_, k) => `o${k}`);
    const { bytes, declared } = encodeGraph(
      closed.mapJaxpr((j) => j.flatten().simplify()),
      inputs.map((i) => i.name),
      names,
      prune,
    );
    return { bytes, inputs: inputs.filter((i) => declared.has(i.name)) };
  } finally {
    closed.dispose();
  }
}

/** A function of array trees as ONNX: leaves in tree.flatten order are inputs i0, i1, … (leaf k is `ik`) and outputs o0, o1, …. */
export interface TreeExport {
  bytes: Uint8Array;
  inputs: OnnxInput[];
  outputs: string[];
  /** rebuilds f's result from the output leaves */
  outputTree: JsTreeDef;
}

/**
 * `f` traced at the shapes of `args` (which are only read for their shapes and dtypes). With
 * `pruneInputs`, leaves no output depends on are not inputs of the graph (`inputs` lists those that are).
 */
export function exportTree(
  f: (...args: JsTree<Array>[]) => JsTree<Array>,
  args: JsTree<Array>[],
  { pruneInputs = false } = {},
): TreeExport {
  const [leaves, def] = tree.flatten(args) as [Array[], JsTreeDef];
  let outputTree: JsTreeDef | undefined;
  let count = 0;
  const flat = (...ls: Array[]) => {
    const [out, outDef] = tree.flatten(f(...(tree.unflatten(def, ls) as JsTree<Array>[]))) as [Array[], JsTreeDef];
    [outputTree, count] = [outDef, out.length];
    return out;
  };
  const { bytes, inputs } = exportGraph(
    flat,
    leaves.map((l, i): OnnxInput => ({ name: `i${i}`, shape: [...l.shape], dtype: l.dtype })),
    undefined,
    pruneInputs,
  );
  return { bytes, inputs, outputs: globalThis.Array.from({ length: count }, (_, k) => `o${k}`), outputTree: outputTree! };
}
/** A ModelProto for a closed Jaxpr whose arguments are named `inputNames` and results `outputNames`. */
export function encodeJaxpr(closed: ClosedJaxpr, inputNames: string[], outputNames: string[]): Uint8Array {
  return encodeGraph(closed, inputNames, outputNames, false).bytes;
}

/** `encodeJaxpr`, declaring with `prune` only the inputs an output depends on; `declared` names the inputs declared. */
function encodeGraph(
  closed: ClosedJaxpr,
  inputNames: string[],
  outputNames: string[],
  prune: boolean,
): { bytes: Uint8Array; declared: Set<string> } {
  const { jaxpr, consts } = closed;
  const nConsts = consts.length;
  if (jaxpr.inBinders.length !== nConsts + inputNames.length) {
    throw new ShapeError(`ONNX export: ${inputNames.length} input names for ${jaxpr.inBinders.length - nConsts} arguments`);
  }
  if (jaxpr.outs.length !== outputNames.length)
    throw new ShapeError(`ONNX export: ${outputNames.length} output names for ${jaxpr.outs.length} results`);
  const g = new Graph();
  const graph = new Message().string(2, "vdm");
  const declarations: [string, Message][] = [];
  jaxpr.inBinders.forEach((v, i) => {
    if (i < nConsts) {
      const values = (consts[i] as unknown as Array).ref.dataSync() as unknown as ArrayBufferView;
      g.bind(v, g.constant(null, values, v.aval.shape, v.aval.dtype));
    } else {
      const name = inputNames[i - nConsts]!;
      g.bind(v, name);
      declarations.push([name, new Message().string(1, name).message(2, tensorType(v.aval.dtype, v.aval.shape))]);
    }
  });
  g.countUses(jaxpr);
  for (const e of jaxpr.eqns) equation(g, e);
  jaxpr.outs.forEach((out, k) => {
    g.node("Identity", [g.name(out)], [], outputNames[k]!);
    graph.message(12, new Message().string(1, outputNames[k]!).message(2, tensorType(out.aval.dtype, out.aval.shape)));
  });
  const { nodes, initializers, needed } = g.live(outputNames);
  const declared = declarations.filter(([name]) => !prune || needed.has(name));
  for (const [, d] of declared) graph.message(11, d);
  for (const n of nodes) graph.message(1, n);
  for (const t of initializers) graph.message(5, t);
  const bytes = new Message()
    .int(1, IR_VERSION)
    .string(2, "vdm")
    .message(7, graph)
    .message(8, new Message().string(1, "").int(2, OPSET))
    .encode();
  return { bytes, declared: new Set(declared.map(([name]) => name)) };
}
