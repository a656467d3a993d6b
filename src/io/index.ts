/**
 * Checkpoints: a run's folder (config.json and state.safetensors) written atomically and read
 * back, as a full training state or as EMA weights only. The `io` namespace of "vdm".
 */
export * from "./browser.js";
export { loadCheckpoint, readCheckpointConfig, saveCheckpoint, saveWeights } from "./checkpoint.js";
