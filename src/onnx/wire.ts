/**
 * The wire between a worker that runs the library synchronously and the worker that runs ONNX Runtime
 * Web (whose calls return promises). Requests go by `postMessage`; the caller then blocks on
 * `Atomics.wait` until the server writes the reply into shared memory: a control word (pending, done,
 * failed) and a growable reply buffer holding the tensors (or the error's text). Both sides need
 * SharedArrayBuffer, so the page must be cross-origin isolated.
 *
 * Reply layout, in 32-bit words: [count, then per tensor: dtype (0 float32, 1 int32), rank, dims…],
 * then each tensor's values in order.
 */

import { UnsupportedError } from "../errors.js";
import type { HostTensor } from "./tensor.js";

/** Where a session's graphs run in the browser: ONNX Runtime Web's wasm (threads and SIMD) or its WebGPU provider. */
export type WebProvider = "wasm" | "webgpu";

/** A request from the library's worker to ONNX Runtime Web's; `session` numbers the caller's sessions. */
export type WebRequest =
  | { op: "init"; control: SharedArrayBuffer; reply: SharedArrayBuffer; threads: number; provider: WebProvider }
  | { op: "open"; session: number; model: Uint8Array }
  | { op: "run"; session: number; feeds: Record<string, HostTensor>; outputs: string[]; carry: Record<string, string> }
  | { op: "hold"; session: number; tensors: Record<string, HostTensor> }
  | { op: "read"; session: number; names: string[] }
  | { op: "close"; session: number };

/** The control word's states. */
export const PENDING = 0;
export const DONE = 1;
export const FAILED = 2;

/** A SharedArrayBuffer that grows (ES2024), as this file uses it. */
interface Growable {
  byteLength: number;
  grow(bytes: number): void;
}

/** The reply buffer: growable shared memory, up to 1 GiB (a training state read back for a checkpoint is the largest reply). */
export function replyBuffer(): SharedArrayBuffer {
  const Shared = SharedArrayBuffer as unknown as new (bytes: number, options: { maxByteLength: number }) => SharedArrayBuffer;
  return new Shared(1 << 16, { maxByteLength: 1 << 30 });
}

function fit(reply: SharedArrayBuffer, bytes: number): void {
  const g = reply as unknown as Growable;
  if (g.byteLength < bytes) g.grow(bytes);
}

/** Signal the waiting caller: `state` with `bytes` of reply. */
function signal(control: Int32Array, state: number, bytes: number): void {
  control[1] = bytes;
  Atomics.store(control, 0, state);
  Atomics.notify(control, 0);
}

/** Write `tensors` into `reply` (grown as needed) and wake the caller. */
export function writeReply(control: Int32Array, reply: SharedArrayBuffer, tensors: HostTensor[]): void {
  const header = [tensors.length, ...tensors.flatMap((t) => [t.data instanceof Int32Array ? 1 : 0, t.dims.length, ...t.dims])];
  const bytes = 4 * (header.length + tensors.reduce((n, t) => n + t.data.length, 0));
  fit(reply, bytes);
  new Int32Array(reply, 0, header.length).set(header);
  let offset = 4 * header.length;
  for (const { data } of tensors) {
    (data instanceof Int32Array ? new Int32Array(reply, offset, data.length) : new Float32Array(reply, offset, data.length)).set(data);
    offset += 4 * data.length;
  }
  signal(control, DONE, bytes);
}

/** Write the error `message` into `reply` and wake the caller. */
export function writeError(control: Int32Array, reply: SharedArrayBuffer, message: string): void {
  const text = new TextEncoder().encode(message);
  fit(reply, text.length);
  new Uint8Array(reply, 0, text.length).set(text);
  signal(control, FAILED, text.length);
}

/**
 * Block until the reply to the request just sent arrives (at most `timeoutMs`), and return its
 * tensors (copied out of the shared buffer). Throws the server's error as an `UnsupportedError`.
 */
export function awaitReply(control: Int32Array, reply: SharedArrayBuffer, timeoutMs: number): HostTensor[] {
  if (Atomics.wait(control, 0, PENDING, timeoutMs) === "timed-out") {
    throw new UnsupportedError(`ONNX Runtime Web did not answer within ${timeoutMs / 1000} s`);
  }
  const bytes = control[1]!;
  if (Atomics.load(control, 0) === FAILED) {
    // TextDecoder refuses views of shared memory: copy first
    throw new UnsupportedError(`ONNX Runtime Web: ${new TextDecoder().decode(new Uint8Array(reply, 0, bytes).slice())}`);
  }
  const words = new Int32Array(reply, 0, bytes / 4);
  const count = words[0]!;
  const specs: { int: boolean; dims: number[] }[] = [];
  let k = 1;
  for (let i = 0; i < count; i++) {
    const rank = words[k + 1]!;
    specs.push({ int: words[k] === 1, dims: Array.from(words.subarray(k + 2, k + 2 + rank)) });
    k += 2 + rank;
  }
  let offset = 4 * k;
  return specs.map(({ int, dims }) => {
    const n = dims.reduce((a, d) => a * d, 1);
    const data = int ? new Int32Array(reply, offset, n).slice() : new Float32Array(reply, offset, n).slice();
    offset += 4 * n;
    return { data, dims };
  });
}
