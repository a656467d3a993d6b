/** The decoders against direct formulas: normalisation over the 256 values, Gaussian density. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { exactArray } from "../engine/index.js";
import { numpy as np } from "../engine/jax.js";
import { assertClose, useEngine } from "../testing/helpers.js";
import { discretizedLogLikelihood, gaussianLogLikelihood } from "./decoder.js";

useEngine("wasm");

describe("decoders", () => {
  it("discretized: p(x_0 = x_k | x_1) sums to 1 over the 256 values and matches a direct softmax", () => {
    const grid = Array.from({ length: 256 }, (_, k) => (2 * k) / 255 - 1);
    for (const [mean, gamma] of [
      [0.1, -8],
      [-0.97, -5],
      [1.3, -11],
      [0.0, 2],
    ] as const) {
      const x0 = np.array(grid).reshape([256, 1]);
      const logp = discretizedLogLikelihood(x0, np.full([256, 1], mean), np.full([256], gamma)).dataSync() as Float32Array;
      const total = logp.reduce((s, v) => s + Math.exp(v), 0);
      assert.ok(Math.abs(total - 1) < 1e-4, `mean ${mean}, γ ${gamma}: Σ p = ${total}`);
      const logits = grid.map((x) => -0.5 * Math.exp(-gamma) * (mean - x) ** 2);
      const max = Math.max(...logits);
      const lse = max + Math.log(logits.reduce((s, l) => s + Math.exp(l - max), 0));
      const peak = grid.reduce((best, x, k) => (Math.abs(x - mean) < Math.abs(grid[best]! - mean) ? k : best), 0);
      // compare where the mass is (away from the mass, float32 log-probs are large negative numbers)
      assertClose([logp[peak]!], [logits[peak]! - lse], { rtol: 1e-4, atol: 1e-4, label: `log p at the mode` });
    }
  });

  it("discretized: 8-bit data sums over dimensions", () => {
    const x0 = np.array([
      [-1, 1],
      [0.0039215686, -0.0039215686],
    ]); // k = 0, 255; 128, 127
    // x̂_0 on the data value, SNR e^14: a neighbour one bin (2/255) away has logit −½·(2/255)²·e^14 ≈ −37
    const sharp = discretizedLogLikelihood(x0.ref, x0.ref, np.full([2], -14)).dataSync() as Float32Array;
    for (const v of sharp) assert.ok(v > -1e-5 && v <= 1e-6, `log p ${v}`);
    // SNR e^12: neighbours at logit −5.01; an edge value has one, an interior value two, per dimension
    const soft = discretizedLogLikelihood(x0.ref, x0, np.full([2], -12)).dataSync() as Float32Array;
    const logit = -0.5 * (2 / 255) ** 2 * Math.exp(12);
    assertClose(soft, [-2 * Math.log1p(Math.exp(logit)), -2 * Math.log1p(2 * Math.exp(logit))], { rtol: 2e-3, label: "edge and interior" });
  });

  it("gaussian: Σ_d log N(x_0; x̂_0, e^{γ}) (float64)", () => {
    const x0 = [0.3, -1.2, 2.0, 0.5];
    const mean = [0.1, -1.0, 2.5, 0.5];
    const gamma = [-3, 1];
    const got = gaussianLogLikelihood(exactArray(x0).reshape([2, 2]), exactArray(mean).reshape([2, 2]), exactArray(gamma));
    const want = [0, 1].map((b) =>
      [0, 1].reduce((s, d) => {
        const v = Math.exp(gamma[b]!);
        return s - 0.5 * Math.log(2 * Math.PI * v) - (x0[2 * b + d]! - mean[2 * b + d]!) ** 2 / (2 * v);
      }, 0),
    );
    assertClose(got.dataSync() as Float64Array, want, { rtol: 1e-12, label: "gaussian decoder" });
  });
});
