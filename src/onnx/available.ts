/**
 * Which runtime runs the networks: "onnx" (ONNX Runtime, 3–5× faster here), "jax" (jax-js), or
 * "auto": ONNX Runtime when the optional package onnxruntime-node loads in this process, jax-js
 * otherwise. The probe loads the package once (a native addon: its absence or a failed build shows
 * up here, not in the middle of a run).
 */
import { createRequire } from "node:module";

/** The runtime names `chooseBackend` accepts: "auto", "onnx" and "jax". */
export const backendNames = ["auto", "onnx", "jax"] as const;
/** A runtime choice: "auto" (ONNX Runtime when it loads, else jax-js), "onnx" or "jax". */
export type BackendName = (typeof backendNames)[number];

/** The runtime chosen and, in words, why. */
export interface BackendChoice {
  onnx: boolean;
  reason: string;
}

let probe: { loaded: boolean; detail: string } | null = null;

/** Whether onnxruntime-node loads here (probed once per process). */
export function onnxRuntimeLoads(): { loaded: boolean; detail: string } {
  if (!probe) {
    try {
      createRequire(import.meta.url)("onnxruntime-node");
      probe = { loaded: true, detail: "onnxruntime-node loaded" };
    } catch (err) {
      probe = { loaded: false, detail: `onnxruntime-node could not be loaded: ${String((err as Error).message).split("\n")[0]}` };
    }
  }
  return probe;
}

/** The runtime for `name`. */
export function chooseBackend(name: BackendName): BackendChoice {
  if (name === "jax") return { onnx: false, reason: "jax-js, as asked" };
  if (name === "onnx") return { onnx: true, reason: "ONNX Runtime, as asked" };
  const { loaded, detail } = onnxRuntimeLoads();
  return loaded ? { onnx: true, reason: `ONNX Runtime (${detail})` } : { onnx: false, reason: `jax-js (${detail}; install it for 3–5× faster networks)` };
}
