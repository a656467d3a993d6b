/** Energy distance against Cramér's identity in 1-D: D_V(X, Y) = 2 ∫ (F_n(x) − G_m(x))² dx. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
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

describe("energy distance", () => {
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
