/**
 * The U-Net on a tiny instance in float64 (exact cpu device): the gradient of its squared-error
 * loss against central differences for parameters spread over every kind of layer, and the
 * errors a wrong configuration gets.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { exactArray, Rng } from "../engine/index.js";
import { numpy as np } from "../engine/jax.js";
import { assertGradientAtPicks, exactParamsLike, exactValues } from "../testing/gradient-check.js";
import { useEngine } from "../testing/helpers.js";
import { initUNet, type UNetConfig, type UNetParams, unetForward, validateUNet } from "./unet.js";

useEngine("cpu");

const config: UNetConfig = {
  shape: [4, 4, 1],
  base: 4,
  multipliers: [1, 2],
  attention: [1],
  heads: 2,
  groups: 2,
  timeEmbedding: 4,
  classes: 3,
};
/** Every parameter set to deterministic float64 values (the zero-initialised output layers included, so all paths carry gradient). */
function exactParams(): UNetParams {
  return exactParamsLike(initUNet(config, new Rng(0))) as UNetParams;
}

const B = 2;
const x = () => exactArray(exactValues(B * 16, 101)).reshape([B, 4, 4, 1]);
const t = () => exactArray([0.3, 0.8]);
const target = () => exactArray(exactValues(B * 16, 202)).reshape([B, 4, 4, 1]);
const labels = () => np.array(new Int32Array([2, 3]), { dtype: np.int32, device: "cpu" }); // class 2 and "no label"

const loss = (params: UNetParams) => np.sum(np.square(unetForward(params, x(), t(), config, labels()).sub(target())));

describe("U-Net (float64)", () => {
  it("the gradient of its squared-error loss matches central differences in every kind of layer", () => {
    const picks = [
      "input.w",
      "down.0.block.conv1.w",
      "down.1.block.skip.w",
      "down.1.attention.qkv.w",
      "middle.attention.out.w",
      "middle.second.norm2.scale",
      "up.0.block.conv2.w",
      "up.1.block.time.w",
      "embed.0.w",
      "label",
      "output.conv.w",
    ];
    assertGradientAtPicks(loss, exactParams(), picks); // in `label`: class 2's row
  });

  it("maps [B, H, W, C] to the same shape, and a classifier head to [B, classes]", () => {
    const out = unetForward(exactParams(), x(), t(), config, labels());
    assert.deepEqual(out.shape, [B, 4, 4, 1]);
    out.dispose();
    const classifier = { ...config, outputs: 5 };
    delete classifier.classes;
    const logits = unetForward(initUNet(classifier, new Rng(1)), x(), t(), classifier);
    assert.deepEqual(logits.shape, [B, 5]);
    logits.dispose();
  });

  it("rejects shapes the levels cannot halve, and channels that groups or heads do not divide", () => {
    assert.throws(() => validateUNet({ ...config, shape: [6, 6, 1], multipliers: [1, 2, 2] }), /divisible by 4, got 6×6/);
    assert.throws(() => validateUNet({ ...config, groups: 3 }), /do not split into 3 groups/);
    assert.throws(() => validateUNet({ ...config, heads: 3 }), /do not split into 3 heads/);
  });
});
