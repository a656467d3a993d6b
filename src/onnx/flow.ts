/**
 * The probability-flow drift and its divergence (diffusion/flow.ts) run by ONNX Runtime: the whole
 * of `flowWithDivergence` — the network, its forward-mode products and the drift's arithmetic — is
 * traced by jax-js and exported once per input shape, so the ODE likelihood of image models runs at
 * ONNX Runtime's speed. Inputs x, t, γ, probe; outputs drift, divergence.
 */

import { type FlowFunction, flowWithDivergence } from "../diffusion/flow.js";
import type { Model } from "../diffusion/model.js";
import { type Array, type JsTree, numpy as np, tree } from "../engine/jax.js";
import { exportOnnxOutputs } from "./export.js";
import { OnnxSession, type SessionOptions, toHost } from "./runtime.js";

/** A `FlowFunction` for `model` at `params` (borrowed; keep them alive) in ONNX Runtime, with `close()` for its sessions. */
export function onnxFlow(
  model: Model,
  params: JsTree<Array>,
  exact: boolean,
  options: SessionOptions = {},
): FlowFunction & { close(): void } {
  const sessions = new Map<string, OnnxSession>();
  const flow = (p: JsTree<Array>, x: Array, t: Array, gamma: Array, probe: Array) => {
    tree.dispose(p);
    const shape = x.shape;
    const key = shape.join("×");
    let session = sessions.get(key);
    if (!session) {
      const B = shape[0]!;
      const bytes = exportOnnxOutputs(
        (xs, ts, gs, vs) => {
          const value = flowWithDivergence(model, tree.ref(params), xs!, ts!, gs!, exact ? null : vs!);
          if (exact) vs!.dispose();
          return [value.drift, value.divergence];
        },
        [
          { name: "x", shape: [...shape] },
          { name: "t", shape: [B] },
          { name: "gamma", shape: [B] },
          { name: "probe", shape: exact ? [1] : [...shape] },
        ],
        ["drift", "divergence"],
      );
      session = new OnnxSession(bytes, options);
      sessions.set(key, session);
    }
    const [drift, divergence] = session.runOutputs({ x: toHost(x), t: toHost(t), gamma: toHost(gamma), probe: toHost(probe) }, [
      "drift",
      "divergence",
    ]);
    return {
      drift: np.array(drift!.data as Float32Array).reshape(drift!.dims),
      divergence: np.array(divergence!.data as Float32Array).reshape(divergence!.dims),
    };
  };
  return Object.assign(flow, {
    close() {
      for (const s of sessions.values()) s.close();
      sessions.clear();
    },
  });
}
