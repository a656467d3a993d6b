/**
 * Each Jaxpr equation as one ONNX node (or a few). `dot` (jax-js's Σ_k x[…,k]·y[…,k] with
 * broadcasting) is written as MatMul when its operands have the [..., M, 1, K] × [..., 1, N, K] form
 * np.matmul and its gradients produce (looking through explicit broadcasts), else as Mul + ReduceSum.
 * Some equations are written in forms ONNX Runtime's CPU kernels run faster, with the same arithmetic:
 * x + neg(y) as Sub, the traced sigmoid as Sigmoid, innermost broadcasts widened, reductions split into
 * contiguous runs of axes, convolution weight gradients as Gemms.
 */
import { numpy as np } from "../engine/jax.js";
import { UnsupportedError } from "../errors.js";
import { type Atom, attr, dataType, type Eqn, type Graph, INT64, isLit, type Var } from "./graph.js";

const UNARY: Record<string, string> = {
  neg: "Neg",
  reciprocal: "Reciprocal",
  exp: "Exp",
  log: "Log",
  sin: "Sin",
  cos: "Cos",
  sqrt: "Sqrt",
  floor: "Floor",
  ceil: "Ceil",
  erf: "Erf",
  atan: "Atan",
  stop_gradient: "Identity",
};
const BINARY: Record<string, string> = { add: "Add", mul: "Mul", min: "Min", max: "Max" };
const COMPARE: Record<string, string> = { less: "Less", less_equal: "LessOrEqual", equal: "Equal" };
const REDUCE: Record<string, string> = { Add: "ReduceSum", Max: "ReduceMax", Min: "ReduceMin", Mul: "ReduceProd" };

/** An operand as the ONNX value it can be read from, with its shape. */
type Operand = { name: string; shape: readonly number[] };

/**
 * `v` before an explicit broadcast (which a gradient materialises before `dot`, possibly then
 * transposed or reshaped by size-1 axes): dot broadcasts by itself, so the source with its new
 * axes as size 1 (transposed or reshaped likewise) serves as well and is far smaller. Null when
 * no broadcast is underneath.
 */
function beforeBroadcast(g: Graph, v: Var): Operand | null {
  const e = g.producer(v);
  const input = e?.inputs[0];
  if (!e || !input || isLit(input)) return null;
  if (e.primitive === "broadcast") {
    const axes = e.params.axis as number[];
    const shape = [...input.aval.shape];
    for (const a of [...axes].sort((p, q) => p - q)) shape.splice(a, 0, 1);
    return { name: axes.length ? g.node("Unsqueeze", [g.name(input), g.int64s(axes)]) : g.name(input), shape };
  }
  const inner = e.primitive === "transpose" || e.primitive === "reshape" ? beforeBroadcast(g, input) : null;
  if (!inner) return null;
  if (e.primitive === "transpose") {
    const perm = e.params.perm as number[];
    return { name: g.node("Transpose", [inner.name], [attr.ints("perm", perm)]), shape: perm.map((p) => inner.shape[p]!) };
  }
  // a reshape that only adds or drops axes of size 1 keeps the others in order
  const from = input.aval.shape,
    to = v.aval.shape;
  const kept = (dims: readonly number[]) => dims.flatMap((d, i) => (d === 1 ? [] : [i]));
  const [keptFrom, keptTo] = [kept(from), kept(to)];
  if (keptFrom.length !== keptTo.length || keptFrom.some((i, k) => from[i] !== to[keptTo[k]!])) return null;
  const shape = to.map(() => 1);
  keptTo.forEach((i, k) => (shape[i] = inner.shape[keptFrom[k]!]!));
  return { name: g.node("Reshape", [inner.name, g.int64s(shape)]), shape };
}

/**
 * Σ_k x[…,k]·y[…,k] (with broadcasting) as MatMul when one operand is [..., M, 1, K] and the other
 * [..., 1, N, K] (the form np.matmul and its gradients produce): [..., M, K] · [..., N, K]ᵀ.
 */
