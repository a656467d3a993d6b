/**
 * The oracle with full covariances, in float64 (exact cpu device), against references that do not
 * share its code: the 2×2 Gaussian density written out (determinant and inverse), quadrature over
 * a grid of x_0 for E[x_0|x_t] and the mixture's moments, central differences of the written-out
 * log-density for the score, Bayes' rule for classifier guidance, and a rotated diagonal mixture
 * against the axis-aligned one in rotated coordinates.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { componentOf } from "../data/mixtures.js";
import { convert } from "../diffusion/parameterization.js";
import { exactArray } from "../engine/index.js";
import { type Array, jit, numpy as np } from "../engine/jax.js";
import { classifierGuidedModel } from "../guidance/guided.js";
import { assertClose, useEngine } from "../testing/helpers.js";
import { fullCovarianceMixture, type GaussianMixture, mixtureMoments, symmetricEigen } from "./mixture.js";
import { mixtureLogDensity, mixtureParams, mixturePosterior, oracleClassifier, oracleModel } from "./oracle.js";

useEngine("cpu");

type M2 = [[number, number], [number, number]];
const WEIGHTS = [0.35, 0.65];
const MEANS = [
  [-1, 0.5],
  [1.2, -0.4],
];
const COVS: M2[] = [
  [
    [1.0, 0.6],
    [0.6, 0.5],
  ],
  [
    [0.3, -0.2],
    [-0.2, 0.8],
  ],
];
const MIX = fullCovarianceMixture(WEIGHTS, MEANS, COVS);
const XT = [
  [-1.2, 0.9],
  [0.3, -0.2],
  [1.5, 0.4],
  [-0.4, -1.1],
];
const GAMMAS = [-4, -1, 0.5, 2];

/** α² = sigmoid(−γ), σ² = sigmoid(γ) */
const levels = (gamma: number) => ({ alpha2: 1 / (1 + Math.exp(gamma)), sigma2: 1 / (1 + Math.exp(-gamma)) });

/** log N(x; m, S) for a 2×2 S, written out: det = ad − b², S⁻¹ = [[d, −b], [−b, a]]/det. */
function logNormal2(x: number[], m: number[], S: M2): number {
  const [[a, b], [, d]] = S;
  const det = a * d - b * b;
  const [u, v] = [x[0]! - m[0]!, x[1]! - m[1]!];
  return -0.5 * ((d * u * u - 2 * b * u * v + a * v * v) / det + Math.log(det) + 2 * Math.log(2 * Math.PI));
}

/** S⁻¹ y for a 2×2 S, written out. */
function solve2(S: M2, y: number[]): number[] {
  const [[a, b], [, d]] = S;
  const det = a * d - b * b;
  return [(d * y[0]! - b * y[1]!) / det, (-b * y[0]! + a * y[1]!) / det];
}

/** α² Σ_k + σ² I */
const noised = (k: number, gamma: number): M2 => {
  const { alpha2, sigma2 } = levels(gamma);
  const S = COVS[k]!;
  return [
    [alpha2 * S[0][0] + sigma2, alpha2 * S[0][1]],
    [alpha2 * S[1][0], alpha2 * S[1][1] + sigma2],
  ];
};

/** log π_k + log N(x; α μ_k, α² Σ_k + σ² I) for each k, directly. */
const logJoint = (x: number[], gamma: number) =>
  WEIGHTS.map(
    (w, k) =>
      Math.log(w) +
      logNormal2(
        x,
        MEANS[k]!.map((m) => Math.sqrt(levels(gamma).alpha2) * m),
        noised(k, gamma),
      ),
  );
const logSumExp = (v: number[]) => Math.max(...v) + Math.log(v.reduce((s, x) => s + Math.exp(x - Math.max(...v)), 0));
const logq = (x: number[], gamma: number) => logSumExp(logJoint(x, gamma));

