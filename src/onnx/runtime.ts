/**
 * ONNX Runtime sessions, run synchronously on the calling thread, whichever ONNX Runtime the
 * environment has: onnxruntime-node's native binding on Node (./session.ts), ONNX Runtime Web in
 * another worker under a bundler's "browser" condition (./session.browser.ts, connected by
 * `useOnnxRuntimeWeb`). package.json "imports" `#onnx/session` picks the one; both hold a training
 * state between runs, so only batches and scalars travel per call.
 */

export { OnnxSession } from "#onnx/session";
export { type HostTensor, type SessionCore, type SessionOptions, toHost } from "./tensor.js";
