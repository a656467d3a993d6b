/**
 * The oracle against numerical integration: E[x_0|x_t] and ∇ log q(x_t) for a 1-D mixture by
 * quadrature over x_0 (float64), and Tweedie's formula linking its two independent outputs.
 */
import { describe, it } from "node:test";
import { convert } from "../diffusion/parameterization.js";
import { exactArray } from "../engine/index.js";
import { numpy as np } from "../engine/jax.js";
import { assertClose, useEngine } from "../testing/helpers.js";
import type { GaussianMixture } from "./mixture.js";
import { mixtureLogDensity, mixtureParams, mixturePosterior, oracleModel } from "./oracle.js";

useEngine("wasm");

const MIX: GaussianMixture = { weights: [0.3, 0.7], means: [[-2], [1.5]], variances: [[0.25], [0.64]] };
const XT = [-1.5, 0.2, 1.1, 2.4];
const GAMMAS = [-4, -1, 0.5, 2];

/** Quadrature over x_0 of p(x_0) N(x_t; α x_0, σ²): returns log q(x_t), E[x_0|x_t], d/dx_t log q. */
function brute(xt: number, gamma: number) {
  const a = Math.sqrt(1 / (1 + Math.exp(gamma)));
  const v = 1 / (1 + Math.exp(-gamma));
  const n = 200001;
  const lo = -12,
    hi = 12,
    h = (hi - lo) / (n - 1);
  let z = 0,
    m = 0,
    dz = 0;
  for (let i = 0; i < n; i++) {
    const x = lo + i * h;
    const prior = MIX.weights.reduce(
      (s, w, k) =>
        s + (w * Math.exp(-((x - MIX.means[k]![0]!) ** 2) / (2 * MIX.variances[k]![0]!))) / Math.sqrt(2 * Math.PI * MIX.variances[k]![0]!),
      0,
    );
    const lik = Math.exp(-((xt - a * x) ** 2) / (2 * v)) / Math.sqrt(2 * Math.PI * v);
    const w = prior * lik * h;
    z += w;
    m += w * x;
    dz += w * (-(xt - a * x) / v);
  }
  return { logq: Math.log(z), x0: m / z, score: dz / z };
}

describe("Gaussian-mixture oracle", () => {
  const params = () => mixtureParams(MIX, np.float64);
  const xt = () => exactArray(XT).reshape([4, 1]);
  const refs = XT.map((x, i) => brute(x, GAMMAS[i]!));

  it("E[x_0|x_t], the score and log q(x_t) equal quadrature over x_0", () => {
    const { x0, score } = mixturePosterior(params(), xt(), exactArray(GAMMAS));
    assertClose(
      x0.dataSync() as Float64Array,
      refs.map((r) => r.x0),
      { rtol: 1e-7, atol: 1e-9, label: "E[x0|xt]" },
    );
    assertClose(
      score.dataSync() as Float64Array,
      refs.map((r) => r.score),
      { rtol: 1e-7, atol: 1e-9, label: "score" },
    );
    const logq = mixtureLogDensity(params(), xt(), exactArray(GAMMAS));
    assertClose(
      logq.dataSync() as Float64Array,
      refs.map((r) => r.logq),
      { rtol: 1e-7, atol: 1e-9, label: "log q" },
    );
  });

  it("Tweedie: the score output converted to x_0 equals the posterior-mean output", () => {
    for (const target of ["score", "eps", "v"] as const) {
      const pred = oracleModel(target).apply(params(), xt(), np.zeros([4]), exactArray(GAMMAS));
      const x0 = convert(pred, target, "x0", xt(), exactArray(GAMMAS));
      assertClose(
        x0.dataSync() as Float64Array,
        refs.map((r) => r.x0),
        { rtol: 1e-7, atol: 1e-9, label: `${target} → x0` },
      );
    }
  });
});
