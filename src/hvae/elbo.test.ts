/**
 * The Markovian HVAE's −ELBO (float64 on `cpu`) for linear-Gaussian encoders and decoders on Gaussian
 * data, against src/testing/linear-gaussian.ts: one path's terms written out; their expectation over
 * x and the path in closed form (exactly, at sigma points, and by Monte Carlo within its standard
 * error); and for T = 1, probabilistic PCA's exact marginal likelihood.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { exactArray } from "../engine/index.js";
import type { Array as JaxArray } from "../engine/jax.js";
import { ShapeError } from "../errors.js";
import { Random } from "../testing/fuzz.js";
import { assertClose, useEngine } from "../testing/helpers.js";
import {
  expectedConditionalKl,
  expectedTerms,
  jaxHvae,
  type LinearHvae,
  type Matrix,
  matMul,
  matVec,
  pathTerms,
  transpose,
} from "../testing/linear-gaussian.js";
import { discretizedReconstruction, type HvaeElboTerms, markovianHvaeElbo, summarizeHvaeElbo } from "./elbo.js";

useEngine("cpu");

const read = (a: JaxArray) => Float64Array.from(a.dataSync() as Float64Array);
const readTerms = (t: HvaeElboTerms<JaxArray>): HvaeElboTerms<Float64Array> => ({
  reconstruction: read(t.reconstruction),
  consistency: t.consistency.map(read),
  prior: read(t.prior),
});
const flat = (t: HvaeElboTerms<number>) => [t.reconstruction, ...t.consistency, t.prior];
const rows = (points: number[][]) => exactArray(points.flat()).reshape([points.length, points[0]!.length]);

// T = 3 levels of dimensions 3 (x) → 2 → 2 → 1
const H: LinearHvae = {
  encoders: [
    {
      M: [
        [0.6, -0.3, 0.2],
        [0.1, 0.5, -0.4],
      ],
      c: [0.1, -0.2],
      logVar: [-1.2, -0.7],
    },
    {
      M: [
        [0.8, 0.3],
        [-0.2, 0.9],
      ],
      c: [0.05, 0.3],
      logVar: [-0.5, -1.0],
    },
    { M: [[0.7, -0.6]], c: [-0.1], logVar: [-0.3] },
  ],
  decoders: [
    {
      M: [
        [1.1, 0.2],
        [-0.4, 0.9],
        [0.3, -0.7],
      ],
      c: [0.2, 0.0, -0.1],
      logVar: [-1.5, -1.1, -0.9],
    },
    {
      M: [
        [0.9, -0.1],
        [0.4, 1.2],
      ],
      c: [-0.05, 0.1],
      logVar: [-0.8, -0.6],
    },
    { M: [[1.3], [-0.5]], c: [0.0, 0.2], logVar: [-0.4, -0.2] },
  ],
};
const DIMS = [3, 2, 2, 1];
// the data: x = m + L ξ, ξ ~ N(0, I)
const MEAN = [0.3, -0.5, 0.8];
const L: Matrix = [
  [1.0, 0, 0],
  [0.4, 0.8, 0],
  [-0.3, 0.2, 0.6],
];
const S = matMul(L, transpose(L));

/** The library's terms for points whose first 3 coordinates are ξ (x = m + Lξ) and the rest ε_1, ε_2, ε_3. */
function libraryTerms(h: LinearHvae, points: number[][]): HvaeElboTerms<Float64Array> {
  const offsets = DIMS.map((_, i) => DIMS.slice(0, i).reduce((a, b) => a + b, 0));
  const part = (i: number) => points.map((p) => p.slice(offsets[i], offsets[i]! + DIMS[i]!));
  const x = part(0).map((xi) => matVec(L, xi).map((v, k) => v + MEAN[k]!));
  return readTerms(
    markovianHvaeElbo(
      jaxHvae(h),
      rows(x),
      [1, 2, 3].map((i) => rows(part(i))),
    ),
  );
}

