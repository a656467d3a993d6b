/**
 * Export any jax-js function of arrays to an ONNX model, by tracing it to a Jaxpr and writing
 * one ONNX node (or a few) per equation. Nothing here knows about networks: the MLP, the U-Net,
 * guided models and the analytic oracle export the same way, and the ONNX graph computes
 * exactly what `f` computes (the agreement tests compare both).
 *
 * Closed-over arrays (network weights) become initializers; literals become scalar constants.
 * `dot` (jax-js's Σ_k x[…,k]·y[…,k] with broadcasting) is written as MatMul when its operands
 * have the [..., M, 1, K] × [..., 1, N, K] form np.matmul produces, else as Mul + ReduceSum.
 * Layers trace with purpose "export" (engine/tracing.ts), so a convolution arrives as one `conv`
 * and becomes ONNX Conv. Shapes are the traced ones: a model exported for batch B runs at batch B.
 */
import { makeJaxpr, numpy as np, type Array, type ClosedJaxpr, type DType } from "../engine/jax.js";
import { tracingFor } from "../engine/tracing.js";
import { Message } from "./protobuf.js";

/** ONNX opset: ReduceMax/ReduceSum with axes as inputs need 18. */
export const OPSET = 18;
const IR_VERSION = 8;

/** TensorProto.DataType codes of the dtypes we export. */
const DATA_TYPE: Partial<Record<DType, number>> = { float32: 1, int32: 6, bool: 9, float64: 11 };
const INT64 = 7;

export interface OnnxInput {
  name: string;
  shape: number[];
  dtype?: DType;
}

/** The ONNX bytes of `f` traced at `inputs` (in order); its one output is named `output`. */
export function exportOnnx(f: (...args: Array[]) => Array, inputs: OnnxInput[], output = "output"): Uint8Array {
  const examples = inputs.map((i) => np.zeros(i.shape, { dtype: i.dtype ?? np.float32 }));
  const { jaxpr: closed } = tracingFor("export", () => makeJaxpr(f)(...examples));
  try {
    return encodeJaxpr(closed.mapJaxpr((j) => j.flatten().simplify()), inputs.map((i) => i.name), output);
  } finally {
    closed.dispose();
  }
}

type Jaxpr = ClosedJaxpr["jaxpr"];
type Eqn = Jaxpr["eqns"][number];
type Atom = Eqn["inputs"][number];
type Var = Eqn["outBinders"][number];
type Lit = Exclude<Atom, Var>;

const isLit = (a: Atom): a is Lit => "value" in a;

function dataType(dtype: DType): number {
  const code = DATA_TYPE[dtype];
  if (code === undefined) throw new Error(`ONNX export: dtype ${dtype} is not supported`);
  return code;
}

function tensorType(dtype: DType, shape: readonly number[]): Message {
  const dims = new Message();
  for (const d of shape) dims.message(1, new Message().int(1, d));
  return new Message().message(1, new Message().int(1, dataType(dtype)).message(2, dims));
}

const attr = {
  int: (name: string, v: number) => new Message().string(1, name).int(3, v).int(20, 2),
  ints: (name: string, v: readonly number[]) => new Message().string(1, name).ints(8, v).int(20, 7),
};

/** ONNX graph under construction, named after the Jaxpr's variables. */
class Graph {
  readonly nodes: Message[] = [];
  readonly initializers: Message[] = [];
  readonly #names = new Map<Var, string>();
  readonly #constants = new Map<string, string>();
  #next = 0;

  fresh(): string {
    return `v${this.#next++}`;
  }

  bind(v: Var, name: string): void {
    this.#names.set(v, name);
  }

  /** The value name of an atom; literals take `dtype` (their partner's) when given. */
  name(a: Atom, dtype?: DType): string {
    if (!isLit(a)) {
      const n = this.#names.get(a);
      if (n === undefined) throw new Error("ONNX export: a variable was used before its definition");
      return n;
    }
    const dt = dtype ?? a.dtype;
    const values = dt === "bool" ? Uint8Array.of(a.value ? 1 : 0) : dt === "int32" ? Int32Array.of(a.value) : dt === "float64" ? Float64Array.of(a.value) : Float32Array.of(a.value);
    return this.constant(`${dt}:${a.value}`, values, [], dt);
  }

