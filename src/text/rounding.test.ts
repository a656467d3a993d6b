/**
 * Clamping as a model, in float64 on the exact `cpu` device, against a brute-force nearest
 * neighbour: an ε-predicting model's x̂_0 = (x_t − σ ε̂)/α snapped to the nearest embedding row,
 * the wrapper's target and classes; and the clamp's gradient (none through the choice of word,
 * the one-hot product's to the chosen rows).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Model } from "../diffusion/model.js";
import { exactArray } from "../engine/index.js";
import { type Array, grad, numpy as np, tree } from "../engine/jax.js";
import { assertClose, useEngine } from "../testing/helpers.js";
import { clampedModel, clampToEmbeddings } from "./rounding.js";

useEngine("cpu");

const V = 5,
  d = 3,
  B = 2,
  L = 4;
const E = globalThis.Array.from({ length: V * d }, (_, i) => 1.5 * Math.sin(2 * i + 1));
const X = globalThis.Array.from({ length: B * L * d }, (_, i) => 2 * Math.cos(1.7 * i));

/** The nearest row of E to each of the B·L points of x, by brute force. */
function nearest(x: number[]): number[] {
  return globalThis.Array.from({ length: x.length / d }, (_, p) => {
    let best = -1,
      bestDistance = Infinity;
    for (let v = 0; v < V; v++) {
      let distance = 0;
      for (let k = 0; k < d; k++) distance += (x[p * d + k]! - E[v * d + k]!) ** 2;
      if (distance < bestDistance) [best, bestDistance] = [v, distance];
    }
    return best;
  });
}

describe("clamping to the word embeddings", () => {
  it("clampedModel snaps an ε-model's x̂_0 = (x_t − σ ε̂)/α to the nearest embedding, predicting x_0 for a model of any classes", () => {
    type P = { E: Array; scale: Array; bias: Array };
    // ε̂ = c·x_t + β (per coordinate), c and β parameters
    const epsModel: Model<P> = {
      target: "eps",
      classes: 3,
      apply(params, xt, t, gamma) {
        tree.dispose([params.E, t, gamma]);
        return xt.mul(params.scale.reshape([1, 1, 1])).add(params.bias.reshape([1, 1, d]));
      },
    };
    const clamped = clampedModel(epsModel, (p: P) => p.E);
    assert.equal(clamped.target, "x0");
    assert.equal(clamped.classes, 3);
    const gamma = [0, 1],
      c = 0.3,
      beta = [1, -1, 0.5];
    const x0 = X.map((x, i) => {
      const b = Math.floor(i / (L * d));
      const a = Math.sqrt(1 / (1 + Math.exp(gamma[b]!))),
        s = Math.sqrt(1 / (1 + Math.exp(-gamma[b]!)));
      return (x - s * (c * x + beta[i % d]!)) / a;
    });
    const ids = nearest(x0);
    // no near ties (the nearest row wins by 0.12 in squared distance or more); 5 of the 8 points of x_t itself have other nearest rows
    assert.notDeepEqual(ids, nearest(X), "x̂_0, not x_t, is snapped");
    const params = { E: exactArray(E).reshape([V, d]), scale: exactArray([c]), bias: exactArray(beta) };
    const out = clamped.apply(params, exactArray(X).reshape([B, L, d]), exactArray([0.5, 0.6]), exactArray(gamma));
    assert.deepEqual(out.shape, [B, L, d]);
    assert.deepEqual(
      [...(out.dataSync() as Float64Array)],
      ids.flatMap((v) => E.slice(v * d, (v + 1) * d)),
    );
  });

  it("no gradient flows through the choice: d/dx of a clamped sum is 0, d/dE counts each row's uses", () => {
    const w = globalThis.Array.from({ length: B * L * d }, (_, i) => 1 + (i % 5));
    const weighted = (x: Array, e: Array) => np.sum(clampToEmbeddings(x, e).mul(exactArray(w).reshape([B, L, d])));
    const [dx, dE] = grad(weighted, { argnums: [0, 1] })(exactArray(X).reshape([B, L, d]), exactArray(E).reshape([V, d])) as [Array, Array];
    assert.deepEqual([...(dx.dataSync() as Float64Array)], new globalThis.Array(B * L * d).fill(0));
    const expected = new globalThis.Array(V * d).fill(0);
    nearest(X).forEach((v, p) => {
      for (let k = 0; k < d; k++) expected[v * d + k] += w[p * d + k]!;
    });
    assertClose(dE.dataSync() as Float64Array, expected, { label: "dE" }); // exact: sums of small integers
  });
});
