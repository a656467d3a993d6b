/** Dormand–Prince against ODEs with closed-form solutions. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { solveOde } from "./dopri5.js";

describe("Dormand–Prince 5(4)", () => {
  it("y' = −y·s (y = e^{−s²/2}) and a rotation (y = (cos s, sin s)) within the requested tolerance", () => {
    for (const tol of [1e-4, 1e-8]) {
      const a = solveOde((s, y) => Float64Array.of(-s * y[0]!), Float64Array.of(1), 0, 3, { rtol: tol, atol: tol });
      assert.ok(Math.abs(a.y[0]! - Math.exp(-4.5)) < 10 * tol, `gaussian decay at tol ${tol}: ${a.y[0]} vs ${Math.exp(-4.5)}`);
      const b = solveOde((_s, y) => Float64Array.of(-y[1]!, y[0]!), Float64Array.of(1, 0), 0, 2 * Math.PI, { rtol: tol, atol: tol });
      assert.ok(Math.hypot(b.y[0]! - 1, b.y[1]!) < 10 * tol, `rotation at tol ${tol}: ${b.y}`);
    }
  });
  it("tighter tolerances cost more evaluations; integrates backwards (s1 < s0)", () => {
    const f = (_s: number, y: Float64Array) => Float64Array.of(y[0]! * Math.cos(_s));
    const loose = solveOde(f, Float64Array.of(1), 0, 5, { rtol: 1e-3, atol: 1e-3 });
    const tight = solveOde(f, Float64Array.of(1), 0, 5, { rtol: 1e-9, atol: 1e-9 });
    assert.ok(tight.evaluations > loose.evaluations, `${tight.evaluations} vs ${loose.evaluations}`);
    const back = solveOde(f, Float64Array.of(Math.exp(Math.sin(5))), 5, 0, { rtol: 1e-9, atol: 1e-9 });
    assert.ok(Math.abs(back.y[0]! - 1) < 1e-7, `backwards: ${back.y[0]}`);
  });
  it("fixed steps converge at 5th order (error ratio → 2⁵ = 32 per halving of the step)", () => {
    const f = (s: number, y: Float64Array) => Float64Array.of(-s * y[0]!);
    const err = (steps: number) => Math.abs(solveOde(f, Float64Array.of(1), 0, 3, { steps }).y[0]! - Math.exp(-4.5));
    // measured 46, 39, 36 from 16 to 128 steps: approaching 32 from above
    const ratios = [16, 32, 64].map((n) => err(n) / err(2 * n));
    assert.ok(
      ratios.every((r, i) => r > 32 * 0.9 && r < 32 * 1.6 && (i === 0 || r < ratios[i - 1]!)),
      `ratios ${ratios}`,
    );
    assert.equal(solveOde(f, Float64Array.of(1), 0, 3, { steps: 10 }).evaluations, 61);
  });
  it("stops with a clear error past the evaluation budget", () => {
    assert.throws(
      () =>
        solveOde((_s, y) => Float64Array.of(-1000 * y[0]!), Float64Array.of(1), 0, 100, { rtol: 1e-10, atol: 1e-12, maxEvaluations: 500 }),
      /more than 500 evaluations/,
    );
  });
});
