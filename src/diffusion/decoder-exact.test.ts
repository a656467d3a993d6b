/**
 * The decoders in float64 (`cpu`) against a log-softmax and a Gaussian density written here: every
 * bin's probability (tails included, which float32 cannot resolve), other bin counts, data with
 * several dimensions, and the dispatch by kind.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { exactArray } from "../engine/index.js";
import { assertClose, useEngine } from "../testing/helpers.js";
import { decoderLogLikelihood, discretizedLogLikelihood, gaussianLogLikelihood } from "./decoder.js";

useEngine("cpu");

const read = (a: ReturnType<typeof exactArray>) => Array.from(a.dataSync() as Float64Array);

/** log p(x_k) = −½ e^{−γ}(x̂ − x_k)² − log Σ_j exp(−½ e^{−γ}(x̂ − x_j)²) on the grid x_k = 2k/(bins − 1) − 1. */
function logProbs(mean: number, gamma: number, bins: number): number[] {
  const grid = Array.from({ length: bins }, (_, k) => (2 * k) / (bins - 1) - 1);
  const logits = grid.map((x) => -0.5 * Math.exp(-gamma) * (mean - x) ** 2);
  const max = Math.max(...logits);
  const lse = max + Math.log(logits.reduce((s, l) => s + Math.exp(l - max), 0));
  return logits.map((l) => l - lse);
}

describe("discretized decoder (float64)", () => {
  it("the log-probability of every one of the 256 values, for means inside, at the edge of and beyond [−1, 1]", () => {
    const grid = Array.from({ length: 256 }, (_, k) => (2 * k) / 255 - 1);
    for (const [mean, gamma] of [
      [-0.97, -5],
      [1.3, -11],
      [0.5, -3],
    ] as const) {
      const got = read(
        discretizedLogLikelihood(
          exactArray(grid).reshape([256, 1]),
          exactArray(grid.map(() => mean)).reshape([256, 1]),
          exactArray(grid.map(() => gamma)),
        ),
      );
      // measured: 3.1e-15 relative over all bins (log-probabilities down to −4e6)
      assertClose(got, logProbs(mean, gamma, 256), { rtol: 3e-14, atol: 1e-14, label: `mean ${mean}, γ ${gamma}` });
    }
  });

  it("other bin counts: bins = 5 puts the values at −1, −½, 0, ½, 1", () => {
    const grid = [-1, -0.5, 0, 0.5, 1];
    const got = read(
      discretizedLogLikelihood(
        exactArray(grid).reshape([5, 1]),
        exactArray([0.3, 0.3, 0.3, 0.3, 0.3]).reshape([5, 1]),
        exactArray([-1, -1, -1, -1, -1]),
        5,
      ),
    );
    // measured: 1.3e-16 relative
    assertClose(got, logProbs(0.3, -1, 5), { rtol: 1e-14, label: "5 bins" });
  });

  it("sums over every data dimension of [B, 2, 2], each example at its own level", () => {
    const x0 = [-1, 1, 3 / 255, -5 / 255, 0.6 + 0.2 / 255, -0.2 - 0.2 / 255, 1, -1];
    const mean = [-0.9, 0.95, 0.1, 0.0, 0.55, -0.3, 1.2, -0.5];
    const gamma = [-6, -4];
    const k = (x: number) => Math.round(((x + 1) * 255) / 2);
    const want = [0, 1].map((b) => [0, 1, 2, 3].reduce((s, d) => s + logProbs(mean[4 * b + d]!, gamma[b]!, 256)[k(x0[4 * b + d]!)]!, 0));
    const got = read(discretizedLogLikelihood(exactArray(x0).reshape([2, 2, 2]), exactArray(mean).reshape([2, 2, 2]), exactArray(gamma)));
    // measured: exact (same operations in the same order per bin)
    assertClose(got, want, { rtol: 1e-14, label: "[2, 2, 2]" });
    const dispatched = read(
      decoderLogLikelihood("discretized", exactArray(x0).reshape([2, 2, 2]), exactArray(mean).reshape([2, 2, 2]), exactArray(gamma)),
    );
    assert.deepEqual(dispatched, got, 'decoderLogLikelihood("discretized") is the discretized decoder');
  });
});

describe("gaussian decoder (float64)", () => {
  it("Σ_d log N(x_0; x̂_0, e^{γ}) over [B, 2, 2], and the dispatch by kind", () => {
    const x0 = [0.3, -1.2, 2.0, 0.5, 0.1, 0.1, -0.4, 1.7];
    const mean = [0.1, -1.0, 2.5, 0.5, -0.3, 0.2, -0.4, 1.0];
    const gamma = [-3, 1.5];
    const want = [0, 1].map((b) =>
      [0, 1, 2, 3].reduce(
        (s, d) =>
          s - 0.5 * Math.log(2 * Math.PI * Math.exp(gamma[b]!)) - (x0[4 * b + d]! - mean[4 * b + d]!) ** 2 / (2 * Math.exp(gamma[b]!)),
        0,
      ),
    );
    const args = () => [exactArray(x0).reshape([2, 2, 2]), exactArray(mean).reshape([2, 2, 2]), exactArray(gamma)] as const;
    // measured: exact
    assertClose(read(gaussianLogLikelihood(...args())), want, { rtol: 1e-14, label: "gaussian" });
    assertClose(read(decoderLogLikelihood("gaussian", ...args())), want, { rtol: 1e-14, label: "dispatched" });
  });
});