function dot(g: Graph, xv: Var, yv: Var, out: string): void {
  const r = xv.aval.shape.length;
  const [x, y] = [xv, yv].map((v) => beforeBroadcast(g, v) ?? { name: g.name(v), shape: v.aval.shape }) as [Operand, Operand];
  const matmul = (a: Operand, b: Operand) => {
    const K = a.shape[r - 1]!;
    const left = g.node("Reshape", [a.name, g.int64s([...a.shape.slice(0, r - 2), K])]);
    const right = g.node("Reshape", [b.name, g.int64s([...b.shape.slice(0, r - 3), b.shape[r - 2]!, K])]);
    const perm = [...globalThis.Array.from({ length: r - 3 }, (_, i) => i), r - 2, r - 3];
    g.node("MatMul", [left, g.node("Transpose", [right], [attr.ints("perm", perm)])], [], out);
  };
  const fits = (a: Operand, b: Operand) => r >= 3 && b.shape.length === r && a.shape[r - 2] === 1 && b.shape[r - 3] === 1;
  if (fits(x, y)) return void matmul(x, y);
  if (fits(y, x)) return void matmul(y, x);
  g.node("ReduceSum", [g.node("Mul", [g.name(xv), g.name(yv)]), g.int64s([-1])], [attr.int("keepdims", 0)], out);
}

/**
 * A 2-D convolution whose kernel is nearly as large as its input and whose output has only a few
 * positions: the form a convolution's weight gradient takes (input [Cin, B, H, W], "kernel" the
 * output's gradient [Cout, B, H, W], result [Cin, Cout, 3, 3]). ONNX Runtime's Conv runs it as a
 * direct convolution with a 28×28 kernel, far slower than the same sums as matrix products.
 */
function isWeightGradient(e: Eqn): boolean {
  const p = e.params;
  const out = e.outBinders[0]!.aval.shape;
  const rhs = (e.inputs[1] as Var).aval.shape;
  if (out.length !== 4 || rhs.length !== 4 || isLit(e.inputs[0]!) || isLit(e.inputs[1]!)) return false;
  if (!p.strides.every((s: number) => s === 1) || !p.rhsDilation.every((d: number) => d === 1)) return false;
  const positions = out[2]! * out[3]!;
  return positions <= 16 && rhs[2]! * rhs[3]! >= 4 * positions;
}

/**
 * out[n, o, p, q] = Σ_{c,i,j} padded[n, c, p+i, q+j] · rhs[o, c, i, j], one Gemm per output
 * position (p, q): the window of the padded input at (p, q), as [N, C·kh·kw], times rhs in
 * [C, kh, kw, O] order as [C·kh·kw, O] (that order is the NHWC output gradient the transposes in
 * front of a weight gradient started from: read directly, no transposed copy); the [N, O] results
 * stacked into [N, O, oh, ow].
 */
function weightGradientConv(g: Graph, e: Eqn, out: string): void {
  const [lhs, rhs] = e.inputs as [Var, Var];
  const [N, C] = lhs.aval.shape as number[];
  const [O, , kh, kw] = rhs.aval.shape as number[];
  const [, , oh, ow] = e.outBinders[0]!.aval.shape as number[];
  const pads = e.params.padding as [number, number][];
  const left = g.name(lhs);
  const padded = pads.some(([a, b]) => a !== 0 || b !== 0)
    ? g.node("Pad", [left, g.int64s([0, 0, pads[0]![0], pads[1]![0], 0, 0, pads[0]![1], pads[1]![1]])])
    : left;
  const K = C! * kh! * kw!;
  const kernel = g.node("Reshape", [transposed(g, rhs, [1, 2, 3, 0]), g.int64s([K, O!])]);
  const taps: string[] = [];
  for (let p = 0; p < oh!; p++) {
    for (let q = 0; q < ow!; q++) {
      const window = g.node("Slice", [padded, g.int64s([p, q]), g.int64s([p + kh!, q + kw!]), g.int64s([2, 3])]);
      const rows = g.node("Reshape", [window, g.int64s([N!, K])]);
      taps.push(g.node("Unsqueeze", [g.node("Gemm", [rows, kernel]), g.int64s([2])]));
    }
  }
  g.node("Reshape", [g.node("Concat", taps, [attr.int("axis", 2)]), g.int64s([N!, O!, oh!, ow!])], [], out);
}

/**
 * transpose(v, perm) (out axis k = v's axis perm[k]) as an ONNX value, composed with the transposes
 * `v` comes from: transpose(transpose(x, p), perm) = transpose(x, p[perm[k]] for each k), and x itself
 * when that is the identity.
 */
function transposed(g: Graph, v: Var, perm: number[]): string {
  let [source, composed]: [Atom, number[]] = [v, perm];
  for (let e = g.producer(v); e?.primitive === "transpose"; e = isLit(source) ? undefined : g.producer(source)) {
    const inner = e.params.perm as number[];
    [source, composed] = [e.inputs[0]!, composed.map((k) => inner[k]!)];
  }
  return composed.every((k, i) => k === i) ? g.name(source) : g.node("Transpose", [g.name(source)], [attr.ints("perm", composed)]);
}

