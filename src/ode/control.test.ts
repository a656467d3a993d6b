/**
 * Dormand–Prince 5(4) step by step against closed forms. On y' = λy one step multiplies y by the
 * method's stability polynomial R(z) = Σ_{k≤5} zᵏ/k! + z⁶/600 (z = hλ), and the embedded 4th-order
 * solution differs from it by (−97/120000 z⁵ + 13/40000 z⁶ − 1/24000 z⁷)·y (Hairer, Nørsett & Wanner,
 * "Solving ODEs I", II.4–5), so on a diagonal linear system the whole adaptive run — starting step,
 * each error estimate, acceptance, the step-size factor, the last step clipped to the end — can be
 * replayed from the documented controller alone and compared step by step. Quadrature of a quartic
 * checks the nodes c_i and weights b_i (order 5: exact in one step).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { solveOde } from "./dopri5.js";

const R = (z: number) => 1 + z + z ** 2 / 2 + z ** 3 / 6 + z ** 4 / 24 + z ** 5 / 120 + z ** 6 / 600;
const errorPolynomial = (z: number) => (-97 / 120000) * z ** 5 + (13 / 40000) * z ** 6 - z ** 7 / 24000;

interface Run {
  y: number[];
  steps: [number, number][];
  accepted: number;
  rejected: number;
  evaluations: number;
}

/** The documented controller on y' = diag(λ) y, written from its description with the closed-form step. */
function replay(lambda: number[], y0: number[], s0: number, s1: number, tol: number): Run {
  const n = y0.length;
  const span = s1 - s0;
  const rms = (v: number[]) => Math.sqrt(v.reduce((a, b) => a + b * b, 0) / n);
  const weight = (y: number[], i: number) => tol + tol * Math.abs(y[i]!);
  let y = [...y0];
  const d0 = rms(y.map((v, i) => v / weight(y0, i)));
  const d1 = rms(y.map((v, i) => (lambda[i]! * v) / weight(y0, i)));
  let h = Math.sign(span) * Math.min(Math.abs(span), d0 < 1e-5 || d1 < 1e-5 ? 1e-6 : (0.01 * d0) / d1);
  let s = s0;
  let evaluations = 1;
  const run: Run = { y, steps: [], accepted: 0, rejected: 0, evaluations };
  while (Math.abs(s1 - s) > 1e-12 * Math.abs(span)) {
    if (Math.abs(h) > Math.abs(s1 - s)) h = s1 - s;
    const next = y.map((v, i) => R(h * lambda[i]!) * v);
    const err = Math.max(
      ...y.map((v, i) => Math.abs(errorPolynomial(h * lambda[i]!) * v) / (tol + tol * Math.max(Math.abs(v), Math.abs(next[i]!)))),
    );
    evaluations += 6;
    if (err <= 1) {
      s += h;
      y = next;
      run.accepted++;
      run.steps.push([s, evaluations]);
    } else run.rejected++;
    h *= Math.min(5, Math.max(0.2, 0.9 * err ** -0.2));
  }
  return { ...run, y, evaluations };
}

function solve(lambda: number[], y0: number[], s0: number, s1: number, tol: number): Run {
  const steps: [number, number][] = [];
  const got = solveOde((_s, y) => y.map((v, i) => lambda[i]! * v), Float64Array.from(y0), s0, s1, {
    rtol: tol,
    atol: tol,
    onStep: (s, e) => steps.push([s, e]),
  });
  return { y: Array.from(got.y), steps, accepted: got.accepted, rejected: got.rejected, evaluations: got.evaluations };
}

