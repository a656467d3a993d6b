/**
 * "vdm/onnx-web": the ONNX Runtime Web worker's side of ./wire.ts: it opens sessions, runs them and writes each reply
 * into the shared buffer the library's worker is blocked on. The worker's script passes ONNX Runtime
 * Web in, so the library does not depend on it (an example at `serveOnnxRuntime`).
 *
 * @packageDocumentation
 */

import { UnsupportedError } from "../errors.js";
import type { HostTensor } from "./tensor.js";
import { type WebProvider, type WebRequest, writeError, writeReply } from "./wire.js";

/** What the server uses of ONNX Runtime Web (an optional dependency: described here, not imported). */
export interface OrtWeb {
  env: { versions?: { web?: string }; logLevel?: string; wasm: { numThreads?: number; proxy?: boolean } };
  Tensor: new (type: "float32" | "int32", data: Float32Array | Int32Array, dims: readonly number[]) => OrtWebTensor;
  InferenceSession: {
    /** a session of `model` (ONNX bytes) */
    create(model: Uint8Array, options: object): Promise<OrtWebSession>;
  };
}
/** An ONNX Runtime Web tensor, as the server reads it. */
export interface OrtWebTensor {
  readonly data: unknown;
  readonly dims: readonly number[];
}
/** An ONNX Runtime Web session, as the server uses it. */
export interface OrtWebSession {
  /** the outputs `fetches` for `feeds` */
  run(feeds: Record<string, OrtWebTensor>, fetches: string[]): Promise<Record<string, OrtWebTensor>>;
  /** free the session */
  release(): Promise<void>;
}

/** The worker's global scope, as the server uses it. */
export interface ServerScope {
  /** answer the library's worker (the connection's first reply) */
  postMessage(message: unknown): void;
  /** receive its requests */
  addEventListener(type: "message", listener: (event: { data: unknown }) => void): void;
}

interface Served {
  session: OrtWebSession;
  /** inputs kept between runs, by name */
  held: Record<string, OrtWebTensor>;
}

/** A GPU adapter's description, or null where the browser has no WebGPU adapter. */
async function gpuAdapter(): Promise<string | null> {
  const gpu = (globalThis as { navigator?: { gpu?: { requestAdapter(): Promise<{ info?: Record<string, string> } | null> } } }).navigator
    ?.gpu;
  const adapter = gpu ? await gpu.requestAdapter() : null;
  if (!adapter) return null;
  const info = adapter.info ?? {};
  return [info.vendor, info.architecture, info.description].filter(Boolean).join(" ") || "unnamed adapter";
}

/**
 * Serve ONNX Runtime Web to one library worker (`useOnnxRuntimeWeb`) from this worker's `scope`:
 * its first message ("init") loads ONNX Runtime Web for the provider asked (`load`), and every
 * later request runs one session call. Requests are served one at a time, in order.
 *
 * @example
 * ```ts
 * // ort-worker.ts, the worker the library's worker passes to `useOnnxRuntimeWeb`
 * import { serveOnnxRuntime } from "vdm/onnx-web";
 * serveOnnxRuntime(self, (provider) => (provider === "webgpu" ? import("onnxruntime-web/webgpu") : import("onnxruntime-web/wasm")));
 * ```
 */
export function serveOnnxRuntime(scope: ServerScope, load: (provider: WebProvider) => Promise<OrtWeb>): void {
  let ort: OrtWeb;
  let control: Int32Array;
  let reply: SharedArrayBuffer;
  let providers: string[];
  const sessions = new Map<number, Served>();
  const tensor = (t: HostTensor) => new ort.Tensor(t.data instanceof Int32Array ? "int32" : "float32", t.data, t.dims);
  const host = (t: OrtWebTensor): HostTensor => ({ data: t.data as Float32Array | Int32Array, dims: [...t.dims] });
  const served = (n: number) => {
    const s = sessions.get(n);
    if (!s) throw new UnsupportedError(`no session ${n} (closed, or opened before the last init)`);
    return s;
  };

  async function init(request: Extract<WebRequest, { op: "init" }>): Promise<void> {
    try {
      const adapter = await gpuAdapter();
      if (request.provider === "webgpu" && !adapter) throw new UnsupportedError("this browser has no WebGPU adapter");
      ort = await load(request.provider);
      ort.env.wasm.numThreads = request.threads;
      ort.env.wasm.proxy = false;
      ort.env.logLevel = "error";
      control = new Int32Array(request.control);
      reply = request.reply;
      providers = [request.provider];
      const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated;
      const info = {
        provider: request.provider,
        threads: isolated ? request.threads : 1,
        version: ort.env.versions?.web ?? "unknown",
        adapter,
      };
      scope.postMessage({ info });
    } catch (err) {
      scope.postMessage({ error: (err as Error).message ?? String(err) });
    }
  }

  async function answer(request: Exclude<WebRequest, { op: "init" }>): Promise<HostTensor[]> {
    switch (request.op) {
      case "open": {
        const session = await ort.InferenceSession.create(request.model, {
          executionProviders: providers,
          graphOptimizationLevel: "all",
          enableMemPattern: false,
        });
        sessions.set(request.session, { session, held: {} });
        return [];
      }
      case "run": {
        const { session, held } = served(request.session);
        const feeds = { ...held };
        for (const [name, t] of Object.entries(request.feeds)) feeds[name] = tensor(t);
        const out = await session.run(feeds, [...request.outputs, ...Object.keys(request.carry)]);
        for (const [o, i] of Object.entries(request.carry)) held[i] = out[o]!;
        return request.outputs.map((name) => host(out[name]!));
      }
      case "hold": {
        const { held } = served(request.session);
        for (const [name, t] of Object.entries(request.tensors)) held[name] = tensor(t);
        return [];
      }
      case "read": {
        const { held } = served(request.session);
        return request.names.map((name) => host(held[name]!));
      }
      case "close": {
        const s = sessions.get(request.session);
        sessions.delete(request.session);
        await s?.session.release();
        return [];
      }
    }
  }

  let queue = Promise.resolve();
  scope.addEventListener("message", ({ data }) => {
    const request = data as WebRequest;
    if (request.op === "init") {
      queue = queue.then(() => init(request));
      return;
    }
    queue = queue.then(() =>
      answer(request).then(
        (tensors) => writeReply(control, reply, tensors),
        (err) => writeError(control, reply, (err as Error).message ?? String(err)),
      ),
    );
  });
}
