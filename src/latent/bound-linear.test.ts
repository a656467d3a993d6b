/**
 * The latent bound on a linear-Gaussian model, where every quantity has a closed form (float64 on
 * `cpu`): z ~ N(0, I_2), x = W z + N(0, σ² I_3), so p(x) = N(0, W Wᵀ + σ² I); W's columns are
 * orthogonal, which makes the exact posterior diagonal (an encoder of the bound's form).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { exactArray, Rng } from "../engine/index.js";
import { numpy as np } from "../engine/jax.js";
import { meanAndStdError } from "../eval/likelihood.js";
import { assertClose, useEngine } from "../testing/helpers.js";
import { type LatentBoundModel, type LatentBoundTerms, latentBoundTerms } from "./bound.js";

useEngine("cpu");

const LOG2PI = Math.log(2 * Math.PI);
// W = [w_1 w_2] with w_1 = (1, 1, 0), w_2 = (½, −½, 1): w_1·w_2 = 0, ‖w_1‖² = 2, ‖w_2‖² = 1.5
const W = [
  [1, 0.5],
  [1, -0.5],
  [0, 1],
];
const D = 3;
const L = 2;
const VAR = 0.3; // σ² of p(x|z)
const X = [0.7, -0.2, 1.1];

const model: LatentBoundModel = {
  decoder: "gaussian",
  // x̂ = W z: [B, 2] · Wᵀ [2, 3]
  decode: (z: np.Array) => {
    const batch = z.shape[0]!;
    const mean = np.matmul(z, exactArray([0, 1].flatMap((j) => W.map((row) => row[j]!))).reshape([L, D]));
    return { mean, gamma: exactArray(new Array(batch).fill(Math.log(VAR))) };
  },
  // −log N(z; 0, I) = ½ (‖z‖² + L log 2π)
  priorCost: (z: np.Array) =>
    np
      .sum(np.square(z), 1)
      .add(L * LOG2PI)
      .mul(0.5),
};

/** −log N(x; 0, C) with C = W Wᵀ + σ² I, by a Cholesky factor C = R Rᵀ written here. */
function exactCost(x: number[]): number {
  const C = W.map((wi, i) => W.map((wj, j) => wi[0]! * wj[0]! + wi[1]! * wj[1]! + (i === j ? VAR : 0)));
  const R = C.map(() => new Array<number>(D).fill(0));
  for (let i = 0; i < D; i++) {
    for (let j = 0; j <= i; j++) {
      let s = C[i]![j]!;
      for (let k = 0; k < j; k++) s -= R[i]![k]! * R[j]![k]!;
      R[i]![j] = i === j ? Math.sqrt(s) : s / R[j]![j]!;
    }
  }
  // y = R⁻¹ x by forward substitution; xᵀC⁻¹x = ‖y‖², log det C = 2 Σ log R_ii
  const y = new Array<number>(D).fill(0);
  for (let i = 0; i < D; i++) y[i] = (x[i]! - R[i]!.slice(0, i).reduce((s, r, k) => s + r * y[k]!, 0)) / R[i]![i]!;
  return 0.5 * (y.reduce((s, v) => s + v * v, 0) + R.reduce((s, r, i) => s + 2 * Math.log(r[i]!), 0) + D * LOG2PI);
}

/** The three parts' expectations under q = N(m, diag v), in closed form. */
function closedForm(x: number[], m: number[], v: number[]) {
  const Wm = W.map((row) => row[0]! * m[0]! + row[1]! * m[1]!);
  // tr(Wᵀ W diag v) = Σ_j ‖w_j‖² v_j
  const trace = [0, 1].reduce((s, j) => s + W.reduce((t, row) => t + row[j]! ** 2, 0) * v[j]!, 0);
  const residual = x.reduce((s, xi, i) => s + (xi - Wm[i]!) ** 2, 0);
  return {
    reconstruction: 0.5 * D * Math.log(2 * Math.PI * VAR) + (residual + trace) / (2 * VAR),
    encoder: -0.5 * v.reduce((s, vj) => s + 1 + LOG2PI + Math.log(vj), 0),
    prior: 0.5 * (L * LOG2PI + m.reduce((s, mj) => s + mj * mj, 0) + v.reduce((s, vj) => s + vj, 0)),
  };
}

