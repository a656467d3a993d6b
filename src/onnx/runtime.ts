/**
 * ONNX Runtime sessions, run synchronously on the calling thread. onnxruntime-node's public
 * `InferenceSession.run` returns a promise only because it defers its native call to the next turn
 * of the event loop (setImmediate), while samplers and the trainer are synchronous loops; so we call
 * the native binding it wraps (dist/binding.js of the pinned onnxruntime-node 1.30.0: `loadModel`,
 * `run`, `dispose`), which runs the session and returns its outputs. Inputs and outputs are the
 * callers' own buffers: nothing is copied between threads.
 */

import { type Array, numpy as np } from "../engine/jax.js";
import { ConfigError, UnsupportedError } from "../errors.js";
import { onnxRuntimeFix, onnxRuntimeLoads } from "./available.js";

export interface HostTensor {
  data: Float32Array | Int32Array;
  dims: number[];
}

/** An array's values as float32 (int32 for labels) for ONNX Runtime; consumes the array. */
export function toHost(a: Array): HostTensor {
  const dims = [...a.shape];
  const values = a.dataSync(); // a buffer of its own: converted (float64 on cpu) only when needed
  const data =
    a.dtype === np.int32 || values instanceof Float32Array
      ? (values as Float32Array | Int32Array)
      : Float32Array.from(values as Float64Array);
  return { data, dims };
}

/** What we use of onnxruntime-node (an optional dependency: its types may be absent). */
interface OrtTensor {
  data: unknown;
  dims: readonly number[];
}
interface NativeSession {
  loadModel(buffer: ArrayBufferLike, byteOffset: number, byteLength: number, options: object): void;
  /** the outputs named in `fetches` (each null: ONNX Runtime allocates it) for `feeds` */
  run(feeds: Record<string, OrtTensor>, fetches: Record<string, null>, options: object): Record<string, OrtTensor>;
  dispose(): void;
}
interface Ort {
  NativeSession: new () => NativeSession;
  Tensor: new (type: string, data: Float32Array | Int32Array, dims: number[]) => OrtTensor;
}

let ort: Ort | undefined;

/** onnxruntime-node's tensor class and native session, loaded (and its environment set up) once. */
function onnxRuntime(): Ort {
  if (!ort) {
    const { require, detail } = onnxRuntimeLoads();
    if (!require) throw new ConfigError(`the ONNX backend needs onnxruntime-node (${detail}). Fix: ${onnxRuntimeFix}`);
    const { Tensor } = require("onnxruntime-node") as Pick<Ort, "Tensor">;
    const { binding, initOrt } = require("onnxruntime-node/dist/binding.js") as {
      binding: { InferenceSession: Ort["NativeSession"] };
      initOrt(): void;
    };
    initOrt();
    ort = { NativeSession: binding.InferenceSession, Tensor };
  }
  return ort;
}

/** Options of an ONNX Runtime session. */
export interface SessionOptions {
  /** ONNX Runtime's intra-op threads (default 1, as jax-js on wasm) */
  threads?: number;
  /**
   * With more than one thread, idle pool threads wait for work by spinning (default true, ONNX
   * Runtime's own default and OpenMP's habit): measured on 2 quiet cores, a U-Net training step at
   * 2 threads took 0.81× the time without, the default 2-D step 0.73×. On a machine busy with other
   * work the spinning threads take the cores the working ones need (0.5× the speed there): pass false.
   */
  spin?: boolean;
}

export class OnnxSession {
  readonly #ort = onnxRuntime();
  readonly #session = new this.#ort.NativeSession();
  /** inputs kept between runs (a training state), by input name */
  readonly #held: Record<string, OrtTensor> = {};
  #closed = false;

  /** Load `model` (ONNX bytes). */
  constructor(model: Uint8Array, { threads = 1, spin = true }: SessionOptions = {}) {
    this.#native(() =>
      this.#session.loadModel(model.buffer, model.byteOffset, model.byteLength, {
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        graphOptimizationLevel: "all",
        // measured: the default memory pattern planner pre-allocated ~700 MB more for a U-Net training step
        enableMemPattern: false,
        extra: { session: { intra_op: { allow_spinning: spin ? "1" : "0" } } },
      }),
    );
  }

  /** `f()`, with ONNX Runtime's errors named as such. */
  #native<T>(f: () => T): T {
    if (this.#closed) throw new UnsupportedError("this ONNX session is closed");
    try {
      return f();
    } catch (e) {
      throw new UnsupportedError(`ONNX Runtime: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
  }

  /** `t` as an onnxruntime-node tensor over the same buffer. */
  #tensor(t: HostTensor): OrtTensor {
    return new this.#ort.Tensor(t.data instanceof Int32Array ? "int32" : "float32", t.data, t.dims);
  }

  /** The model's output `output` for `feeds` (by input name). */
  run(feeds: Record<string, HostTensor>, output = "output"): HostTensor {
    return this.runOutputs(feeds, [output])[0]!;
  }

  /**
   * The model's `outputs` for `feeds` and the held inputs; only what they depend on is computed.
   * `carry` (output → input) keeps outputs as held inputs of the next run: a training step's new
   * state stays in ONNX Runtime's tensors.
   */
  runOutputs(feeds: Record<string, HostTensor>, outputs: string[], carry: Record<string, string> = {}): HostTensor[] {
    const fetches = Object.fromEntries([...outputs, ...Object.keys(carry)].map((name) => [name, null]));
    const out = this.#native(() => {
      const all: Record<string, OrtTensor> = { ...this.#held };
      for (const [name, t] of Object.entries(feeds)) all[name] = this.#tensor(t);
      return this.#session.run(all, fetches, {});
    });
    for (const [o, i] of Object.entries(carry)) this.#held[i] = out[o]!;
    return outputs.map((name) => host(out[name]!));
  }

  /** Keep `tensors` as inputs of every later run (until replaced by a carry or another hold). */
  hold(tensors: Record<string, HostTensor>): void {
    this.#native(() => Object.entries(tensors).forEach(([name, t]) => (this.#held[name] = this.#tensor(t))));
  }

  /** The held inputs `names`. */
  read(names: string[]): HostTensor[] {
    return this.#native(() => names.map((name) => host(this.#held[name]!)));
  }

  close(): void {
    if (this.#closed) return;
    this.#session.dispose();
    this.#closed = true;
  }
}

/** An onnxruntime-node tensor's values and shape (its buffer, not a copy). */
const host = (t: OrtTensor): HostTensor => ({ data: t.data as Float32Array, dims: [...t.dims] });
