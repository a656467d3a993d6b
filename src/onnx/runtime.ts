/**
 * ONNX Runtime behind a synchronous call. onnxruntime-node only offers `await session.run(…)`,
 * while samplers are synchronous loops; so the session lives in a worker thread and `run` posts
 * the inputs, blocks on a shared flag (Atomics.wait) until the worker has answered, and takes the
 * reply off the port directly (receiveMessageOnPort). The extra cost is one copy of the inputs
 * and outputs per call.
 */
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from "node:worker_threads";
import { numpy as np, type Array } from "../engine/jax.js";

export interface HostTensor {
  data: Float32Array | Int32Array;
  dims: number[];
}

/** An array's values as float32 (int32 for labels) for ONNX Runtime; consumes the array. */
export function toHost(a: Array): HostTensor {
  const dims = [...a.shape];
  const values = a.dataSync(); // a buffer of its own: converted (float64 on cpu) only when needed
  const data = a.dtype === np.int32 || values instanceof Float32Array ? (values as Float32Array | Int32Array) : Float32Array.from(values as Float64Array);
  return { data, dims };
}

export type Request =
  | { kind: "open"; model: Uint8Array; threads: number }
  | { kind: "run"; feeds: Record<string, HostTensor>; outputs: string[]; carry?: Record<string, string> }
  | { kind: "hold"; tensors: Record<string, HostTensor> }
  | { kind: "read"; names: string[] }
  | { kind: "close" };

export type Reply =
  | { kind: "opened" }
  | { kind: "ran"; results: HostTensor[] }
  | { kind: "held" }
  | { kind: "closed" }
  | { kind: "error"; message: string };

/** Longest wait for one reply before giving up (a session load or a forward pass). */
const TIMEOUT_MS = 10 * 60 * 1000;

/** Options of an ONNX Runtime session. */
export interface SessionOptions {
  /** ONNX Runtime's intra-op threads (default 1, as jax-js on wasm) */
  threads?: number;
}

export class OnnxSession {
  readonly #worker: Worker;
  readonly #port: MessagePort;
  readonly #signal = new Int32Array(new SharedArrayBuffer(4));
  #closed = false;

  /** Load `model` (ONNX bytes); blocks until the session is ready. */
  constructor(model: Uint8Array, { threads = 1 }: SessionOptions = {}) {
    const { port1, port2 } = new MessageChannel();
    this.#port = port1;
    this.#worker = new Worker(new URL("./worker.js", import.meta.url), {
      workerData: { port: port2, signal: this.#signal },
      transferList: [port2],
    });
    this.#worker.unref();
    try {
      this.#call({ kind: "open", model, threads });
    } catch (e) {
      void this.#worker.terminate();
      throw e;
    }
  }

  #call(request: Request): Reply {
    if (this.#closed) throw new Error("this ONNX session is closed");
    Atomics.store(this.#signal, 0, 0);
    this.#port.postMessage(request);
    if (Atomics.wait(this.#signal, 0, 0, TIMEOUT_MS) === "timed-out") {
      throw new Error(`ONNX Runtime did not answer within ${TIMEOUT_MS / 1000} s`);
    }
    const reply = receiveMessageOnPort(this.#port)?.message as Reply | undefined;
    if (!reply) throw new Error("ONNX Runtime's worker stopped without answering");
    if (reply.kind === "error") throw new Error(`ONNX Runtime: ${reply.message}`);
    return reply;
  }

  /** The model's output `output` for `feeds` (by input name). */
  run(feeds: Record<string, HostTensor>, output = "output"): HostTensor {
    return this.runOutputs(feeds, [output])[0]!;
  }

  /**
   * The model's `outputs` for `feeds` and the held inputs; only what they depend on is computed.
   * `carry` (output → input) keeps outputs as held inputs of the next run, inside the session's
   * thread: a training step's new state never crosses threads.
   */
  runOutputs(feeds: Record<string, HostTensor>, outputs: string[], carry?: Record<string, string>): HostTensor[] {
    const reply = this.#call({ kind: "run", feeds, outputs, ...(carry ? { carry } : {}) });
    if (reply.kind !== "ran") throw new Error(`ONNX Runtime: unexpected reply ${reply.kind}`);
    return reply.results;
  }

  /** Keep `tensors` as inputs of every later run (until replaced by a carry or another hold). */
  hold(tensors: Record<string, HostTensor>): void {
    this.#call({ kind: "hold", tensors });
  }

  /** The held inputs `names`. */
  read(names: string[]): HostTensor[] {
    const reply = this.#call({ kind: "read", names });
    if (reply.kind !== "ran") throw new Error(`ONNX Runtime: unexpected reply ${reply.kind}`);
    return reply.results;
  }

  close(): void {
    if (this.#closed) return;
    this.#call({ kind: "close" });
    this.#closed = true;
    this.#port.close();
    void this.#worker.terminate();
  }
}