/** The exact posterior p(z|x) = N(v_j w_jᵀx/σ², v_j = 1/(1 + ‖w_j‖²/σ²)) (diagonal: W's columns are orthogonal). */
function posterior(x: number[]): { m: number[]; v: number[] } {
  const v = [0, 1].map((j) => 1 / (1 + W.reduce((s, row) => s + row[j]! ** 2, 0) / VAR));
  return { m: [0, 1].map((j) => (v[j]! * W.reduce((s, row, i) => s + row[j]! * x[i]!, 0)) / VAR), v };
}

/** The bound's terms for examples xs (one row each) under encoders (m_b, v_b), K draws each. */
function bound(xs: number[][], enc: { m: number[]; v: number[] }[], rng: Rng, samples: number): LatentBoundTerms {
  const x = exactArray(xs.flat()).reshape([xs.length, D]);
  const encoding = {
    mean: exactArray(enc.flatMap((e) => e.m)).reshape([xs.length, L]),
    logVar: exactArray(enc.flatMap((e) => e.v.map(Math.log))).reshape([xs.length, L]),
  };
  const terms = latentBoundTerms(x.ref, encoding, model, rng, samples);
  x.dispose();
  return terms;
}

const total = (t: LatentBoundTerms) => t.reconstruction.map((r, b) => r + t.encoder[b]! + t.prior[b]!);
const ENCODER = { m: [0.3, -0.4], v: [0.5, 0.2] };
const copies = <T>(n: number, v: T) => new Array<T>(n).fill(v);

