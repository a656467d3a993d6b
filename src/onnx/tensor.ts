/**
 * What an ONNX Runtime session consumes and returns, on either ONNX Runtime: host tensors, the
 * session's options, and what a session does (`SessionCore`).
 */

import type { Array } from "../engine/jax.js";
import { numpy as np } from "../engine/jax.js";

/** A tensor's values and shape on the host: what a session is fed and returns. */
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

/** Options of an ONNX Runtime session. */
export interface SessionOptions {
  /** ONNX Runtime's intra-op threads (default 1, as jax-js on wasm); in a browser the connection's (`useOnnxRuntimeWeb`) */
  threads?: number;
  /**
   * With more than one thread, whether idle pool threads wait for work by spinning. Measured on 2
   * cores: quiet, a U-Net training step at 2 threads took 0.81× the time with spinning, the default
   * 2-D step 0.73×; with other work on the machine, spinning threads take the cores the working ones
   * need (0.5× the speed there). "auto" (the default) spins while this process's cores have room for
   * its threads, measured from the kernel's counters when the session is made and again every 10 s
   * of runs (`spinFor` in src/onnx/spin.ts). A function is asked before every run; when its answer
   * changes, the session is remade with the new setting (held inputs are kept). Node only.
   */
  spin?: boolean | "auto" | (() => boolean);
}

/** What a session does, on either ONNX Runtime: the twins of `#onnx/session` extend it. */
export abstract class SessionCore {
  /**
   * The model's `outputs` for `feeds` and the held inputs; only what they depend on is computed.
   * `carry` (output → input) keeps outputs as held inputs of the next run: a training step's new
   * state stays in ONNX Runtime's tensors.
   */
  abstract runOutputs(feeds: Record<string, HostTensor>, outputs: string[], carry?: Record<string, string>): HostTensor[];
  /** Keep `tensors` as inputs of every later run (until replaced by a carry or another hold). */
  abstract hold(tensors: Record<string, HostTensor>): void;
  /** The held inputs `names`. */
  abstract read(names: string[]): HostTensor[];
  /** Release the session. */
  abstract close(): void;

  /** The model's output `output` for `feeds` (by input name). */
  run(feeds: Record<string, HostTensor>, output = "output"): HostTensor {
    return this.runOutputs(feeds, [output])[0]!;
  }
}
