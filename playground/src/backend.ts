/**
 * The worker's backend: ONNX Runtime Web (wasm, or WebGPU where the browser has an adapter) in a worker
 * of its own (ort-worker.ts), connected with the library's `onnx.useOnnxRuntimeWeb`, or jax-js. Every
 * tab's network runs through `fastDenoiser` and every training run through `stepper()`, so the switch
 * changes where all of them run.
 */

import { type Denoiser, onnx, threads, training } from "vdm/browser";
import type { BackendInfo, BackendName } from "./protocol.js";

let active: BackendName = "jax";
let detail = "jax-js";
let ortWorker: Worker | null = null;
/** ONNX Runtime Web's threads (default: jax-js's) and training steps per call (default: the library's), from the page's URL */
let tuning: { threads?: number; chunk?: number } = {};

/** Set ONNX Runtime Web's threads and the training steps per call (the page's ?threads= and ?chunk=). */
export function tune(t: { threads?: number; chunk?: number }): void {
  tuning = t;
}

/** Switch to `name`; a backend that cannot start falls back (WebGPU to wasm, wasm to jax-js), saying why. */
export async function useBackend(name: BackendName): Promise<BackendInfo> {
  ortWorker?.terminate();
  ortWorker = null;
  active = "jax";
  detail = "jax-js (WebAssembly)";
  if (name !== "jax") {
    const worker = new Worker(new URL("./ort-worker.ts", import.meta.url), { type: "module" });
    try {
      const info = await onnx.useOnnxRuntimeWeb(worker, { provider: name, threads: tuning.threads ?? Math.max(1, threads) });
      ortWorker = worker;
      active = name;
      detail = `ONNX Runtime Web ${info.version} (${name === "webgpu" ? `WebGPU: ${info.adapter}` : "wasm, SIMD"}, ${info.threads} thread${info.threads > 1 ? "s" : ""})`;
    } catch (err) {
      worker.terminate();
      const why = (err as Error).message;
      // WebGPU that cannot start leaves ONNX Runtime Web's wasm; wasm that cannot, jax-js
      if (name === "webgpu") {
        const fallback = await useBackend("wasm");
        detail = `${fallback.detail}: WebGPU could not start (${why})`;
        return { backend: active, detail };
      }
      detail = `jax-js: ONNX Runtime Web could not start (${why})`;
    }
  }
  return { backend: active, detail };
}

/** The backend in use and, in words, what it is. */
export const backendNow = (): BackendInfo => ({ backend: active, detail });

/** Whether networks run in ONNX Runtime Web. */
export const fast = () => active !== "jax";

/** The steps' runner for a training run on the backend in use. */
export const stepper = (): training.StepperFactory =>
  fast() ? onnx.onnxStepper(tuning.chunk ? { chunk: tuning.chunk } : {}) : training.jaxStepper;

/** The ONNX models in use, one per slot (the trained model, the shipped one, each oracle), with the key they were made for. */
const cache = new Map<string, { id: string; den: Denoiser; close(): void }>();

/**
 * The denoiser `make()` builds, with its network in ONNX Runtime Web when that is the backend:
 * exported once per `key` in its `slot` (a new key closes the slot's old export). On jax-js, `make()`.
 */
export function fastDenoiser(slot: string, key: string, make: () => Denoiser): Denoiser {
  if (!fast()) return make();
  const id = `${key}|${active}`;
  const hit = cache.get(slot);
  if (hit?.id === id) return hit.den;
  hit?.close();
  const den = make();
  const model = onnx.onnxModel(den.model, den.params);
  const entry = { id, den: { model, params: den.params }, close: () => model.close() };
  cache.set(slot, entry);
  return entry.den;
}

/** Close every cached ONNX model (the backend changed). */
export function dropFast(): void {
  for (const e of cache.values()) e.close();
  cache.clear();
}
