/**
 * The ONNX backend: any jax-js function exported as an ONNX graph, denoising networks and whole
 * training steps run in ONNX Runtime, and the choice between it and jax-js. The `onnx` namespace of "vdm":
 * "vdm/browser"'s (./browser.ts) and the probe of onnxruntime-node.
 */
export { type BackendChoice, type BackendName, backendNames, chooseBackend, onnxRuntimeLoads } from "./available.js";
export * from "./browser.js";