/** The prior p(x_0) on a grid over [−9, 9]² (8 standard deviations past every mean), spacing 0.02 (spectrally accurate for these smooth, decaying integrands). */
const H = 0.02;
const GRID = globalThis.Array.from({ length: 901 }, (_, i) => -9 + i * H);
const PRIOR = new Float64Array(GRID.length ** 2);
GRID.forEach((x, i) => GRID.forEach((y, j) => (PRIOR[i * GRID.length + j] = Math.exp(logq([x, y], -Infinity)))));

/** ∫ f(x_0) p(x_0) N(x_t; α x_0, σ² I) dx_0 / ∫ p(x_0) N(x_t; α x_0, σ² I) dx_0 by quadrature, for f(x_0) = x_0. */
function posteriorMean(xt: number[], gamma: number): number[] {
  const { alpha2, sigma2 } = levels(gamma);
  const a = Math.sqrt(alpha2);
  let [z, m0, m1] = [0, 0, 0];
  GRID.forEach((x, i) =>
    GRID.forEach((y, j) => {
      const w = PRIOR[i * GRID.length + j]! * Math.exp(-((xt[0]! - a * x) ** 2 + (xt[1]! - a * y) ** 2) / (2 * sigma2));
      z += w;
      m0 += w * x;
      m1 += w * y;
    }),
  );
  return [m0 / z, m1 / z];
}

const batch = (rows: number[][]) => exactArray(rows.flat()).reshape([rows.length, rows[0]!.length]);
const read = (a: Array) => globalThis.Array.from(a.dataSync() as Float64Array);