  /** An initializer (deduplicated by `key` when given). */
  constant(key: string | null, values: ArrayBufferView, dims: readonly number[], dtype: DType | "int64"): string {
    const known = key !== null ? this.#constants.get(key) : undefined;
    if (known) return known;
    const name = `c${this.#next++}`;
    const raw = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    const tensor = new Message().ints(1, dims).int(2, dtype === "int64" ? INT64 : dataType(dtype)).string(8, name).bytes(9, raw.slice());
    this.initializers.push(tensor);
    if (key !== null) this.#constants.set(key, name);
    return name;
  }

  /** A 1-D int64 constant (shapes, axes, pads). */
  int64s(values: readonly number[]): string {
    return this.constant(`i64:${values.join(",")}`, BigInt64Array.from(values.map(BigInt)), [values.length], "int64");
  }

  node(op: string, inputs: string[], attributes: Message[] = [], output = this.fresh()): string {
    const n = new Message();
    for (const i of inputs) n.string(1, i);
    n.string(2, output).string(4, op);
    for (const a of attributes) n.message(5, a);
    this.nodes.push(n);
    return output;
  }
}

const UNARY: Record<string, string> = {
  neg: "Neg", reciprocal: "Reciprocal", exp: "Exp", log: "Log", sin: "Sin", cos: "Cos",
  sqrt: "Sqrt", floor: "Floor", ceil: "Ceil", erf: "Erf", stop_gradient: "Identity",
};
const BINARY: Record<string, string> = { add: "Add", mul: "Mul", min: "Min", max: "Max" };
const COMPARE: Record<string, string> = { less: "Less", less_equal: "LessOrEqual", equal: "Equal" };
const REDUCE: Record<string, string> = { Add: "ReduceSum", Max: "ReduceMax", Min: "ReduceMin", Mul: "ReduceProd" };

/** Σ_k x[…,k]·y[…,k]: MatMul for np.matmul's [..., M, 1, K] × [..., 1, N, K] operands. */
function dot(g: Graph, x: Var, y: Var, out: string): void {
  const sx = x.aval.shape, sy = y.aval.shape, r = sx.length;
  if (r >= 3 && sy.length === r && sx[r - 2] === 1 && sy[r - 3] === 1) {
    const K = sx[r - 1]!;
    const a = g.node("Reshape", [g.name(x), g.int64s([...sx.slice(0, r - 2), K])]);
    const b = g.node("Reshape", [g.name(y), g.int64s([...sy.slice(0, r - 3), sy[r - 2]!, K])]);
    const perm = [...globalThis.Array.from({ length: r - 3 }, (_, i) => i), r - 2, r - 3];
    g.node("MatMul", [a, g.node("Transpose", [b], [attr.ints("perm", perm)])], [], out);
    return;
  }
  g.node("ReduceSum", [g.node("Mul", [g.name(x), g.name(y)]), g.int64s([-1])], [attr.int("keepdims", 0)], out);
}