/** Per term, the mean over examples. */
const means = (t: HvaeElboTerms<Float64Array>) =>
  flat({ reconstruction: avg(t.reconstruction), consistency: t.consistency.map(avg), prior: avg(t.prior) });
const avg = (a: Float64Array) => a.reduce((s, v) => s + v, 0) / a.length;

/** The 2n points ±√n e_k: their mean and covariance are 0 and I, so they average any quadratic exactly as N(0, I) does. */
const sigmaPoints = (n: number) =>
  [1, -1].flatMap((sign) => Array.from({ length: n }, (_, k) => Array.from({ length: n }, (_, j) => (j === k ? sign * Math.sqrt(n) : 0))));

/** Standard normal points from a seeded stream (Box–Muller, float64). */
function normalPoints(n: number, dim: number, seed: number): number[][] {
  const random = new Random(seed);
  const draw = () => Math.sqrt(-2 * Math.log(1 - random.next())) * Math.cos(2 * Math.PI * random.next());
  return Array.from({ length: n }, () => Array.from({ length: dim }, draw));
}

describe("markovianHvaeElbo on one path", () => {
  it("gives the derivation's terms, written out, at the path's latents", () => {
    const points = normalPoints(4, 8, 1);
    const got = libraryTerms(H, points);
    points.forEach((p, b) => {
      const x = matVec(L, p.slice(0, 3)).map((v, k) => v + MEAN[k]!);
      const want = pathTerms(H, x, [p.slice(3, 5), p.slice(5, 7), p.slice(7, 8)]);
      // measured: 1e-16 relative. Catches log q − log p flipped, p(z_t|z_{t+1}) taken from decoders[t − 1]
      // or at z_{t−1}, z_t drawn from the wrong encoder, a prior KL at z_{T−1} or of the wrong sign
      assertClose(
        flat({ reconstruction: got.reconstruction[b]!, consistency: got.consistency.map((c) => c[b]!), prior: got.prior[b]! }),
        flat(want),
        {
          rtol: 1e-12,
          label: `example ${b}`,
        },
      );
    });
  });

  it("asks for as many encoders, decoders and noise draws as levels", () => {
    const x = () => rows([[0, 0, 0]]);
    const { encoders, decoders } = jaxHvae(H);
    assert.throws(() => markovianHvaeElbo({ encoders, decoders: decoders.slice(1) }, x(), []), ShapeError);
    assert.throws(() => markovianHvaeElbo({ encoders: [], decoders: [] }, x(), []), ShapeError);
  });
});

describe("markovianHvaeElbo with the discretised 8-bit decoder", () => {
  it("scores x by softmax_k(−½ e^{−γ} (x̂ − x_k)²) over the 256 bins at the bottom decoder's mean; the other terms stay the path's", () => {
    const gamma = -5.5;
    const bins = Array.from({ length: 256 }, (_, k) => (2 * k) / 255 - 1);
    const points = normalPoints(3, 8, 4);
    // x on the grid: pixels k = 3, 128, 250 of example 0, and others, as the decoder expects
    const x = points.map((_, b) => [3 + 40 * b, 128 - 30 * b, 250 - 7 * b].map((k) => bins[k]!));
    const hvae = { ...jaxHvae(H), reconstruction: discretizedReconstruction(exactArray([gamma])) };
    const got = readTerms(
      markovianHvaeElbo(
        hvae,
        rows(x),
        [3, 5, 7].map((o, i) => rows(points.map((p) => p.slice(o, o + DIMS[i + 1]!)))),
      ),
    );
    points.forEach((p, b) => {
      const eps = [p.slice(3, 5), p.slice(5, 7), p.slice(7, 8)];
      const path = pathTerms(H, x[b]!, eps);
      const e = H.encoders[0]!;
      const z1 = matVec(e.M, x[b]!).map((m, k) => m + e.c[k]! + Math.exp(0.5 * e.logVar[k]!) * eps[0]![k]!);
      const d = H.decoders[0]!;
      const xHat = matVec(d.M, z1).map((m, k) => m + d.c[k]!);
      const logit = (mean: number, v: number) => -0.5 * Math.exp(-gamma) * (mean - v) ** 2;
      const logP = xHat.reduce((s, m, i) => {
        const logits = bins.map((v) => logit(m, v));
        const top = Math.max(...logits);
        return s + logit(m, x[b]![i]!) - top - Math.log(logits.reduce((a, l) => a + Math.exp(l - top), 0));
      }, 0);
      // the reconstruction changes (a Gaussian decoder's would differ by far more than the tolerance); nothing else does
      assertClose(
        flat({ reconstruction: got.reconstruction[b]!, consistency: got.consistency.map((c) => c[b]!), prior: got.prior[b]! }),
        flat({ ...path, reconstruction: -logP }),
        { rtol: 1e-10, label: `example ${b}` },
      );
    });
  });
});

