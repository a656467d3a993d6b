/**
 * The autoencoder on tiny instances in float64 (exact cpu device): the shapes of q(z|x) and p(x|z)
 * for latents 1, 2 and 4 times smaller than the image, the gradient of a loss through encoder, draw
 * and decoder against central differences in every kind of parameter, its kind entry, and the
 * errors a wrong configuration gets.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { exactArray, Rng } from "../engine/index.js";
import { type Array, numpy as np, tree } from "../engine/jax.js";
import { assertGradientAtPicks, exactParamsLike, exactValues } from "../testing/gradient-check.js";
import { assertClose, useEngine } from "../testing/helpers.js";
import {
  type AutoencoderConfig,
  type AutoencoderParams,
  autoencoder,
  autoencoderDefaults,
  autoencoderKind,
  initAutoencoder,
} from "./autoencoder.js";

useEngine("cpu");

const config: AutoencoderConfig = { shape: [4, 4, 1], latent: [2, 2, 2], base: 4, groups: 2, klWeight: 0.01 };
/** Every parameter set to deterministic float64 values (the zero-initialised convs included, so all paths carry gradient). */
function exactParams(c: AutoencoderConfig): AutoencoderParams {
  return exactParamsLike(initAutoencoder(c, new Rng(0))) as AutoencoderParams;
}

const B = 2;
const x = () => exactArray(exactValues(B * 16, 101)).reshape([B, 4, 4, 1]);
const eps = () => exactArray(exactValues(B * 8, 7)).reshape([B, 2, 2, 2]);
const target = () => exactArray(exactValues(B * 16, 202)).reshape([B, 4, 4, 1]);

/** Σ (x̂(μ + σ ε) − target)² e^{−γ} + Σ γ + Σ μ²: every parameter, the encoder's log-variance and γ among them, reaches it. */
function loss(params: AutoencoderParams): Array {
  const ae = autoencoder(config);
  const q = ae.encode(tree.ref(params), x());
  const z = q.mean.ref.add(np.exp(q.logVar.mul(0.5)).mul(eps()));
  const { mean, gamma } = ae.decode(params, z);
  const squares = np.sum(np.square(mean.sub(target())), [1, 2, 3]);
  return np.sum(squares.mul(np.exp(np.negative(gamma.ref))).add(gamma)).add(np.sum(np.square(q.mean)));
}

describe("autoencoder (float64)", () => {
  it("the gradient of a loss through q(z|x), the draw and p(x|z) matches central differences in every kind of parameter", () => {
    const picks = [
      "encoder.input.w",
      "encoder.blocks.0.conv1.w",
      "encoder.blocks.1.skip.w",
      "encoder.blocks.1.norm2.scale",
      "encoder.output.w",
      "encoder.output.b",
      "decoder.input.b",
      "decoder.blocks.0.conv2.w",
      "decoder.norm.shift",
      "decoder.output.w",
      "gamma",
    ];
    // in encoder.output.b the last entry is a log-variance channel's bias
    assertGradientAtPicks(loss, exactParams(config), picks, (pick, size) =>
      pick === "encoder.output.b" ? size - 1 : Math.floor(size * 0.55),
    );
  });

  it("encodes [B, H, W, C] to a mean and log-variance [B, h, w, c] and decodes back to [B, H, W, C] with γ [B], for H/h = 1, 2, 4", () => {
    for (const [shape, latent] of [
      [
        [4, 4, 1],
        [4, 4, 3],
      ],
      [
        [8, 4, 3],
        [4, 2, 2],
      ],
      [
        [28, 28, 1],
        [7, 7, 4],
      ],
    ] as [number, number, number][][]) {
      const c = { ...config, shape: shape as [number, number, number], latent: latent as [number, number, number] };
      const ae = autoencoder(c);
      assert.deepEqual(ae.latentShape, latent);
      assert.equal(ae.klWeight, config.klWeight);
      const params = initAutoencoder(c, new Rng(1));
      const q = ae.encode(tree.ref(params), new Rng(2).normal([3, ...shape!]));
      assert.deepEqual(q.mean.shape, [3, ...latent!]);
      assert.deepEqual(q.logVar.shape, [3, ...latent!]);
      const { mean, gamma } = ae.decode(params, q.mean);
      q.logVar.dispose();
      assert.deepEqual(mean.shape, [3, ...shape!]);
      // an untrained decoder's output conv is zero: x̂ = 0, and γ starts at log 0.1²
      assertClose(mean.dataSync() as Float32Array, new Float64Array(3 * shape!.reduce((a, b) => a * b)), { label: "x̂ at init" });
      assertClose(
        gamma.dataSync() as Float32Array,
        [1, 2, 3].map(() => autoencoderDefaults.gamma),
        { rtol: 1e-6, label: "γ at init" },
      );
    }
  });

  it("its kind: latents [H/4, W/4, 4] and β 1e−3 by default, the user's latent, base and β otherwise; ε latent-shaped; no labels", () => {
    const target = { spec: "fashion-mnist", dim: 784, shape: [28, 28, 1] };
    const made = autoencoderKind.configure!(target, {});
    assert.deepEqual(made, { shape: [28, 28, 1], latent: [7, 7, 4], base: 32, groups: 8, klWeight: 1e-3 });
    const chosen = autoencoderKind.configure!(target, { unet: { base: 16 }, autoencoder: { latent: [14, 14, 2], klWeight: 0.1 } });
    assert.deepEqual(chosen, { shape: [28, 28, 1], latent: [14, 14, 2], base: 16, groups: 8, klWeight: 0.1 });
    assert.deepEqual(autoencoderKind.noiseShape!(chosen), [14, 14, 2]);
    assert.equal(autoencoderKind.labelClasses(chosen), 0);
    assert.equal(autoencoderKind.objective, "autoencoder");
    assert.throws(() => autoencoderKind.configure!({ spec: "moons", dim: 2 }, {}), /needs image data/);
    assert.throws(() => autoencoderKind.configure!({ ...target, outputs: 10 }, {}), /neither a classifier/);
  });

  it("rejects latents that are not the image halved k times, and channels the groups do not divide", () => {
    assert.throws(() => autoencoder({ ...config, latent: [3, 3, 2] }), /must divide a 4×4 image by a power of 2/);
    assert.throws(() => autoencoder({ ...config, latent: [2, 4, 2] }), /by a power of 2 in both height and width/);
    assert.throws(() => autoencoder({ ...config, latent: [8, 8, 2] }), /power of 2/);
    assert.throws(() => initAutoencoder({ ...config, base: 6, groups: 4 }, new Rng(0)), /6 base channels do not split into 4 groups/);
  });
});