/**
 * An operand of an elementwise op with result shape `out`, widened where its broadcast is innermost:
 * with `shape` (right-aligned to `out`) ending in size-1 axes after its last axis k of size > 1, it
 * becomes Expand(operand, shape[…k] ++ out[k+1…]) when that is at most 1/8 of the result. ONNX
 * Runtime's CPU broadcast loops run once per innermost contiguous span, so a GroupNorm statistic
 * [B, 1, G, 1] against [B, HW, G, C/G] ran C/G elements at a time; widened to [B, 1, G, C/G], the
 * span is G·C/G (measured 3–6× faster for that Mul or Add).
 */
function widenInnerBroadcast(g: Graph, name: string, shape: readonly number[], out: readonly number[]): string {
  const aligned = [...globalThis.Array<number>(out.length - shape.length).fill(1), ...shape];
  const k = aligned.reduce((last, d, i) => (d !== 1 ? i : last), -1);
  const widened = [...aligned.slice(0, k + 1), ...out.slice(k + 1)];
  const size = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);
  if (k < 0 || size(widened) === size(aligned) || 8 * size(widened) > size(out)) return name;
  return g.node("Expand", [name, g.int64s(widened)]);
}

/**
 * The x of x · sigmoid(x) (SiLU) when `e` is that sigmoid as traced for export (schedule/schedule.ts):
 * reciprocal(exp(−max(x, c)) + 1) with c ≤ −80 (or without the clamp), whose clamp, negation,
 * exponential and sum have no other reader and whose only reader multiplies it by x; else null.
 * ONNX Runtime's Sigmoid is one pass over the data instead of four (it fuses x · Sigmoid(x) into one
 * QuickGelu), needs no clamp (the values differ below −80 only, both under 2e−35), and is accurate
 * in absolute terms only: sigmoid(−20) came out as 0, not 2e−9, so other sigmoids (a schedule's α²,
 * σ²) stay as traced. In a training step the gradient reads the exponential, so only forward passes qualify.
 */
function siluArgument(g: Graph, e: Eqn): Atom | null {
  const sum = soleProducer(g, e.inputs[0], "add");
  const one = sum?.inputs.findIndex((a) => isLit(a) && a.value === 1);
  if (e.primitive !== "reciprocal" || !sum || one === undefined || one < 0) return null;
  const z = soleProducer(g, soleProducer(g, sum.inputs[1 - one], "exp")?.inputs[0], "neg")?.inputs[0];
  if (!z) return null;
  const clamp = soleProducer(g, z, "max");
  const floor = clamp?.inputs.findIndex((a) => isLit(a) && a.value <= -80);
  const x = clamp && floor !== undefined && floor >= 0 ? clamp.inputs[1 - floor]! : z;
  const sigmoid = e.outBinders[0]!;
  const readers = g.readers(sigmoid);
  return g.uses(sigmoid) === 1 && readers[0]?.primitive === "mul" && readers[0].inputs.includes(x) ? x : null;
}

/** The `primitive` equation that defines `a` when `a` has no other reader, else undefined. */
function soleProducer(g: Graph, a: Atom | undefined, primitive: string): Eqn | undefined {
  const p = a && !isLit(a) && g.uses(a) === 1 ? g.producer(a) : undefined;
  return p?.primitive === primitive ? p : undefined;
}

/**
 * x + neg(y) as [x, y] when nothing else reads neg(y) (jax-js has no subtraction: x − y is traced
 * as that sum), to be written as Sub(x, y), one pass over the data instead of two; else null.
 */
function difference(g: Graph, e: Eqn): [Atom, Atom] | null {
  if (e.primitive !== "add") return null;
  const k = e.inputs.findIndex((a) => soleProducer(g, a, "neg"));
  return k < 0 ? null : [e.inputs[1 - k]!, soleProducer(g, e.inputs[k], "neg")!.inputs[0]!];
}

/**
 * x reduced (`op`: ReduceSum, ReduceMax, …) over `axes`, one reduction per contiguous run of axes,
 * outermost first, keeping them as size 1; the last reduces over all of `axes` and drops them. ONNX
 * Runtime reduces one run over contiguous inner blocks fast, but several runs at once slowly: the
 * GroupNorm sums over axes 1 and 3 of [B, HW, G, C/G] took 8–9× longer than over axis 1, then axis 3
 * of the [B, 1, G, C/G] left.
 */