describe("the oracle with full covariances (2-D, correlated, float64)", () => {
  const params = () => mixtureParams(MIX, np.float64);

  it("log q_t(x) equals the written-out 2×2 Gaussian densities, the data density (γ = −∞) included", () => {
    const gammas = [-Infinity, ...GAMMAS.slice(1)];
    const got = read(mixtureLogDensity(params(), batch(XT), exactArray(gammas)));
    assertClose(
      got,
      XT.map((x, i) => logq(x, gammas[i]!)),
      { rtol: 1e-12, atol: 1e-12, label: "log q" },
    );
  });

  it("E[x_0|x_t] equals quadrature of x_0 over p(x_0) N(x_t; α x_0, σ² I)", () => {
    const { x0 } = mixturePosterior(params(), batch(XT), exactArray(GAMMAS));
    assertClose(
      read(x0),
      XT.flatMap((x, i) => posteriorMean(x, GAMMAS[i]!)),
      { rtol: 1e-8, atol: 1e-9, label: "E[x0|xt]" },
    );
  });

  it("the score equals central differences of the written-out log-density", () => {
    const { score } = mixturePosterior(params(), batch(XT), exactArray(GAMMAS));
    const h = 1e-5;
    const fd = XT.flatMap((x, i) =>
      [0, 1].map(
        (d) =>
          (logq(
            x.map((v, e) => v + (e === d ? h : 0)),
            GAMMAS[i]!,
          ) -
            logq(
              x.map((v, e) => v - (e === d ? h : 0)),
              GAMMAS[i]!,
            )) /
          (2 * h),
      ),
    );
    assertClose(read(score), fd, { rtol: 1e-7, atol: 1e-8, label: "score" });
  });

  it("every target converts back to the same E[x_0|x_t] (Tweedie, through the exact conversions)", () => {
    const refs = XT.flatMap((x, i) => posteriorMean(x, GAMMAS[i]!));
    for (const target of ["x0", "eps", "v", "score"] as const) {
      const pred = oracleModel(target).apply(params(), batch(XT), np.zeros([4]), exactArray(GAMMAS));
      const x0 = target === "x0" ? pred : convert(pred, target, "x0", batch(XT), exactArray(GAMMAS));
      assertClose(read(x0), refs, { rtol: 1e-8, atol: 1e-9, label: `${target} → x0` });
    }
  });

  it("with label k: component k's denoiser μ_k + α Σ_k (α² Σ_k + σ² I)⁻¹ (x_t − α μ_k); label K: the mixture's", () => {
    const labels = np.array(Int32Array.of(0, 1, 2, 1), { dtype: np.int32 });
    const got = read(oracleModel("x0", 2).apply(params(), batch(XT), np.zeros([4]), exactArray(GAMMAS), labels));
    const expected = XT.flatMap((x, i) => {
      const k = [0, 1, 2, 1][i]!;
      if (k === 2) return posteriorMean(x, GAMMAS[i]!);
      const a = Math.sqrt(levels(GAMMAS[i]!).alpha2);
      const y = solve2(
        noised(k, GAMMAS[i]!),
        x.map((v, d) => v - a * MEANS[k]![d]!),
      );
      const S = COVS[k]!;
      return [0, 1].map((d) => MEANS[k]![d]! + a * (S[d]![0]! * y[0]! + S[d]![1]! * y[1]!));
    });
    assertClose(got, expected, { rtol: 1e-8, atol: 1e-9, label: "labelled E[x0|xt]" });
  });

  it("classifier guidance at scale 1 (jax-js grad of the oracle classifier, jitted) gives the exact conditional score −(α² Σ_y + σ² I)⁻¹ (x_t − α μ_y)", () => {
    const guided = classifierGuidedModel(oracleModel("score"), oracleClassifier(2));
    const Y = [1, 0, 0, 1];
    const step = jit((p: { net: unknown; classifier: unknown; labels: Array; scale: Array }, x: Array, g: Array) =>
      guided.apply(p as never, x, np.zeros([4]), g),
    );
    const got = read(
      step(
        { net: params(), classifier: params(), labels: np.array(Int32Array.from(Y), { dtype: np.int32 }), scale: exactArray([1]) },
        batch(XT),
        exactArray(GAMMAS),
      ),
    );
    const expected = XT.flatMap((x, i) => {
      const a = Math.sqrt(levels(GAMMAS[i]!).alpha2);
      return solve2(
        noised(Y[i]!, GAMMAS[i]!),
        x.map((v, d) => v - a * MEANS[Y[i]!]![d]!),
      ).map((v) => -v);
    });
    assertClose(got, expected, { rtol: 1e-8, atol: 1e-9, label: "guided score" });
  });

  it("mixtureMoments equal the mean and covariance of p(x_0) by quadrature", () => {
    let [z, m0, m1] = [0, 0, 0];
    PRIOR.forEach((p, i) => {
      const [x, y] = [GRID[Math.floor(i / GRID.length)]!, GRID[i % GRID.length]!];
      z += p;
      m0 += p * x;
      m1 += p * y;
    });
    const mean = [m0 / z, m1 / z];
    const c = [0, 0, 0];
    PRIOR.forEach((p, i) => {
      const [x, y] = [GRID[Math.floor(i / GRID.length)]! - mean[0]!, GRID[i % GRID.length]! - mean[1]!];
      c[0]! += (p * x * x) / z;
      c[1]! += (p * x * y) / z;
      c[2]! += (p * y * y) / z;
    });
    const moments = mixtureMoments(MIX);
    assertClose(moments.mean, mean, { atol: 1e-10, label: "mean" });
    assertClose(moments.covariance.flat(), [c[0]!, c[1]!, c[1]!, c[2]!], { atol: 1e-10, label: "covariance" });
  });

  it("componentOf is the argmax of the written-out densities (where ignoring the correlations would not be)", () => {
    const points = GRID.filter((_, i) => i % 60 === 0).flatMap((x) => GRID.filter((_, j) => j % 60 === 0).flatMap((y) => [x, y]));
    const got = componentOf(MIX, points);
    const n = points.length / 2;
    const direct = Int32Array.from({ length: n }, (_, i) => {
      const lp = logJoint([points[2 * i]!, points[2 * i + 1]!], -Infinity);
      return lp[0]! > lp[1]! ? 0 : 1;
    });
    assert.deepEqual(got, direct);
    const axisAligned = componentOf({ weights: WEIGHTS, means: MEANS, variances: MIX.variances }, points);
    assert.ok(
      axisAligned.some((k, i) => k !== direct[i]),
      "the correlations change no assignment: the test would prove nothing",
    );
  });
});