describe("latent bound, linear-Gaussian model (float64)", () => {
  it("each part's Monte Carlo mean matches its closed form, and the bound lies above the exact −log p(x)", () => {
    const n = 4000;
    const terms = bound(copies(n, X), copies(n, ENCODER), new Rng(1), 1);
    const want = closedForm(X, ENCODER.m, ENCODER.v);
    for (const key of ["reconstruction", "encoder", "prior"] as const) {
      const { mean, se } = meanAndStdError(terms[key]);
      assert.ok(Math.abs(mean - want[key]) < 4 * se, `${key}: ${mean} ± ${se} against ${want[key]}`);
    }
    const { mean, se } = meanAndStdError(total(terms));
    const closed = want.reconstruction + want.encoder + want.prior;
    assert.ok(Math.abs(mean - closed) < 4 * se, `bound: ${mean} ± ${se} against ${closed}`);
    // the gap is KL(q(z|x) ‖ p(z|x)) > 0 for an encoder other than the posterior
    assert.ok(closed - exactCost(X) > 0.1, `closed-form bound ${closed} should exceed the exact ${exactCost(X)}`);
  });

  it("with the exact posterior as the encoder every draw gives −log p(x), for both bounds (catches a dropped log q)", () => {
    const xs = [X, [0, 0, 0], [-1.5, 2.0, 0.4], [3, -1, -2]];
    for (const samples of [1, 4]) {
      const terms = bound(xs, xs.map(posterior), new Rng(2), samples);
      const want = xs.map(exactCost);
      // measured: 4e-16 relative; without log q the bound would be off by ~2 nats
      assertClose(total(terms), want, { rtol: 1e-13, label: `ELBO, K = ${samples}` });
      assertClose(terms.importanceWeighted, want, { rtol: 1e-13, label: `importance-weighted, K = ${samples}` });
    }
  });

  it("the importance-weighted bound falls with K = 1, 4, 16, 64 towards the exact value and stays above it (catches a mean of log-weights)", () => {
    const n = 1000;
    const exact = exactCost(X);
    const stats = [1, 4, 16, 64].map((K, i) =>
      meanAndStdError(bound(copies(n, X), copies(n, ENCODER), new Rng(10 + i), K).importanceWeighted),
    );
    for (let i = 0; i < stats.length; i++) {
      const { mean, se } = stats[i]!;
      assert.ok(mean > exact - 4 * se, `K = ${4 ** i}: ${mean} ± ${se} is below the exact ${exact}`);
      if (i > 0) {
        const prev = stats[i - 1]!;
        assert.ok(
          mean < prev.mean + 4 * Math.hypot(se, prev.se),
          `K = ${4 ** i}: ${mean} should not exceed K = ${4 ** (i - 1)}: ${prev.mean}`,
        );
      }
    }
    // a mean of log-weights instead of log-mean-exp would keep every K at the K = 1 gap
    const gap = stats.map((s) => s.mean - exact);
    assert.ok(gap[3]! < gap[0]! / 4, `gap at K = 64 (${gap[3]}) should be far below the gap at K = 1 (${gap[0]})`);
  });

  it("the importance-weighted bound is −log-mean-exp of log p(x|z_k) + log p(z_k) − log q(z_k|x), finite at log-weights near −8000", () => {
    const xs = [X, [40, -30, 50]];
    const K = 5;
    const terms = bound(xs, copies(2, ENCODER), new Rng(3), K);
    // the same draws, written out: ε_k from the same stream, z_k = m + √v ε_k
    const rng = new Rng(3);
    const logW = xs.map(() => [] as number[]);
    const withoutQ = xs.map(() => [] as number[]);
    for (let k = 0; k < K; k++) {
      const eps = Array.from(rng.normal([2, L]).dataSync() as Float32Array);
      xs.forEach((x, b) => {
        const e = eps.slice(L * b, L * b + L);
        const z = e.map((ej, j) => ENCODER.m[j]! + Math.sqrt(ENCODER.v[j]!) * ej);
        const logPx =
          -0.5 * W.reduce((s, row, i) => s + (x[i]! - row[0]! * z[0]! - row[1]! * z[1]!) ** 2 / VAR + Math.log(2 * Math.PI * VAR), 0);
        const logPz = -0.5 * z.reduce((s, zj) => s + zj * zj + LOG2PI, 0);
        const logQ = -0.5 * e.reduce((s, ej, j) => s + ej * ej + Math.log(ENCODER.v[j]!) + LOG2PI, 0);
        logW[b]!.push(logPx + logPz - logQ);
        withoutQ[b]!.push(logPx + logPz);
      });
    }
    // log Σ e^{w_k} by pairwise log-add-exp: log(e^a + e^b) = max + log1p(e^{−|a − b|})
    const lse = (w: number[]) => w.slice(1).reduce((a, b) => Math.max(a, b) + Math.log1p(Math.exp(-Math.abs(a - b))), w[0]!);
    const want = logW.map((w) => Math.log(K) - lse(w));
    assert.ok(want[1]! > 1000, `the far example's cost ${want[1]} exercises the shift (e^{−cost} underflows)`);
    // measured: 3e-16 relative
    assertClose(terms.importanceWeighted, want, { rtol: 1e-13, label: "importance-weighted" });
    // the two mutations give values this test tells apart: a mean of log-weights, and log q dropped
    const mean = logW.map((w) => -w.reduce((s, v) => s + v, 0) / K);
    const dropped = withoutQ.map((w) => Math.log(K) - lse(w));
    for (let b = 0; b < 2; b++) {
      assert.ok(Math.abs(mean[b]! - want[b]!) > 0.01, "mean of log-weights");
      assert.ok(Math.abs(dropped[b]! - want[b]!) > 0.01, "log q dropped");
    }
    assertClose(total(terms), mean, { rtol: 1e-13, label: "the bound's estimate is the mean of −log-weights" });
  });
});