describe("the expected −ELBO of a linear-Gaussian HVAE on Gaussian data", () => {
  const want = expectedTerms(H, MEAN, S);

  it("the terms averaged at sigma points of (ξ, ε) are the joint Gaussian's closed forms", () => {
    // every term is quadratic in (ξ, ε_1, ε_2, ε_3), so the 16 points give the expectation exactly
    // (measured: 4e-16 relative); a sum over a wrong level or a wrong variance shows at once
    assertClose(means(libraryTerms(H, sigmaPoints(8))), flat(want), { rtol: 1e-12, label: "terms" });
  });

  it("the Monte Carlo means lie within 4 standard errors of the closed forms, the conditional-KL form does not", () => {
    const n = 4000;
    const got = libraryTerms(H, normalPoints(n, 8, 7));
    const perTerm = [got.reconstruction, ...got.consistency, got.prior];
    const totals = got.reconstruction.map((r, b) => r + got.consistency[0]![b]! + got.consistency[1]![b]! + got.prior[b]!);
    const stdError = (a: Float64Array) => {
      const m = avg(a);
      return Math.sqrt(a.reduce((s, v) => s + (v - m) ** 2, 0) / (a.length - 1) / a.length);
    };
    const wants = flat(want);
    perTerm.forEach((a, i) => {
      assert.ok(Math.abs(avg(a) - wants[i]!) < 4 * stdError(a), `term ${i}: ${avg(a)} vs ${wants[i]} (se ${stdError(a)})`);
    });
    const total = wants.reduce((s, v) => s + v, 0);
    assert.ok(Math.abs(avg(totals) - total) < 4 * stdError(totals), `total ${avg(totals)} vs ${total}`);
    // the analytic KL(q(z_t|z_{t−1}) ‖ p(z_t|z_{t+1})) given both neighbours estimates another number:
    // this check would reject a consistency term implemented that way
    for (const t of [1, 2]) {
      const kl = expectedConditionalKl(H, MEAN, S, t);
      const se = stdError(got.consistency[t - 1]!);
      assert.ok(Math.abs(kl - wants[t]!) > 10 * se, `level ${t}: conditional KL ${kl} vs ${wants[t]} (se ${se})`);
    }
  });

  it("summarizeHvaeElbo: the VDM's summary with the consistency terms as its diffusion term, and each level apart", () => {
    const terms = libraryTerms(H, sigmaPoints(8));
    const s = summarizeHvaeElbo(terms, 3);
    const [rec, c1, c2, prior] = flat(want);
    const nats = rec! + c1! + c2! + prior!;
    assertClose([s.nats, s.bpd, s.terms.diffusion], [nats, nats / (3 * Math.LN2), c1! + c2!], { rtol: 1e-12, label: "summary" });
    assertClose(
      s.consistency.flatMap((c) => [c.nats, c.bpd]),
      [c1!, c1! / (3 * Math.LN2), c2!, c2! / (3 * Math.LN2)],
      { rtol: 1e-12, label: "levels" },
    );
  });
});