function reduceByRuns(g: Graph, op: string, x: string, axes: readonly number[], out: string): void {
  const sorted = [...axes].sort((a, b) => a - b);
  const runs: number[][] = [];
  for (const a of sorted) {
    const run = runs[runs.length - 1];
    if (run && run[run.length - 1] === a - 1) run.push(a);
    else runs.push([a]);
  }
  const partial = runs.slice(0, -1).reduce((v, run) => g.node(op, [v, g.int64s(run)], [attr.int("keepdims", 1)]), x);
  g.node(op, [partial, g.int64s(sorted)], [attr.int("keepdims", 0)], out);
}

/** The ONNX nodes of one equation `e`, added to `g`. */
export function equation(g: Graph, e: Eqn): void {
  g.define(e);
  if (e.primitive === "split" && !isLit(e.inputs[0]!)) {
    const names = e.outBinders.map((v) => {
      const n = g.fresh();
      g.bind(v, n);
      return n;
    });
    g.nodeOutputs("Split", [g.name(e.inputs[0]!), g.int64s(e.params.sizes)], [attr.int("axis", e.params.axis)], names);
    return;
  }
  const [out] = e.outBinders;
  if (!out || e.outBinders.length !== 1)
    throw new UnsupportedError(`ONNX export: ${e.primitive} with ${e.outBinders.length} outputs is not supported`);
  const name = g.fresh();
  g.bind(out, name);
  const p = e.params;
  // a literal takes its partner's dtype (Where: the condition is bool, the branches the result's)
  const partner = e.inputs.find((a) => !isLit(a))?.aval.dtype;
  const op = e.primitive as string;
  const elementwise = op === "where" || op === "compare" || BINARY[op] !== undefined;
  const sub = difference(g, e);
  const ins = (sub ?? e.inputs).map((a, i) => {
    const n = g.name(a, op === "where" ? (i === 0 ? np.bool : out.aval.dtype) : partner);
    return elementwise && !isLit(a) ? widenInnerBroadcast(g, n, a.aval.shape, out.aval.shape) : n;
  });
  const siluOf = siluArgument(g, e);
  if (siluOf) g.node("Sigmoid", [g.name(siluOf)], [], name);
  else if (sub) g.node("Sub", ins, [], name);
  else if (UNARY[op]) g.node(UNARY[op], ins, [], name);
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
    g.node(
      "Slice",
      [ins[0]!, g.int64s(slice.map((s) => s[0])), g.int64s(slice.map((s) => s[1])), g.int64s(slice.map((_, i) => i))],
      [],
      name,
    );
  } else if (op === "flip") {
    // reversed along each axis: a slice from the last element down with step −1
    const axes = p.axis as number[];
    const dims = axes.map((a) => out.aval.shape[a]!);
    g.node(
      "Slice",
      [ins[0]!, g.int64s(axes.map(() => -1)), g.int64s(dims.map((d) => -d - 1)), g.int64s(axes), g.int64s(axes.map(() => -1))],
      [],
      name,
    );
  } else if (op === "reduce" && REDUCE[p.op]) {
    if (p.axis.length === 0) g.node("Identity", ins, [], name);
    else reduceByRuns(g, REDUCE[p.op]!, ins[0]!, p.axis, name);
  } else if (op === "dot" && !e.inputs.some(isLit)) dot(g, e.inputs[0] as Var, e.inputs[1] as Var, name);
  else if (op === "conv" && p.vmapDims === 0 && p.lhsDilation.every((d: number) => d === 1)) {
    const pads = p.padding as [number, number][];
    if (isWeightGradient(e)) return void weightGradientConv(g, e, name);
    const convAttrs = [
      attr.ints("strides", p.strides),
      attr.ints("dilations", p.rhsDilation),
      attr.ints("pads", [...pads.map((q) => q[0]), ...pads.map((q) => q[1])]),
    ];
    g.node("Conv", ins, convAttrs, name);
  } else if (op === "scatter" && p.op === "add" && p.axis.length === 1 && p.axis[0] === 0 && p.outDim === 0) {
    // zeros(shape) with updates[j] added at row indices[j] (the gradient of a row gather)
    const zeros = g.node("Expand", [g.scalar(0, out.aval.dtype), g.int64s(p.shape)]);
    const rows = g.node("Unsqueeze", [g.node("Cast", [ins[1]!], [attr.int("to", INT64)]), g.int64s([-1])]);
    g.node("ScatterND", [zeros, rows, ins[0]!], [attr.string("reduction", "add")], name);
  } else if (op === "gather" && p.axis.length === 1 && p.outDim === p.axis[0]) g.node("Gather", ins, [attr.int("axis", p.axis[0])], name);
  else throw new UnsupportedError(`ONNX export: the jax-js primitive "${op}"${p.op ? ` (${p.op})` : ""} is not supported`);
}
