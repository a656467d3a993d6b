/**
 * iPNDM's Adams–Bashforth weights: on equal steps they are the published iPNDM's fixed coefficients,
 * and on uneven levels they integrate every polynomial of degree < p exactly (what makes the method
 * of order p on the library's levels, uneven in σ̃).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { assertClose } from "../testing/helpers.js";
import { adamsBashforthWeights } from "./ipndm.js";

describe("iPNDM's Adams–Bashforth weights", () => {
  it("on equal steps Δ: Δ·1, Δ·(3, −1)/2, Δ·(23, −16, 5)/12, Δ·(55, −59, 37, −9)/24", () => {
    const fixed = [[1], [3 / 2, -1 / 2], [23 / 12, -16 / 12, 5 / 12], [55 / 24, -59 / 24, 37 / 24, -9 / 24]];
    // levels σ̃ = 5, 5.5, 6, 6.5 (newest first: 5), stepping Δ = −0.5 down to 4.5
    fixed.forEach((want, p) => {
      const nodes = Array.from({ length: p + 1 }, (_, j) => 5 + 0.5 * j);
      assertClose(
        adamsBashforthWeights(nodes, 5, 4.5),
        want.map((c) => -0.5 * c),
        { rtol: 1e-14, atol: 1e-15, label: `order ${p + 1}` },
      );
    });
  });

  it("integrate σ̃^n exactly for n < p on uneven levels, and not σ̃^p", () => {
    const nodes = [0.7, 1.9, 4.2, 11];
    const [from, to] = [0.7, 0.15];
    for (let p = 1; p <= 4; p++) {
      const w = adamsBashforthWeights(nodes.slice(0, p), from, to);
      const quadrature = (n: number) => w.reduce((sum, wj, j) => sum + wj * nodes[j]! ** n, 0);
      const exact = (n: number) => (to ** (n + 1) - from ** (n + 1)) / (n + 1);
      for (let n = 0; n < p; n++) assertClose([quadrature(n)], [exact(n)], { rtol: 1e-13, label: `p = ${p}, σ̃^${n}` });
      assert.ok(Math.abs(quadrature(p) - exact(p)) > 1e-3 * Math.abs(exact(p)), `p = ${p}: σ̃^${p} is not integrated exactly`);
    }
  });
});