describe("T = 1 with a linear decoder is probabilistic PCA", () => {
  // p(x|z) = N(Wz + μ, σ² I), p(z) = N(0, I); W's columns are orthogonal, so the posterior
  // N(P⁻¹Wᵀ(x − μ), σ² P⁻¹) with P = WᵀW + σ² I is diagonal and an encoder can be exact
  const W: Matrix = [
    [0.5, 16 / 30],
    [1, 8 / 30],
    [1, -16 / 30],
  ];
  const MU = [0.2, -0.1, 0.5];
  const S2 = 0.3;
  const P = matMul(transpose(W), W).map((row, k) => row[k]! + S2); // the diagonal of P
  const posterior = (shrink: number, extraLogVar: number): LinearHvae => ({
    encoders: [
      {
        M: transpose(W).map((row, k) => row.map((v) => (shrink * v) / P[k]!)),
        c: transpose(W).map((row, k) => (-shrink * row.reduce((s, v, d) => s + v * MU[d]!, 0)) / P[k]!),
        logVar: P.map((p) => Math.log(S2 / p) + extraLogVar),
      },
    ],
    decoders: [{ M: W, c: MU, logVar: [S2, S2, S2].map(Math.log) }],
  });
  const XS = [
    [0.9, -1.2, 0.4],
    [-0.3, 0.6, 2.0],
    [0.2, 0.4, 0.5],
  ];

  /** log N(x; μ, WWᵀ + σ² I), by a Cholesky factor in float64. */
  function logMarginal(x: number[]): number {
    const C = matMul(W, transpose(W)).map((row, i) => row.map((v, j) => v + (i === j ? S2 : 0)));
    const n = C.length;
    const R: Matrix = C.map(() => new Array<number>(n).fill(0));
    for (let j = 0; j < n; j++)
      for (let i = j; i < n; i++) {
        const s = C[i]![j]! - R[i]!.slice(0, j).reduce((acc, v, k) => acc + v * R[j]![k]!, 0);
        R[i]![j] = i === j ? Math.sqrt(s) : s / R[j]![j]!;
      }
    const y: number[] = [];
    for (let i = 0; i < n; i++) y.push((x[i]! - MU[i]! - R[i]!.slice(0, i).reduce((acc, v, k) => acc + v * y[k]!, 0)) / R[i]![i]!);
    const logDet = 2 * R.reduce((s, row, i) => s + Math.log(row[i]!), 0);
    return -0.5 * (n * Math.log(2 * Math.PI) + logDet + y.reduce((s, v) => s + v * v, 0));
  }

  /** The expected ELBO at each x: the terms at the 4 sigma points of ε, averaged. */
  function elbo(h: LinearHvae): number[] {
    const eps = sigmaPoints(2);
    const x = XS.flatMap((xi) => eps.map(() => xi));
    const t = readTerms(markovianHvaeElbo(jaxHvae(h), rows(x), [rows(XS.flatMap(() => eps))]));
    return XS.map((_, i) => -avg(t.reconstruction.subarray(4 * i, 4 * i + 4)) - avg(t.prior.subarray(4 * i, 4 * i + 4)));
  }

  it("with the posterior as encoder, the ELBO is the exact marginal log-likelihood", () => {
    // measured: 2e-16 relative
    assertClose(elbo(posterior(1, 0)), XS.map(logMarginal), { rtol: 1e-12, label: "log p(x)" });
  });

  it("with a worse encoder (shrunk mean, or wider), the ELBO is strictly below it", () => {
    for (const h of [posterior(0.7, 0), posterior(1, 0.5)]) {
      elbo(h).forEach((e, i) => assert.ok(e < logMarginal(XS[i]!) - 1e-3, `x ${i}: ${e} vs ${logMarginal(XS[i]!)}`));
    }
  });
});
