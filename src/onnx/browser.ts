/**
 * The ONNX backend without Node (the `onnx` namespace of "vdm/browser"): any jax-js function exported
 * as an ONNX graph, denoising networks and whole training steps run in ONNX Runtime — in a browser,
 * ONNX Runtime Web in a worker of its own, connected by `useOnnxRuntimeWeb` and served there by
 * `serveOnnxRuntime` ("vdm/onnx-web").
 */
export { exportOnnx, type OnnxInput } from "./export.js";
export { exportModel, type OnnxModel, onnxModel } from "./model.js";
export type { SessionOptions } from "./runtime.js";
export { onnxStepper, type StepperOptions, stepsPerCall } from "./train.js";
export { type OnnxWebInfo, type OnnxWebOptions, onnxRuntimeWeb, onnxRuntimeWebCalls, useOnnxRuntimeWeb, type WebEndpoint } from "./web.js";
export type { WebProvider } from "./wire.js";
