/**
 * The ONNX backend: any jax-js function exported as an ONNX graph, denoising networks and whole
 * training steps run in ONNX Runtime, and the choice between it and jax-js. The `onnx` namespace of "vdm".
 */
export { type BackendChoice, type BackendName, backendNames, chooseBackend, onnxRuntimeLoads } from "./available.js";
export { exportOnnx, type OnnxInput } from "./export.js";
export { exportModel, type OnnxModel, onnxModel } from "./model.js";
export type { SessionOptions } from "./runtime.js";
export { onnxStepper, type StepperOptions, stepsPerCall } from "./train.js";
