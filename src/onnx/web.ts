/**
 * ONNX Runtime Web as the library's ONNX Runtime in a browser. The library's samplers and trainer
 * are synchronous loops, and ONNX Runtime Web answers with promises; so it runs in a worker of its
 * own (`serveOnnxRuntime`, ./serve.ts), and the library's worker sends each call there and blocks on
 * `Atomics.wait` for the reply (./wire.ts). Once `useOnnxRuntimeWeb` has connected, `onnxModel`,
 * `onnxStepper` and every other ONNX path run there unchanged. Needs a cross-origin isolated page
 * (SharedArrayBuffer) and a worker as the caller (the page's main thread may not block).
 */

import { ConfigError, UnsupportedError } from "../errors.js";
import type { HostTensor } from "./tensor.js";
import { awaitReply, PENDING, replyBuffer, type WebProvider, type WebRequest } from "./wire.js";

/** Something to post requests to: the ONNX Runtime Web worker (a `Worker`, or a `MessagePort` to it). */
export interface WebEndpoint {
  /** send a request */
  postMessage(message: unknown): void;
  /** listen for the connection's first reply */
  addEventListener(type: "message", listener: (event: { data: unknown }) => void): void;
  /** stop listening */
  removeEventListener(type: "message", listener: (event: { data: unknown }) => void): void;
  /** a MessagePort's: start delivering messages */
  start?(): void;
}

/** Options of `useOnnxRuntimeWeb`. */
export interface OnnxWebOptions {
  /** ONNX Runtime Web's wasm threads (default 2; one where the page is not cross-origin isolated) */
  threads?: number;
  /** "wasm" (default) or "webgpu" (the worker's browser needs a WebGPU adapter) */
  provider?: WebProvider;
  /** how long a call may take before it fails, in ms (default 600,000) */
  timeoutMs?: number;
}

/** What the ONNX Runtime Web worker runs: its provider, threads, version and WebGPU adapter, if any. */
export interface OnnxWebInfo {
  provider: WebProvider;
  threads: number;
  version: string;
  /** the WebGPU adapter's vendor and architecture, or null where the browser has none */
  adapter: string | null;
}

interface Connection {
  endpoint: WebEndpoint;
  control: Int32Array;
  reply: SharedArrayBuffer;
  timeoutMs: number;
  info: OnnxWebInfo;
}

let connection: Connection | null = null;
let sessions = 0;
const waited = { calls: 0, ms: 0 };

/** Calls made to ONNX Runtime Web since the connection, and the milliseconds spent waiting for their replies (the rest of a loop's time is the caller's). */
export function onnxRuntimeWebCalls(): { calls: number; ms: number } {
  return { ...waited };
}

/**
 * Make ONNX Runtime Web, served by `serveOnnxRuntime` in the worker behind `endpoint`, the ONNX
 * Runtime of this worker: from now on `onnxModel`, `onnxStepper` and the rest run their graphs
 * there. A later call replaces the connection (sessions opened before it are lost).
 *
 * @example
 * ```ts
 * // in the worker that runs the library
 * import { onnx } from "vdm/browser";
 * const info = await onnx.useOnnxRuntimeWeb(new Worker(new URL("./ort-worker.js", import.meta.url), { type: "module" }));
 * const fast = onnx.onnxModel(denoiser.model, denoiser.params); // a Model every sampler takes
 * ```
 */
export async function useOnnxRuntimeWeb(endpoint: WebEndpoint, options: OnnxWebOptions = {}): Promise<OnnxWebInfo> {
  const { threads = 2, provider = "wasm", timeoutMs = 600_000 } = options;
  if (typeof SharedArrayBuffer === "undefined") {
    throw new ConfigError("ONNX Runtime Web needs SharedArrayBuffer: serve the page cross-origin isolated (COOP/COEP headers)");
  }
  const control = new Int32Array(new SharedArrayBuffer(8));
  const reply = replyBuffer();
  const info = await new Promise<OnnxWebInfo>((resolve, reject) => {
    const listener = ({ data }: { data: unknown }) => {
      endpoint.removeEventListener("message", listener);
      const answer = data as { info?: OnnxWebInfo; error?: string };
      if (answer.info) resolve(answer.info);
      else reject(new UnsupportedError(`ONNX Runtime Web did not start: ${answer.error}`));
    };
    endpoint.addEventListener("message", listener);
    endpoint.start?.();
    const init: WebRequest = { op: "init", control: control.buffer as SharedArrayBuffer, reply, threads, provider };
    endpoint.postMessage(init);
  });
  connection = { endpoint, control, reply, timeoutMs, info };
  Object.assign(waited, { calls: 0, ms: 0 });
  return info;
}

/** The connection's info, or null before `useOnnxRuntimeWeb`. */
export function onnxRuntimeWeb(): OnnxWebInfo | null {
  return connection?.info ?? null;
}

/** A new session number. */
export function nextSession(): number {
  return ++sessions;
}

/** Send `request` and block until its reply (tensors, for "run" and "read"). */
export function callWeb(request: WebRequest): HostTensor[] {
  if (!connection) {
    throw new ConfigError("no ONNX Runtime in this browser yet: call useOnnxRuntimeWeb first (or use the jax backend)");
  }
  const { endpoint, control, reply, timeoutMs } = connection;
  const start = performance.now();
  Atomics.store(control, 0, PENDING);
  endpoint.postMessage(request);
  try {
    return awaitReply(control, reply, timeoutMs);
  } finally {
    waited.calls++;
    waited.ms += performance.now() - start;
  }
}
