/** silu's gradient: finite where e^{−x} overflows (float32), and equal to sigmoid(x)(1 + x(1 − sigmoid(x))). */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { grad, numpy as np } from "../engine/jax.js";
import { assertClose, useEngine } from "../testing/helpers.js";
import { silu } from "./activations.js";

useEngine("wasm");

describe("silu", () => {
  it("has finite gradients where e^{−x} overflows (float32)", () => {
    const g = grad((v: np.Array) => np.sum(silu(v)))(np.array([-200, -90, -10, 0, 10, 200])).dataSync() as Float32Array;
    for (const v of g) assert.ok(Number.isFinite(v), `silu' = ${v}`);
    assertClose([g[2]!, g[3]!], [(1 / (1 + Math.exp(10))) * (1 + -10 * (1 - 1 / (1 + Math.exp(10)))), 0.5], { rtol: 1e-5, label: "silu'" });
  });
});
