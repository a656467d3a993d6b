/**
 * The probability-flow likelihood of the exact oracle equals the data's exact log-density point by
 * point; the divergence it integrates matches finite differences of the drift, and Hutchinson's
 * estimate averages to it.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { knownMixture } from "../data/known.js";
import { sampleMixtureWithLabels } from "../data/mixtures.js";
import { identityNormalization } from "../data/normalize.js";
import type { GaussianMixture } from "../densities/mixture.js";
import { mixtureLogDensity, mixtureParams, oracleModel } from "../densities/oracle.js";
import { flowWithDivergence } from "../diffusion/flow.js";
import { DiffusionProcess } from "../diffusion/process.js";
import { Rng } from "../engine/index.js";
import { numpy as np } from "../engine/jax.js";
import { getSchedule } from "../schedule/index.js";
import { useEngine } from "../testing/helpers.js";
import { meanAndStdError } from "./likelihood.js";
import { odeLikelihood } from "./ode-likelihood.js";

useEngine("wasm");

// cosine with T = 1000: the prior level has α_T ≈ 5e−5, so N(0, I) and the exact q_T differ by < 1e−3 nats at these points
const process = new DiffusionProcess(getSchedule("cosine"), 1000);

describe("probability-flow ODE likelihood of the exact oracle", () => {
  const cases: [string, GaussianMixture][] = [
    ["N(1.5, 0.5²)", { weights: [1], means: [[1.5]], variances: [[0.25]] }],
    ["eight-gaussians", knownMixture("eight-gaussians")],
  ];
  for (const [name, mixture] of cases) {
    it(`${name}: log p(x) from the ODE equals the exact log q(x) at the starting level, point by point`, () => {
      const D = mixture.means[0]!.length;
      const test = sampleMixtureWithLabels(mixture, 24, new Rng(4));
      const got = odeLikelihood({ model: oracleModel("eps"), params: mixtureParams(mixture) }, process, test, {
        normalization: identityNormalization(D),
        rng: new Rng(5),
        rtol: 1e-6,
        atol: 1e-6,
      });
      const g0 = process.reconstructionLevel().gamma;
      const exact = mixtureLogDensity(
        mixtureParams(mixture),
        np.array(test.points).reshape([test.n, D]),
        np.full([test.n], g0),
      ).dataSync() as Float32Array;
      assert.equal(got.divergence, "exact");
      // solver tolerance 1e−6 on a path of length ~10 in γ, float32 network values (~1e−6 relative) and the prior's 1e−3
      got.logLikelihood.forEach((lp, i) => assert.ok(Math.abs(lp - exact[i]!) < 2e-3, `point ${i}: ODE ${lp} vs exact ${exact[i]}`));
      assert.ok(got.evaluations > 20 && got.evaluations < 5000, `evaluations ${got.evaluations}`);
    });
  }
});

describe("the divergence of the probability-flow drift", () => {
  const mixture = knownMixture("eight-gaussians");
  const params = () => mixtureParams(mixture);
  const model = oracleModel("v");
  const x = [
    [0.3, 1.2],
    [-1.9, 0.1],
    [1.4, -1.5],
  ];
  const gamma = -1.2;
  const drift = (pts: number[][]) =>
    flowWithDivergence(
      model,
      params(),
      np.array(pts),
      np.zeros([pts.length]),
      np.full([pts.length], gamma),
      null,
    ).drift.dataSync() as Float32Array;

  /** The exact divergence ∇·f at the points x (no probe: the whole trace of the drift's Jacobian). */
  const exactDivergence = () =>
    flowWithDivergence(model, params(), np.array(x), np.zeros([3]), np.full([3], gamma), null).divergence.dataSync() as Float32Array;

  it("exact: the trace of the drift's Jacobian by central differences (float64 step 1e−3)", () => {
    const exact = exactDivergence();
    const h = 1e-2;
    x.forEach((p, b) => {
      let trace = 0;
      for (const d of [0, 1]) {
        const up = p.map((v, k) => (k === d ? v + h : v));
        const down = p.map((v, k) => (k === d ? v - h : v));
        trace += (drift([up])[d]! - drift([down])[d]!) / (2 * h);
      }
      // central differences err by h²/6·f''' (~1e−4 here) plus float32 rounding / h (~1e−5)
      assert.ok(Math.abs(trace - exact[b]!) < 2e-3, `point ${b}: finite differences ${trace} vs ${exact[b]}`);
    });
  });

  it("Hutchinson: the mean over 4,000 Rademacher probes is the exact divergence (5 standard errors)", () => {
    const K = 4000;
    const exact = exactDivergence();
    const rng = new Rng(7);
    const tile = np.array(x.flatMap((p) => Array.from({ length: K }, () => p))); // [3K, 2]
    const probe = np
      .array(Float32Array.from(rng.uniform([3 * K * 2]).dataSync() as Float32Array, (u) => (u < 0.5 ? -1 : 1)))
      .reshape([3 * K, 2]);
    const est = flowWithDivergence(
      model,
      params(),
      tile,
      np.zeros([3 * K]),
      np.full([3 * K], gamma),
      probe,
    ).divergence.dataSync() as Float32Array;
    for (let b = 0; b < 3; b++) {
      const { mean, se } = meanAndStdError(est.subarray(b * K, (b + 1) * K));
      assert.ok(Math.abs(mean - exact[b]!) < 5 * se + 1e-5, `point ${b}: Hutchinson ${mean} ± ${se} vs exact ${exact[b]}`);
      assert.ok(se > 0, "the probes vary");
    }
  });
});