describe("Dormand–Prince 5(4) against its closed-form step and the documented controller", () => {
  it("fixed steps on y' = λy multiply y by R(hλ) each step, forwards and backwards", () => {
    for (const [lambda, s0, s1, steps] of [
      [-2.3, 0, 1.7, 5],
      [0.9, 2, -1, 7],
      [-11, 0, 0.6, 3],
    ] as const) {
      const got = solveOde((_s, y) => Float64Array.of(lambda * y[0]!, -lambda * y[1]!), Float64Array.of(1.5, -0.5), s0, s1, { steps });
      const h = (s1 - s0) / steps;
      const expected = [1.5 * R(h * lambda) ** steps, -0.5 * R(-h * lambda) ** steps];
      // measured 2.4e-14 relative (λ = −11: R(−2.2) = 0.21 from terms up to 2.2)
      got.y.forEach((v, i) =>
        assert.ok(
          Math.abs(v - expected[i]!) <= 1e-13 * Math.abs(expected[i]!),
          `λ = ${lambda}, ${steps} steps, component ${i}: ${v} vs ${expected[i]}`,
        ),
      );
      assert.deepEqual([got.evaluations, got.accepted, got.rejected], [1 + 6 * steps, steps, 0]);
    }
    // fixed steps are all (s1 − s0)/steps, the last one included (here s overshoots 1 by an ulp at the end)
    const times: number[] = [];
    solveOde((_s, y) => Float64Array.of(-y[0]!), Float64Array.of(1), 0, 1, { steps: 9, onStep: (s) => times.push(s) });
    times.forEach((s, k) => assert.equal(s, (k > 0 ? times[k - 1]! : 0) + 1 / 9));
    assert.equal(times.length, 9);
    // an empty span: no step, f once
    const empty = solveOde((_s, y) => Float64Array.of(-y[0]!), Float64Array.of(1.25), 0.5, 0.5);
    assert.deepEqual([empty.y[0], empty.evaluations, empty.accepted], [1.25, 1, 0]);
    // a span of 1e−7: the end test is relative to the span (1e−12·|span|), so all 10 steps are taken
    const short = solveOde((_s, y) => Float64Array.of(-3 * y[0]!), Float64Array.of(2), 0, 1e-7, { steps: 10 });
    assert.equal(short.evaluations, 61);
    // measured 8.9e-16
    assert.ok(Math.abs(short.y[0]! - 2 * R(-3e-8) ** 10) <= 5e-15, `${short.y[0]}`);
  });

  it("one step integrates a quartic in s exactly (the nodes and weights have order 5)", () => {
    const f = (s: number) => Float64Array.of(5 * s ** 4 - 3 * s ** 2 + 2 * s, 4 * s ** 3);
    for (const [s0, s1] of [
      [0, 1],
      [0.5, -1.2],
    ] as const) {
      const got = solveOde(f, Float64Array.of(0, 0), s0, s1, { steps: 1 });
      const F = (s: number) => [s ** 5 - s ** 3 + s ** 2, s ** 4];
      const expected = F(s1).map((v, i) => v - F(s0)[i]!);
      // measured 1.1e-15 absolute
      got.y.forEach((v, i) => assert.ok(Math.abs(v - expected[i]!) < 5e-15, `[${s0}, ${s1}] component ${i}: ${v} vs ${expected[i]}`));
    }
  });

  it("adaptive runs on linear systems take exactly the replayed steps, rejections included", () => {
    // The error estimate is a difference of two solutions that agree to ~err·tol, so its rounding, relative to
    // it, is ~1e−16/tol: the replayed step sizes drift from the solver's by about that much (measured, on the
    // step ends relative to the span and on y: 7e−14, 6e−13 | 1.1e−12, 1.7e−15 | 2.0e−9, 3.5e−16 | 0, 0 | 0, 3.0e−15).
    const cases: [number[], number[], number, number, number, { times: number; y: number }][] = [
      [[-30, 0.8], [1, 0.5], 0, 2, 1e-3, { times: 5e-13, y: 5e-12 }], // a stiff member: steps grow until rejected
      [[-1.5], [2], 3, 0, 1e-6, { times: 1e-11, y: 2e-14 }], // backwards
      [[-1, -0.1, 2], [0.3, -2, 1], 0, 1.5, 1e-9, { times: 2e-8, y: 4e-15 }],
      [[-4, 1], [0, 0], 0, 1, 1e-6, { times: 1e-15, y: 0 }], // y = 0: the 1e−6 starting step, then growth by the maximal factor 5
      // ‖y‖ = 5e−6 in the error norm (the root mean square over 4 components, not their root sum of squares, 1e−5): 1e−6 start
      // (and ‖f‖ above 1e−5: the 1e−6 comes from ‖y‖ alone)
      [[-10, -20, -5, -15], [5e-12, 5e-12, 5e-12, 5e-12], 0, 1, 1e-6, { times: 1e-15, y: 2e-14 }],
    ];
    let rejected = 0;
    for (const [lambda, y0, s0, s1, tol, tolerance] of cases) {
      const got = solve(lambda, y0, s0, s1, tol);
      const want = replay(lambda, y0, s0, s1, tol);
      const label = `λ = ${lambda}, tol ${tol}`;
      assert.deepEqual([got.accepted, got.rejected, got.evaluations], [want.accepted, want.rejected, want.evaluations], label);
      got.steps.forEach(([s, e], k) => {
        assert.equal(e, want.steps[k]![1], `${label}: evaluations at step ${k}`);
        assert.ok(
          Math.abs(s - want.steps[k]![0]) <= tolerance.times * Math.abs(s1 - s0),
          `${label}: step ${k} ends at ${s}, replayed ${want.steps[k]![0]}`,
        );
      });
      got.y.forEach((v, i) =>
        assert.ok(Math.abs(v - want.y[i]!) <= tolerance.y * Math.abs(want.y[i]!), `${label}: y[${i}] ${v} vs ${want.y[i]}`),
      );
      rejected += got.rejected;
    }
    assert.ok(rejected > 0, "some case rejects a step");
  });

  it("starting steps: 1e−6 when f vanishes at the start, Hairer's guess when ‖y‖ and ‖f‖ are exactly 1e−5, the whole span when it is shorter", () => {
    const first: number[] = [];
    solveOde((s, y) => Float64Array.of(s * y[0]!), Float64Array.of(1), 0, 1, { onStep: (s) => first.push(s) });
    assert.equal(first[0], 1e-6);
    // atol 1 and rtol 1e−300: the error norm of y = 1e−5 and of f = 1e−5 is exactly 1e−5, not below the threshold: h₀ = 0.01·1e−5/1e−5
    const atThreshold: number[] = [];
    solveOde(() => Float64Array.of(1e-5), Float64Array.of(1e-5), 0, 1, { atol: 1, rtol: 1e-300, onStep: (s) => atThreshold.push(s) });
    assert.equal(atThreshold[0], 0.01);
    const short = solveOde((_s, y) => Float64Array.of(-0.1 * y[0]!), Float64Array.of(1), 0, 1e-3);
    assert.deepEqual([short.accepted, short.rejected, short.evaluations], [1, 0, 7]);
  });

  it("checks its inputs and counts evaluations against the budget exactly", () => {
    const f = (_s: number, y: Float64Array) => Float64Array.of(-y[0]!);
    const y0 = Float64Array.of(1);
    for (const [rtol, atol] of [
      [0, 1e-6],
      [1e-6, 0],
      [-1, 1e-6],
      [NaN, 1e-6],
    ]) {
      assert.throws(() => solveOde(f, y0, 0, 1, { rtol, atol }), new RegExp(`ODE tolerances must be > 0, got rtol ${rtol}, atol ${atol}`));
    }
    for (const steps of [0, 2.5, -1])
      assert.throws(() => solveOde(f, y0, 0, 1, { steps }), new RegExp(`ODE steps must be an integer >= 1, got ${steps}`));
    assert.throws(() => solveOde(() => Float64Array.of(1, 2), y0, 0, 1), /the ODE's right-hand side has 2 entries, the state 1/);
    assert.equal(solveOde(f, y0, 0, 1, { steps: 10, maxEvaluations: 61 }).evaluations, 61);
    assert.throws(() => solveOde(f, y0, 0, 1, { steps: 10, maxEvaluations: 60 }), /more than 60 evaluations/);
  });
});