function equation(g: Graph, e: Eqn): void {
  const [out] = e.outBinders;
  if (!out || e.outBinders.length !== 1) throw new Error(`ONNX export: ${e.primitive} with ${e.outBinders.length} outputs is not supported`);
  const name = g.fresh();
  g.bind(out, name);
  const p = e.params;
  // a literal takes its partner's dtype (Where: the condition is bool, the branches the result's)
  const partner = e.inputs.find((a) => !isLit(a))?.aval.dtype;
  const ins = e.inputs.map((a, i) => g.name(a, e.primitive === "where" ? (i === 0 ? np.bool : out.aval.dtype) : partner));
  const op = e.primitive as string;
  if (UNARY[op]) g.node(UNARY[op], ins, [], name);
  else if (BINARY[op]) g.node(BINARY[op], ins, [], name);
  else if (op === "compare" && p.op === "not_equal") g.node("Not", [g.node("Equal", ins)], [], name);
  else if (op === "compare" && COMPARE[p.op]) g.node(COMPARE[p.op]!, ins, [], name);
  else if (op === "where") g.node("Where", ins, [], name);
  else if (op === "cast") g.node("Cast", ins, [attr.int("to", dataType(p.dtype))], name);
  else if (op === "reshape") g.node("Reshape", [ins[0]!, g.int64s(p.shape)], [], name);
  else if (op === "transpose") g.node("Transpose", ins, [attr.ints("perm", p.perm)], name);
  else if (op === "concatenate") g.node("Concat", ins, [attr.int("axis", p.axis)], name);
  else if (op === "broadcast") {
    const x = p.axis.length ? g.node("Unsqueeze", [ins[0]!, g.int64s(p.axis)]) : ins[0]!;
    g.node("Expand", [x, g.int64s(p.shape)], [], name);
  } else if (op === "pad") {
    const width = p.width as [number, number][];
    g.node("Pad", [ins[0]!, g.int64s([...width.map((w) => w[0]), ...width.map((w) => w[1])])], [], name);
  } else if (op === "shrink") {
    const slice = p.slice as [number, number][];
    g.node("Slice", [ins[0]!, g.int64s(slice.map((s) => s[0])), g.int64s(slice.map((s) => s[1])), g.int64s(slice.map((_, i) => i))], [], name);
  } else if (op === "reduce" && REDUCE[p.op]) {
    if (p.axis.length === 0) g.node("Identity", ins, [], name);
    else g.node(REDUCE[p.op]!, [ins[0]!, g.int64s(p.axis)], [attr.int("keepdims", 0)], name);
  } else if (op === "dot" && !e.inputs.some(isLit)) dot(g, e.inputs[0] as Var, e.inputs[1] as Var, name);
  else if (op === "conv" && p.vmapDims === 0 && p.lhsDilation.every((d: number) => d === 1)) {
    const pads = p.padding as [number, number][];
    const convAttrs = [attr.ints("strides", p.strides), attr.ints("dilations", p.rhsDilation), attr.ints("pads", [...pads.map((q) => q[0]), ...pads.map((q) => q[1])])];
    g.node("Conv", ins, convAttrs, name);
  } else if (op === "gather" && p.axis.length === 1 && p.outDim === p.axis[0]) g.node("Gather", ins, [attr.int("axis", p.axis[0])], name);
  else throw new Error(`ONNX export: the jax-js primitive "${op}"${p.op ? ` (${p.op})` : ""} is not supported`);
}

/** A ModelProto for a closed Jaxpr whose arguments are named `inputNames`. */
export function encodeJaxpr(closed: ClosedJaxpr, inputNames: string[], outputName: string): Uint8Array {
  const { jaxpr, consts } = closed;
  const nConsts = consts.length;
  if (jaxpr.inBinders.length !== nConsts + inputNames.length) {
    throw new Error(`ONNX export: ${inputNames.length} input names for ${jaxpr.inBinders.length - nConsts} arguments`);
  }
  if (jaxpr.outs.length !== 1) throw new Error(`ONNX export: the function must return one array, got ${jaxpr.outs.length}`);
  const g = new Graph();
  const graph = new Message().string(2, "vdm");
  jaxpr.inBinders.forEach((v, i) => {
    if (i < nConsts) {
      const values = (consts[i] as unknown as Array).ref.dataSync() as unknown as ArrayBufferView;
      g.bind(v, g.constant(null, values, v.aval.shape, v.aval.dtype));
    } else {
      const name = inputNames[i - nConsts]!;
      g.bind(v, name);
      graph.message(11, new Message().string(1, name).message(2, tensorType(v.aval.dtype, v.aval.shape)));
    }
  });
  for (const e of jaxpr.eqns) equation(g, e);
  const out = jaxpr.outs[0]!;
  g.node("Identity", [g.name(out)], [], outputName);
  graph.message(12, new Message().string(1, outputName).message(2, tensorType(out.aval.dtype, out.aval.shape)));
  for (const n of g.nodes) graph.message(1, n);
  for (const t of g.initializers) graph.message(5, t);
  return new Message()
    .int(1, IR_VERSION)
    .string(2, "vdm")
    .message(7, graph)
    .message(8, new Message().string(1, "").int(2, OPSET))
    .encode();
}
