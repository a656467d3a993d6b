/**
 * The diffusion core against independent references: brute-force Bayes on a grid (float64),
 * DDPM's β-first definitions, empirical moments of samples, and the plain-JS definitions of
 * the four prediction targets.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { exactArray, Rng } from "../engine/index.js";
import { numpy as np } from "../engine/jax.js";
import { getSchedule } from "../schedule/index.js";
import { assertClose, useEngine } from "../testing/helpers.js";
import { posteriorMean, posteriorVariance, qSample, qStep } from "./forward.js";
import { weightedEpsError } from "./losses.js";
import { convert, type Target, targets } from "./parameterization.js";
import { DiffusionProcess } from "./process.js";

useEngine("wasm");

const data = (a: ReturnType<typeof exactArray>) => Array.from(a.dataSync() as Float64Array);

describe("posterior q(x_{t−1} | x_t, x_0)", () => {
  it("equals brute-force Bayes: q(x_{t−1}|x_0)·q(x_t|x_{t−1}) normalised on a grid", () => {
    // Reference chain straight from DDPM's definitions (linear β, T = 1000).
    const T = 1000;
    const betas = Array.from({ length: T + 1 }, (_, i) => (i === 0 ? 0 : 1e-4 + ((0.02 - 1e-4) * (i - 1)) / (T - 1)));
    const alphaBar = [1];
    for (let i = 1; i <= T; i++) alphaBar.push(alphaBar[i - 1]! * (1 - betas[i]!));
    const chain = new DiffusionProcess(getSchedule("linear"), T).chain!;
    const cases = [
      { t: 2, x0: 0.3, xt: 0.25 },
      { t: 10, x0: -1.2, xt: -0.9 },
      { t: 500, x0: 0.7, xt: -0.4 },
      { t: 1000, x0: 1.5, xt: 2.0 },
    ];
    for (const { t, x0, xt } of cases) {
      const priorMean = Math.sqrt(alphaBar[t - 1]!) * x0;
      const priorVar = 1 - alphaBar[t - 1]!;
      const a = Math.sqrt(1 - betas[t]!);
      // Grid wide and fine enough for the posterior (its std ≤ √β̃_t).
      const n = 400001;
      const sd = Math.sqrt(Math.min(priorVar, betas[t]!));
      const centre = (priorMean / priorVar + (a * xt) / betas[t]!) / (1 / priorVar + (a * a) / betas[t]!);
      let z = 0,
        m1 = 0,
        m2 = 0;
      for (let k = 0; k < n; k++) {
        const x = centre + ((k / (n - 1)) * 2 - 1) * 12 * sd;
        const logp = -0.5 * ((x - priorMean) ** 2 / priorVar + (xt - a * x) ** 2 / betas[t]!);
        const w = Math.exp(logp);
        z += w;
        m1 += w * x;
        m2 += w * x * x;
      }
      const mean = m1 / z;
      const variance = m2 / z - mean * mean;
      const gs = exactArray([chain.gamma[t - 1]!]);
      const gt = exactArray([chain.gamma[t]!]);
      const mu = posteriorMean(exactArray([xt]).reshape([1, 1]), exactArray([x0]).reshape([1, 1]), gs.ref, gt.ref);
      assertClose(data(mu), [mean], { rtol: 1e-7, atol: 1e-9, label: `μ_q at t=${t}` });
      assertClose(data(posteriorVariance(gs, gt)), [variance], { rtol: 1e-6, label: `Σ_q at t=${t}` });
      assertClose([chain.posteriorVariance[t]!], [variance], { rtol: 1e-6, label: `table β̃_${t}` });
    }
  });
});

describe("forward process", () => {
  it("qStep is DDPM's q(x_t|x_{t−1}) = N(√α_t x_{t−1}, β_t)", () => {
    const chain = new DiffusionProcess(getSchedule("cosine"), 100).chain!;
    for (const t of [1, 2, 50, 100]) {
      const run = (eps: number) =>
        data(
          qStep(
            exactArray([2]).reshape([1, 1]),
            exactArray([chain.gamma[t - 1]!]),
            exactArray([chain.gamma[t]!]),
            exactArray([eps]).reshape([1, 1]),
          ),
        )[0]!;
      const mean = run(0);
      assertClose([mean], [Math.sqrt(chain.alpha[t]!) * 2], { rtol: 1e-9, label: `mean t=${t}` });
      assertClose([run(1) - mean], [Math.sqrt(chain.beta[t]!)], { rtol: 1e-7, label: `std t=${t}` });
    }
  });

  it("samples of q(x_t|x_0) have mean √ᾱ_t x_0 and variance 1 − ᾱ_t (5 standard errors)", () => {
    const chain = new DiffusionProcess(getSchedule("linear"), 1000).chain!;
    const rng = new Rng(1234);
    const N = 20000;
    const x0 = [1.5, -0.5];
    for (const t of [10, 300, 900]) {
      const x0s = np.broadcastTo(np.array([x0]), [N, 2]);
      const xt = qSample(x0s, np.full([N], chain.gamma[t]!), rng.normal([N, 2])).dataSync() as Float32Array;
      const a = Math.sqrt(chain.alphaBar[t]!);
      const v = 1 - chain.alphaBar[t]!;
      for (let d = 0; d < 2; d++) {
        let m = 0,
          s = 0;
        for (let k = 0; k < N; k++) m += xt[2 * k + d]!;
        m /= N;
        for (let k = 0; k < N; k++) s += (xt[2 * k + d]! - m) ** 2;
        s /= N - 1;
        const meanTol = 5 * Math.sqrt(v / N);
        const varTol = 5 * v * Math.sqrt(2 / (N - 1));
        assert.ok(Math.abs(m - a * x0[d]!) < meanTol, `t=${t} d=${d}: mean ${m} vs ${a * x0[d]!} ± ${meanTol}`);
        assert.ok(Math.abs(s - v) < varTol, `t=${t} d=${d}: variance ${s} vs ${v} ± ${varTol}`);
      }
    }
  });
});

describe("parameterizations", () => {
  // Plain definitions: x_t = α x_0 + σ ε, v = α ε − σ x_0, s = −ε/σ.
  const B = 5;
  const gammas = [-9, -2, 0, 3, 8];
  const x0 = [0.3, -1.1, 2.0, 0.05, -0.7];
  const eps = [1.2, 0.4, -0.8, -1.5, 0.9];
  const alpha = gammas.map((g) => Math.sqrt(1 / (1 + Math.exp(g))));
  const sigma = gammas.map((g) => Math.sqrt(1 / (1 + Math.exp(-g))));
  const xt = x0.map((x, b) => alpha[b]! * x + sigma[b]! * eps[b]!);
  const truth: Record<Target, number[]> = {
    x0,
    eps,
    v: eps.map((e, b) => alpha[b]! * e - sigma[b]! * x0[b]!),
    score: eps.map((e, b) => -e / sigma[b]!),
  };
  const col = (v: number[]) => exactArray(v).reshape([B, 1]);

  it("convert maps each exact target to every other exactly (float64)", () => {
    for (const from of targets) {
      for (const to of targets) {
        const out = convert(col(truth[from]), from, to, col(xt), exactArray(gammas));
        assertClose(data(out), truth[to], { rtol: 1e-10, atol: 1e-12, label: `${from} → ${to}` });
      }
    }
  });

  it("round trips any prediction (not only exact ones) through every target", () => {
    const pred = [0.9, -2.2, 0.1, 1.7, -0.3];
    for (const from of targets) {
      for (const to of targets) {
        const there = convert(col(pred), from, to, col(xt), exactArray(gammas));
        const back = convert(there, to, from, col(xt), exactArray(gammas));
        assertClose(data(back), pred, { rtol: 1e-9, atol: 1e-12, label: `${from} → ${to} → ${from}` });
      }
    }
  });
});

describe("loss pieces", () => {
  it("weightedEpsError is w_b · Σ_d (ε − ε̂)² per example, for per-example weights", () => {
    const eps = exactArray([1, 2, 3, 4, 5, 6]).reshape([3, 2]);
    const epsHat = exactArray([0, 2, 1, 1, 5, 8]).reshape([3, 2]);
    const out = weightedEpsError(eps, epsHat, exactArray([0.5, 2, 3]));
    assertClose(data(out), [0.5 * 1, 2 * (4 + 9), 3 * (0 + 4)], { rtol: 1e-12, label: "weighted error" });
  });
});
