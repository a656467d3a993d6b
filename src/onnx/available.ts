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

/**
 * Where onnxruntime-node is looked for: the install's own node_modules, then vendor/node_modules of
 * this package, where its postinstall (bin/postinstall.js) unpacks the npm package when npm dropped
 * the optional dependency (its own postinstall fails where the CUDA download cannot be reached).
 */
const searchFrom = [import.meta.url, new URL("../../vendor/", import.meta.url).href];

/** How to get ONNX Runtime when it does not load (its CPU binaries need no download; "skip" skips the CUDA one). */
export const onnxRuntimeFix = "npm install onnxruntime-node --onnxruntime-node-install=skip";

let probe: { loaded: boolean; detail: string; require?: NodeJS.Require } | null = null;

/** Whether onnxruntime-node loads here (probed once per process), and the `require` that finds it. */
export function onnxRuntimeLoads(): { loaded: boolean; detail: string; require?: NodeJS.Require } {
  if (!probe) {
    const errors: string[] = [];
    for (const from of searchFrom) {
      const require = createRequire(from);
      try {
        require("onnxruntime-node");
        probe = {
          loaded: true,
          detail: from === searchFrom[0] ? "onnxruntime-node loaded" : "onnxruntime-node loaded from vdm's vendor/ copy",
          require,
        };
        break;
      } catch (err) {
        errors.push(String((err as Error).message).split("\n")[0]!);
      }
    }
    probe ??= { loaded: false, detail: `onnxruntime-node could not be loaded: ${errors[0]}` };
  }
  return probe;
}

/** The runtime for `name`. */
export function chooseBackend(name: BackendName): BackendChoice {
  if (name === "jax") return { onnx: false, reason: "jax-js, as asked" };
  if (name === "onnx") return { onnx: true, reason: "ONNX Runtime, as asked" };
  const { loaded, detail } = onnxRuntimeLoads();
  return loaded
    ? { onnx: true, reason: `ONNX Runtime (${detail})` }
    : { onnx: false, reason: `jax-js (${detail}): training and sampling run 3–5× slower than with ONNX Runtime. Fix: ${onnxRuntimeFix}` };
}
