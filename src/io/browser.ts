/**
 * Checkpoint bytes without a file system: a training state or EMA weights encoded as safetensors
 * (the bytes `saveCheckpoint` and `saveWeights` write), for a page to offer as downloads. The `io`
 * namespace of "vdm/browser"; "vdm"'s adds reading and writing checkpoint folders (./index.ts).
 */
export { encodeTrainingState, encodeWeights, type TrainingState } from "./state.js";