describe("a rotated axis-aligned mixture (3-D) is the axis-aligned one in rotated coordinates", () => {
  const rot = (axis: [number, number], angle: number) => {
    const R = [
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ];
    const [p, q] = axis;
    [R[p]![p], R[p]![q], R[q]![p], R[q]![q]] = [Math.cos(angle), -Math.sin(angle), Math.sin(angle), Math.cos(angle)];
    return R;
  };
  const matmul = (A: number[][], B: number[][]) => A.map((row) => B[0]!.map((_, j) => row.reduce((s, a, k) => s + a * B[k]![j]!, 0)));
  const R = matmul(rot([0, 1], 0.7), rot([1, 2], -0.4));
  const apply = (v: number[]) => R.map((row) => row.reduce((s, r, j) => s + r * v[j]!, 0));
  const diag: GaussianMixture = {
    weights: [0.4, 0.6],
    means: [
      [0.5, -1, 0.3],
      [-0.8, 0.6, 1.1],
    ],
    variances: [
      [0.5, 1.5, 0.2],
      [0.7, 0.7, 0.7],
    ],
  };
  // component 0 rotated (a full covariance), component 1 isotropic (stays diagonal: the oracle's identity block)
  const rotated = fullCovarianceMixture(diag.weights, diag.means.map(apply), [
    matmul(
      matmul(
        R,
        diag.variances[0]!.map((v, d) => [0, 1, 2].map((e) => (d === e ? v : 0))),
      ),
      R[0]!.map((_, j) => R.map((row) => row[j]!)),
    ),
    [0, 1, 2].map((d) => [0, 1, 2].map((e) => (d === e ? 0.7 : 0))),
  ]);
  const X = [
    [0.2, -0.5, 1.0],
    [-1.1, 0.3, 0.4],
    [0.9, 1.2, -0.7],
  ];
  const G = [-3, 0, 1.5];

  it("log q_t, E[x_0|x_t] and the score agree (R x for x, det R = 1)", () => {
    const d = mixturePosterior(mixtureParams(diag, np.float64), batch(X), exactArray(G));
    const r = mixturePosterior(mixtureParams(rotated, np.float64), batch(X.map(apply)), exactArray(G));
    const rows = (a: Array) => {
      const v = read(a);
      return X.map((_, i) => v.slice(3 * i, 3 * i + 3));
    };
    assertClose(read(r.x0), rows(d.x0).flatMap(apply), { rtol: 1e-12, atol: 1e-12, label: "E[x0|xt]" });
    assertClose(read(r.score), rows(d.score).flatMap(apply), { rtol: 1e-12, atol: 1e-12, label: "score" });
    const logD = read(mixtureLogDensity(mixtureParams(diag, np.float64), batch(X), exactArray(G)));
    assertClose(read(mixtureLogDensity(mixtureParams(rotated, np.float64), batch(X.map(apply)), exactArray(G))), logD, {
      rtol: 1e-12,
      atol: 1e-12,
      label: "log q",
    });
  });
});

describe("symmetricEigen (Jacobi)", () => {
  it("A = V diag(λ) Vᵀ with VᵀV = I for a 5×5 symmetric matrix", () => {
    const n = 5;
    const A = globalThis.Array.from({ length: n }, (_, i) =>
      globalThis.Array.from({ length: n }, (_, j) => Math.sin(1 + i + j) + (i === j ? 2 : 0) + 0.3 * Math.cos(i * j)),
    );
    const { values, vectors: V } = symmetricEigen(A);
    const rebuilt = A.map((_, i) => A.map((_, j) => values.reduce((s, l, k) => s + V[i]![k]! * l * V[j]![k]!, 0)));
    assertClose(rebuilt.flat(), A.flat(), { atol: 1e-12, label: "V diag(λ) Vᵀ" });
    const gram = A.map((_, i) => A.map((_, j) => V.reduce((s, row) => s + row[i]! * row[j]!, 0)));
    assertClose(
      gram.flat(),
      A.flat().map((_, k) => (Math.floor(k / n) === k % n ? 1 : 0)),
      { atol: 1e-12, label: "VᵀV" },
    );
  });
});
