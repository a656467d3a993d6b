/**
 * Latent runs' pieces: the config's `latent` field (its errors name the field), the per-channel
 * normalisation against a float64 two-pass reference, the latents of a linear autoencoder against
 * their closed form, and the decoder of samples undoing the normalisation.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { filled, Rng } from "../engine/index.js";
import { type Array as JaxArray, numpy as np } from "../engine/jax.js";
import { ConfigError } from "../errors.js";
import type { Autoencoder } from "../models/kind.js";
import { assertClose, useEngine } from "../testing/helpers.js";
import { type RunConfig, validateRunConfig } from "./config.js";
import { makeRunConfig } from "./defaults.js";
import { channelNormalization, encodeImages, type LatentAutoencoder, latentRun } from "./latent.js";

useEngine();

const SHAPE = [2, 2, 3];
const C = 3;
const images = { spec: "fashion-mnist", dim: 12, mean: [0, 0, 0], std: [1, 1, 1], train: 8, test: 2, shape: SHAPE };
const latentConfig = (): RunConfig => ({
  ...makeRunConfig(images, { steps: 4, batch: 2, unet: { base: 8, multipliers: [1], attention: [] } }),
  latent: { autoencoder: "ae", shape: SHAPE },
});

/** q(z|x) = N(2x − 1, 0.25² I) and x̂(z) = z/2 + 1/2 on images of SHAPE (the latents are the images' shape). */
const linear: Autoencoder = {
  latentShape: SHAPE,
  encode: (_params, x: JaxArray) => ({ mean: x.ref.mul(2).sub(1), logVar: np.fullLike(x, 2 * Math.log(0.25)) }),
  decode: (_params, z: JaxArray) => ({ gamma: filled(z.shape[0]!, 0), mean: z.mul(0.5).add(0.5) }),
};
const linearAutoencoder = (): LatentAutoencoder => ({
  config: { data: { ...images, mean: [0], std: [1] } } as unknown as RunConfig,
  network: linear,
  params: {},
});

describe("latent runs", () => {
  it("the latent field's errors name the field", () => {
    const good = latentConfig();
    assert.equal(validateRunConfig(good).latent?.shape.join(), "2,2,3");
    const cases: [unknown, RegExp][] = [
      [{ shape: SHAPE }, /field "latent\.autoencoder" is missing/],
      [{ autoencoder: "ae", shape: [2, 2] }, /field "latent\.shape" must have 3 entries/],
      [{ autoencoder: "ae", shape: [2, 2, 0] }, /field "latent\.shape\[2\]" must be a positive integer/],
      [{ autoencoder: "ae", shape: [2, 3, 2] }, /field "latent\.shape" must equal data\.shape/],
      ["ae", /field "latent" must be an object/],
    ];
    for (const [latent, pattern] of cases)
      assert.throws(
        () => validateRunConfig({ ...good, latent }),
        (e) => e instanceof ConfigError && pattern.test(e.message),
      );
  });

  it("normalises the latents per channel (the last axis), against a float64 two-pass reference", () => {
    const n = 5;
    const points = Float32Array.from({ length: n * 12 }, (_, i) => Math.sin(i * 1.7) * (1 + (i % C)) + (i % C));
    const z = channelNormalization({ points, n, dim: 12, shape: SHAPE });
    for (let c = 0; c < C; c++) {
      const values = [...points].filter((_, i) => i % C === c);
      const mean = values.reduce((s, v) => s + v, 0) / values.length;
      const std = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length);
      assertClose([z.mean[c]!, z.std[c]!], [mean, std], { rtol: 1e-9, label: `channel ${c}` });
    }
  });

  it("encodes each image to one draw z = μ(x) + σ(x) ε of its encoder, ε from the stream", () => {
    const n = 3;
    const x = Float32Array.from({ length: n * 12 }, (_, i) => (i % 7) / 7);
    const set = encodeImages(linearAutoencoder(), { points: x, n, dim: 12, labels: Int32Array.from([2, 0, 1]) }, new Rng(4));
    const eps = new Rng(4).normal([n, ...SHAPE]).dataSync() as Float32Array;
    assertClose(
      set.points,
      Float32Array.from(x, (v, i) => 2 * v - 1 + 0.25 * eps[i]!),
      { atol: 1e-6, label: "z" },
    );
    assert.deepEqual([...set.labels!], [2, 0, 1]);
    assert.deepEqual(set.shape, SHAPE);
  });

  it("decodes normalised latents: x̂(z'·std + mean)", () => {
    const config = { ...latentConfig(), data: { ...latentConfig().data, mean: [1, -2, 0.5], std: [2, 0.5, 3] } };
    const run = latentRun(config, linearAutoencoder());
    const zn = Float32Array.from({ length: 12 }, (_, i) => i / 12 - 0.4);
    const x = run.decode(np.array(zn).reshape([1, ...SHAPE])).dataSync() as Float32Array;
    const { mean, std } = config.data;
    assertClose(
      x,
      Float32Array.from(zn, (v, i) => (v * std[i % C]! + mean[i % C]!) / 2 + 0.5),
      { atol: 1e-6, label: "x̂" },
    );
  });
});
