/**
 * ONNX Runtime Web's worker: the library's worker (worker.ts) sends it each session call and waits for
 * the reply in shared memory ("vdm/onnx-web"). The wasm build (threads, SIMD) or the WebGPU one is
 * loaded on the first message, as the page asks.
 */

import { type OrtWeb, serveOnnxRuntime } from "vdm/onnx-web";

serveOnnxRuntime(
  self as unknown as Parameters<typeof serveOnnxRuntime>[0],
  async (provider) =>
    (provider === "webgpu" ? await import("onnxruntime-web/webgpu") : await import("onnxruntime-web/wasm")) as unknown as OrtWeb,
);
