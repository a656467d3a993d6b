/**
 * A latent model's decoder of samples in ONNX Runtime: x̂(z'·std + mean), traced once per batch size
 * (the autoencoder's weights held in the graph) and run in a session of its own, so that with
 * `--backend onnx` decoding is no slower than the latent denoiser's steps.
 */

import { type Array, numpy as np } from "../engine/jax.js";
import type { LatentSampling } from "../train/latent.js";
import { exportOnnx } from "./export.js";
import { OnnxSession, type SessionOptions, toHost } from "./runtime.js";

/** `latent`'s decoder in ONNX Runtime (the same shape and values as jax-js's, to float32 rounding); `close` ends its sessions. */
export function onnxLatentSampling(latent: LatentSampling, options: SessionOptions = {}): LatentSampling & { close(): void } {
  const sessions = new Map<number, OnnxSession>();
  return {
    shape: latent.shape,
    decode(latents: Array): Array {
      const m = latents.shape[0]!;
      let session = sessions.get(m);
      if (!session) {
        session = new OnnxSession(
          exportOnnx((z) => latent.decode(z), [{ name: "z", shape: [m, ...latent.shape] }]),
          options,
        );
        sessions.set(m, session);
      }
      const out = session.run({ z: toHost(latents) });
      return np.array(out.data as Float32Array).reshape(out.dims);
    },
    close() {
      for (const session of sessions.values()) session.close();
      sessions.clear();
    },
  };
}
