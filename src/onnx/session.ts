/**
 * ONNX Runtime sessions on Node (package.json "imports" `#onnx/session`), run synchronously on the calling thread. onnxruntime-node's public
 * `InferenceSession.run` returns a promise only because it defers its native call to the next turn
 * of the event loop (setImmediate), while samplers and the trainer are synchronous loops; so we call
 * the native binding it wraps (dist/binding.js of the pinned onnxruntime-node 1.30.0: `loadModel`,
 * `run`, `dispose`), which runs the session and returns its outputs. Inputs and outputs are the
 * callers' own buffers: nothing is copied between threads.
 */

import { ConfigError, UnsupportedError } from "../errors.js";
import { onnxRuntimeFix, onnxRuntimeLoads } from "./available.js";
import { spinFor } from "./spin.js";
import { type HostTensor, SessionCore, type SessionOptions } from "./tensor.js";

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

/**
 * A session of onnxruntime-node (Node's twin of ./session.browser.ts). Before each run with more than
 * one thread it asks `spin` (`SessionOptions.spin`) whether idle pool threads should spin, and remakes
 * the native session when the answer changes (held inputs are kept).
 */
export class OnnxSession extends SessionCore {
  readonly #ort = onnxRuntime();
  #session: NativeSession | null = null;
  /** inputs kept between runs (a training state), by input name */
  readonly #held: Record<string, OrtTensor> = {};
  #closed = false;
  readonly #model: Uint8Array;
  readonly #threads: number;
  readonly #wantSpin: () => boolean;
  /** whether the pool threads of the current native session spin */
  #spinning = false;

  /** Load `model` (ONNX bytes). */
  constructor(model: Uint8Array, { threads = 1, spin = "auto" }: SessionOptions = {}) {
    super();
    [this.#model, this.#threads] = [model, threads];
    this.#wantSpin = typeof spin === "function" ? spin : () => spinFor(spin, threads);
    this.#load(this.#wantSpin());
  }

  /** Whether idle pool threads spin in this session now. */
  get spinning(): boolean {
    return this.#spinning;
  }

  /** The model as a native session whose idle pool threads spin or sleep (replacing the current one). */
  #load(spin: boolean): void {
    const session = new this.#ort.NativeSession();
    this.#native(() =>
      session.loadModel(this.#model.buffer, this.#model.byteOffset, this.#model.byteLength, {
        intraOpNumThreads: this.#threads,
        interOpNumThreads: 1,
        graphOptimizationLevel: "all",
        // measured: the default memory pattern planner pre-allocated ~700 MB more for a U-Net training step
        enableMemPattern: false,
        extra: { session: { intra_op: { allow_spinning: spin ? "1" : "0" } } },
      }),
    );
    this.#session?.dispose();
    [this.#session, this.#spinning] = [session, spin];
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

  override runOutputs(feeds: Record<string, HostTensor>, outputs: string[], carry: Record<string, string> = {}): HostTensor[] {
    if (this.#threads > 1 && this.#wantSpin() !== this.#spinning) this.#load(!this.#spinning);
    const fetches = Object.fromEntries([...outputs, ...Object.keys(carry)].map((name) => [name, null]));
    const out = this.#native(() => {
      const all: Record<string, OrtTensor> = { ...this.#held };
      for (const [name, t] of Object.entries(feeds)) all[name] = this.#tensor(t);
      return this.#session!.run(all, fetches, {});
    });
    for (const [o, i] of Object.entries(carry)) this.#held[i] = out[o]!;
    return outputs.map((name) => host(out[name]!));
  }

  override hold(tensors: Record<string, HostTensor>): void {
    this.#native(() => Object.entries(tensors).forEach(([name, t]) => (this.#held[name] = this.#tensor(t))));
  }

  override read(names: string[]): HostTensor[] {
    return this.#native(() => names.map((name) => host(this.#held[name]!)));
  }

  override close(): void {
    if (this.#closed) return;
    this.#session!.dispose();
    this.#closed = true;
  }
}

/** An onnxruntime-node tensor's values and shape (its buffer, not a copy). */
const host = (t: OrtTensor): HostTensor => ({ data: t.data as Float32Array, dims: [...t.dims] });
