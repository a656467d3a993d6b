/**
 * A latent model's decoder in ONNX Runtime against jax-js: a nonlinear decoder x̂(z) = tanh(W z + b)
 * (a dense layer over every latent value) after the run's per-channel normalisation is undone, for
 * two batch sizes (one session each).
 */
import { describe, it } from "node:test";
import { filled, Rng } from "../engine/index.js";
import { type Array as JaxArray, numpy as np } from "../engine/jax.js";
import { assertClose, useEngine } from "../testing/helpers.js";
import type { RunConfig } from "../train/config.js";
import { type LatentAutoencoder, latentRun } from "../train/latent.js";
import { onnxLatentSampling } from "./latent.js";

useEngine("wasm");

const SHAPE = [2, 2, 3];
const D = 12;

describe("a latent model's decoder in ONNX Runtime", () => {
  it("gives jax-js's images", () => {
    const w = np.array(new Rng(1).normal([D, D]).dataSync() as Float32Array).reshape([D, D]);
    const b = np.array(new Rng(2).normal([D]).dataSync() as Float32Array);
    const ae: LatentAutoencoder = {
      config: { data: { spec: "fashion-mnist", dim: D, mean: [0], std: [1], train: 1, test: 1, shape: SHAPE } } as unknown as RunConfig,
      network: {
        latentShape: SHAPE,
        encode: (_p, x: JaxArray) => ({ mean: x.ref, logVar: np.zerosLike(x) }),
        decode: (params, z: JaxArray) => {
          const { w, b } = params as { w: JaxArray; b: JaxArray };
          const m = z.shape[0]!;
          return { gamma: filled(m, 0), mean: np.tanh(np.matmul(z.reshape([m, D]), w).add(b)).reshape([m, ...SHAPE]) };
        },
      },
      params: { w, b },
    };
    const config = {
      latent: { autoencoder: "ae", shape: SHAPE },
      data: { mean: [0.5, -1, 2], std: [0.3, 2, 1.5] },
    } as unknown as RunConfig;
    const jax = latentRun(config, ae);
    const onnx = onnxLatentSampling(jax, { threads: 1 });
    try {
      for (const m of [3, 5]) {
        const z = np.array(new Rng(m).normal([m, ...SHAPE]).dataSync() as Float32Array).reshape([m, ...SHAPE]);
        const expected = jax.decode(z.ref).dataSync() as Float32Array;
        const got = onnx.decode(z).dataSync() as Float32Array;
        assertClose(got, expected, { atol: 1e-5, label: `batch ${m}` });
      }
    } finally {
      onnx.close();
    }
  });
});
