/** An ONNX graph under construction (protobuf messages), its nodes and initializers named after a Jaxpr's variables. */
import type { ClosedJaxpr, DType } from "../engine/jax.js";
import { UnsupportedError } from "../errors.js";
import { Message } from "./protobuf.js";

/** TensorProto.DataType codes of the dtypes we export. */
const DATA_TYPE: Partial<Record<DType, number>> = { float32: 1, int32: 6, bool: 9, float64: 11 };
/** TensorProto.DataType code of int64 (shapes, axes and pads are int64 tensors). */
export const INT64 = 7;

/** The parts of a traced Jaxpr the export reads: the Jaxpr, its equations, their operands (variables or literals). */
export type Jaxpr = ClosedJaxpr["jaxpr"];
export type Eqn = Jaxpr["eqns"][number];
export type Atom = Eqn["inputs"][number];
export type Var = Eqn["outBinders"][number];
export type Lit = Exclude<Atom, Var>;

/** Whether an operand is a literal (a scalar constant) rather than a variable. */
export const isLit = (a: Atom): a is Lit => "value" in a;

/** The TensorProto.DataType code of `dtype` (an error for dtypes ONNX export does not support). */
export function dataType(dtype: DType): number {
  const code = DATA_TYPE[dtype];
  if (code === undefined) throw new UnsupportedError(`ONNX export: dtype ${dtype} is not supported`);
  return code;
}

/** A TypeProto of a tensor of `dtype` and `shape` (of a graph's inputs and outputs). */
export function tensorType(dtype: DType, shape: readonly number[]): Message {
  const dims = new Message();
  for (const d of shape) dims.message(1, new Message().int(1, d));
  return new Message().message(1, new Message().int(1, dataType(dtype)).message(2, dims));
}

/** AttributeProtos of a node: an int, a string or a list of ints named `name`. */
export const attr = {
  int: (name: string, v: number) => new Message().string(1, name).int(3, v).int(20, 2),
  string: (name: string, v: string) => new Message().string(1, name).string(4, v).int(20, 3),
  ints: (name: string, v: readonly number[]) => new Message().string(1, name).ints(8, v).int(20, 7),
};

/** ONNX graph under construction, named after the Jaxpr's variables. */
export class Graph {
  readonly #nodes: { inputs: string[]; outputs: string[]; message: Message }[] = [];
  readonly #initializers = new Map<string, Message>();
  readonly #names = new Map<Var, string>();
  readonly #producers = new Map<Var, Eqn>();
  readonly #readers = new Map<Var, Eqn[]>();
  readonly #outputReads = new Map<Var, number>();
  readonly #constants = new Map<string, string>();
  #next = 0;

  fresh(): string {
    return `v${this.#next++}`;
  }

  bind(v: Var, name: string): void {
    this.#names.set(v, name);
  }

  /** The equation that defines `v` (none for inputs and constants). */
  producer(v: Var): Eqn | undefined {
    return this.#producers.get(v);
  }

  define(e: Eqn): void {
    for (const v of e.outBinders) this.#producers.set(v, e);
  }

  /** Record each variable's readers: the equations that take it (once per operand) and the outputs. */
  countUses(j: Jaxpr): void {
    for (const e of j.eqns) for (const a of e.inputs) if (!isLit(a)) this.#readers.get(a)?.push(e) ?? this.#readers.set(a, [e]);
    for (const a of j.outs) if (!isLit(a)) this.#outputReads.set(a, (this.#outputReads.get(a) ?? 0) + 1);
  }

  /** The equations that take `v`, once per operand (see countUses). */
  readers(v: Var): Eqn[] {
    return this.#readers.get(v) ?? [];
  }

  /** How many readers `v` has: equations (once per operand) and outputs (see countUses). */
  uses(v: Var): number {
    return this.readers(v).length + (this.#outputReads.get(v) ?? 0);
  }

  /** The value name of an atom; literals take `dtype` (their partner's) when given. */
  name(a: Atom, dtype?: DType): string {
    if (!isLit(a)) {
      const n = this.#names.get(a);
      if (n === undefined) throw new UnsupportedError("ONNX export: a variable was used before its definition");
      return n;
    }
    return this.scalar(a.value, dtype ?? a.dtype);
  }

  /** A scalar constant. */
  scalar(value: number, dt: DType): string {
    const values =
      dt === "bool"
        ? Uint8Array.of(value ? 1 : 0)
        : dt === "int32"
          ? Int32Array.of(value)
          : dt === "float64"
            ? Float64Array.of(value)
            : Float32Array.of(value);
    return this.constant(`${dt}:${value}`, values, [], dt);
  }

  /** An initializer (deduplicated by `key` when given). */
  constant(key: string | null, values: ArrayBufferView, dims: readonly number[], dtype: DType | "int64"): string {
    const known = key !== null ? this.#constants.get(key) : undefined;
    if (known) return known;
    const name = `c${this.#next++}`;
    const raw = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    const tensor = new Message()
      .ints(1, dims)
      .int(2, dtype === "int64" ? INT64 : dataType(dtype))
      .string(8, name)
      .bytes(9, raw.slice());
    this.#initializers.set(name, tensor);
    if (key !== null) this.#constants.set(key, name);
    return name;
  }

  /** A 1-D int64 constant (shapes, axes, pads). */
  int64s(values: readonly number[]): string {
    return this.constant(`i64:${values.join(",")}`, BigInt64Array.from(values.map(BigInt)), [values.length], "int64");
  }

  node(op: string, inputs: string[], attributes: Message[] = [], output = this.fresh()): string {
    this.nodeOutputs(op, inputs, attributes, [output]);
    return output;
  }

  nodeOutputs(op: string, inputs: string[], attributes: Message[], outputs: string[]): void {
    const n = new Message();
    for (const i of inputs) n.string(1, i);
    for (const o of outputs) n.string(2, o);
    n.string(4, op);
    for (const a of attributes) n.message(5, a);
    this.#nodes.push({ inputs, outputs, message: n });
  }

  /**
   * The nodes and initializers that `outputs` depend on (dead code removed: operands that `dot`
   * read from before a broadcast, values only a gradient's unused branch needed).
   */
  live(outputs: string[]): { nodes: Message[]; initializers: Message[]; needed: Set<string> } {
    const needed = new Set(outputs);
    const nodes: Message[] = [];
    for (const n of [...this.#nodes].reverse()) {
      if (!n.outputs.some((o) => needed.has(o))) continue;
      nodes.push(n.message);
      for (const i of n.inputs) needed.add(i);
    }
    const initializers = [...this.#initializers].filter(([name]) => needed.has(name)).map(([, t]) => t);
    return { nodes: nodes.reverse(), initializers, needed };
  }
}
