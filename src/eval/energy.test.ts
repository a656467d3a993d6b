/**
 * Energy distance against Cramér's identity in 1-D, D_V(X, Y) = 2 ∫ (F_n(x) − G_m(x))² dx, and in
 * several dimensions against the signed-measure form −Σ_{p,q} w_p w_q ‖z_p − z_q‖ over the pooled
 * points (w = 1/n on X, −1/m on Y), computed by brute force in float64.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { mulberry32 } from "../data/mulberry32.js";
import { energyDistance } from "./energy.js";

/** 2 ∫ (F − G)² over the merged sorted support of two empirical CDFs. */
function cramer(x: number[], y: number[]): number {
  const all = [...x.map((v) => [v, 0] as const), ...y.map((v) => [v, 1] as const)].sort((a, b) => a[0] - b[0]);
  let [fx, fy, total] = [0, 0, 0];
  for (let i = 0; i < all.length - 1; i++) {
    if (all[i]![1] === 0) fx += 1 / x.length;
    else fy += 1 / y.length;
    total += (fx - fy) ** 2 * (all[i + 1]![0] - all[i]![0]);
  }
  return 2 * total;
}

/** −Σ_{p,q} w_p w_q ‖z_p − z_q‖ over the rows z of x [n, dim] and y [m, dim] pooled, w_p = 1/n on x and −1/m on y. */
function signedMeasureEnergy(x: ArrayLike<number>, y: ArrayLike<number>, dim: number): number {
  const rows = (a: ArrayLike<number>) =>
    Array.from({ length: a.length / dim }, (_, i) => Array.from({ length: dim }, (_, d) => a[i * dim + d]!));
  const [xs, ys] = [rows(x), rows(y)];
  const pooled = [...xs.map((z) => ({ z, w: 1 / xs.length })), ...ys.map((z) => ({ z, w: -1 / ys.length }))];
  let total = 0;
  for (const p of pooled) for (const q of pooled) total -= p.w * q.w * Math.hypot(...p.z.map((v, d) => v - q.z[d]!));
  return total;
}

describe("energy distance", () => {
  it("equals the signed-measure form on general point sets in 3-D (unequal sizes, float32 and float64 input)", () => {
    const uniform = mulberry32(17);
    const points = (count: number, spread: number) => Float64Array.from({ length: count }, () => spread * (2 * uniform() - 1));
    const errors: number[] = [];
    for (const [n, m, spread] of [
      [9, 6, 1],
      [4, 11, 3],
      [1, 1, 2],
    ] as const) {
      const x = points(3 * n, spread);
      const y = points(3 * m, 1).map((v, i) => v + (i % 3 === 1 ? 0.4 : -0.2));
      for (const [a, b] of [
        [x, y],
        [Float32Array.from(x), Float32Array.from(y)],
      ] as const) {
        const expected = signedMeasureEnergy(a, b, 3);
        errors.push(Math.abs(energyDistance(a, b, 3) - expected) / expected);
      }
    }
    // measured 3.2e-15 relative at most (rounding of the sums)
    assert.ok(Math.max(...errors) < 2e-14, `relative errors ${errors}`);
  });

  it("refuses an empty sample or a length that is not a whole number of points", () => {
    const x = Float64Array.of(1, 2, 3, 4);
    for (const [a, b] of [
      [x, new Float64Array(0)],
      [new Float64Array(0), x],
      [x.subarray(0, 3), x],
      [x, x.subarray(0, 3)],
    ]) {
      assert.throws(() => energyDistance(a!, b!, 2), /energy distance needs two non-empty samples/);
    }
  });

  it("equals Cramér's integral of the squared CDF difference in 1-D", () => {
    const x = [0.3, -1.2, 2.5, 0.9, 0.1, -0.4, 1.7];
    const y = [1.1, 0.2, -2.0, 3.3, 0.8];
    const got = energyDistance(Float64Array.from(x), Float64Array.from(y), 1);
    assert.ok(Math.abs(got - cramer(x, y)) < 1e-12, `${got} vs ${cramer(x, y)}`);
  });

  it("is symmetric, zero for identical samples and grows with a shift", () => {
    const x = Float64Array.from([0, 0, 1, 1, 2, 0, 0.5, -1]);
    const shifted = (s: number) => x.map((v, i) => (i % 2 === 0 ? v + s : v));
    assert.equal(energyDistance(x, x, 2), 0);
    assert.ok(Math.abs(energyDistance(x, shifted(1), 2) - energyDistance(shifted(1), x, 2)) < 1e-12);
    assert.ok(energyDistance(x, shifted(2), 2) > energyDistance(x, shifted(1), 2));
  });
});
