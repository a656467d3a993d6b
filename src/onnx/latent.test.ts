/**
 * A latent model's autoencoder in ONNX Runtime against jax-js: a nonlinear decoder x̂(z) = tanh(W z + b)
 * (a dense layer over every latent value) after the run's per-channel normalisation is undone, for
 * two batch sizes (one session each); and the convolutional encoder's draws z = μ(x) + σ(x) ε of
 * Fashion-MNIST images (the bundled subset), the same ε drawn on either side.
 */
import { describe, it } from "node:test";
import { bundledFashionMnist } from "../data/images.js";
import { loadSplit, subset } from "../data/index.js";
import { filled, Rng } from "../engine/index.js";
import { type Array as JaxArray, numpy as np } from "../engine/jax.js";
import { assertClose, useEngine } from "../testing/helpers.js";
import { buildAutoencoder, initParams } from "../train/build.js";
import type { RunConfig } from "../train/config.js";
import { runConfigFor } from "../train/defaults.js";
import { encodeImages, type LatentAutoencoder, latentRun } from "../train/latent.js";
import { onnxLatentEncoder, onnxLatentSampling } from "./latent.js";

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

  it("its encoder gives jax-js's latents z = μ(x) + σ(x) ε, the same ε drawn on either side", () => {
    const split = loadSplit("fashion-mnist", 0, { train: 0, test: 0, dataDir: bundledFashionMnist });
    const options = { architecture: "autoencoder" as const, unet: { base: 8 }, autoencoder: { latent: [7, 7, 2] }, seed: 3 };
    const config = runConfigFor("fashion-mnist", split, options, { dataDir: bundledFashionMnist });
    const ae: LatentAutoencoder = { config, network: buildAutoencoder(config), params: initParams(config, new Rng(1)) };
    // 53 images: a batch of 50 and one of 3, a session each
    const images = subset(
      split.test,
      Array.from({ length: 53 }, (_, i) => i),
    );
    const expected = encodeImages(ae, images, new Rng(7));
    const onnx = onnxLatentEncoder(ae, { threads: 1 });
    try {
      const got = encodeImages(ae, images, new Rng(7), { encoder: onnx.encode });
      assertClose(got.points, expected.points, { rtol: 1e-4, atol: 1e-5, label: "latents" });
    } finally {
      onnx.close();
    }
  });
});
