/**
 * A latent model's autoencoder in ONNX Runtime: the decoder of samples x̂(z'·std + mean), and the
 * encoder x → (μ(x), log σ²(x)) of a latent run's images, each traced once per batch size (the
 * autoencoder's weights held in the graph) and run in sessions of their own, so that with
 * `--backend onnx` neither is slower than the latent denoiser's steps.
 */

import { type Array, numpy as np, tree } from "../engine/jax.js";
import type { LatentAutoencoder, LatentEncoder, LatentSampling } from "../train/latent.js";
import { exportOnnx, exportOnnxOutputs } from "./export.js";
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

/**
 * `ae`'s encoder network in ONNX Runtime: x → q(z|x) = N(μ(x), diag σ²(x)), the same values as jax-js's
 * to float32 rounding; `close` ends its sessions. Consumes x (each call); borrows ae.
 */
export function onnxLatentEncoder(ae: LatentAutoencoder, options: SessionOptions = {}): { encode: LatentEncoder; close(): void } {
  const sessions = new Map<number, OnnxSession>();
  const outputs = ["mean", "logVar"];
  return {
    encode(x: Array) {
      const m = x.shape[0]!;
      let session = sessions.get(m);
      if (!session) {
        const q = (images: Array) => {
          const { mean, logVar } = ae.network.encode(tree.ref(ae.params), images);
          return [mean, logVar];
        };
        session = new OnnxSession(exportOnnxOutputs(q, [{ name: "x", shape: x.shape }], outputs), options);
        sessions.set(m, session);
      }
      const [mean, logVar] = session.runOutputs({ x: toHost(x) }, outputs).map((t) => np.array(t.data as Float32Array).reshape(t.dims));
      return { mean: mean!, logVar: logVar! };
    },
    close() {
      for (const session of sessions.values()) session.close();
      sessions.clear();
    },
  };
}
