/**
 * The score-based view: VE scores from VP models against closed forms, NCSN's annealed Langevin
 * vs plain Langevin on ncsn-gmm (mode proportions), predictor–corrector moments. The trained
 * NCSN-style score model is in score-model.test.ts.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { knownMixture } from "../data/known.js";
import { componentFractions } from "../data/mixtures.js";
import { mixtureParams, oracleModel } from "../densities/oracle.js";
import { DiffusionProcess } from "../diffusion/process.js";
import { Rng } from "../engine/index.js";
import { numpy as np } from "../engine/jax.js";
import { getSchedule } from "../schedule/index.js";
import { assertClose, useEngine } from "../testing/helpers.js";
import { AnnealedLangevinSampler, LangevinSampler } from "./langevin.js";
import { PredictorCorrectorSampler } from "./pc.js";
import { gammaOfSigma, geometricSigmas, veScore } from "./score.js";

useEngine("wasm");

const cosine = new DiffusionProcess(getSchedule("cosine"), 1000);
const gmm = knownMixture("ncsn-gmm");

describe("scores in NCSN coordinates", () => {
  it("the VE score of a VP ε-model equals ∇ log Σ π_k N(x; μ_k, (s_k² + σ̃²) I)", () => {
    const points = [
      [-4, -6],
      [0.5, 0.2],
      [6, 4.5],
    ];
    for (const sigma of [0.3, 2, 7]) {
      const n = points.length;
      const got = veScore(
        oracleModel("eps"),
        mixtureParams(gmm),
        np.array(points),
        np.zeros([n]),
        np.full([n], gammaOfSigma(sigma)),
      ).dataSync() as Float32Array;
      const want = points.flatMap(([x, y]) => {
        const comps = gmm.weights.map((w, k) => {
          const v = gmm.variances[k]![0]! + sigma * sigma;
          const [dx, dy] = [x! - gmm.means[k]![0]!, y! - gmm.means[k]![1]!];
          return { logp: Math.log(w) - Math.log(2 * Math.PI * v) - (dx * dx + dy * dy) / (2 * v), gx: -dx / v, gy: -dy / v };
        });
        const max = Math.max(...comps.map((c) => c.logp));
        const ws = comps.map((c) => Math.exp(c.logp - max));
        const z = ws.reduce((a, b) => a + b, 0);
        return [comps.reduce((s, c, k) => s + (ws[k]! / z) * c.gx, 0), comps.reduce((s, c, k) => s + (ws[k]! / z) * c.gy, 0)];
      });
      assertClose(got, want, { rtol: 1e-4, atol: 1e-5, label: `σ̃ = ${sigma}` });
    }
  });
});

describe("Langevin on ncsn-gmm with the exact scores (same uniform start, 3,000 steps each)", () => {
  const n = 10000;
  const init = { kind: "uniform" as const, low: [-8, -8], high: [8, 8] };
  const tol = 5 * Math.sqrt((0.8 * 0.2) / n);
  const den = { model: oracleModel("score"), params: mixtureParams(gmm) };

  it("annealed Langevin puts 0.8 of the samples in the heavy mode", () => {
    // NCSN's toy settings (σ̃ 20 → 1, ε = 0.1); with 100 steps per level the heavy mode gets ~0.78,
    // a finite-budget bias that 300 steps per level removes (measured 0.798 at n = 10,000)
    const sampler = new AnnealedLangevinSampler(cosine, {
      sigmas: geometricSigmas(20, 1, 10),
      stepsPerLevel: 300,
      epsilon: 0.1,
      init,
      denoise: false,
    });
    const heavy = componentFractions(gmm, sampler.sample(den, [n, 2], new Rng(21)).dataSync() as Float32Array)[0]!;
    assert.ok(Math.abs(heavy - 0.8) < tol, `heavy-mode fraction ${heavy} vs 0.8 ± ${tol}`);
  });

  it("plain Langevin on the clean score misses the weights (chains stay in their starting basin)", () => {
    const sampler = new LangevinSampler(cosine, { sigma: 0, steps: 3000, stepSize: 0.1, init });
    const heavy = componentFractions(gmm, sampler.sample(den, [n, 2], new Rng(21)).dataSync() as Float32Array)[0]!;
    assert.ok(Math.abs(heavy - 0.8) > (40 * tol) / 5, `heavy-mode fraction ${heavy} should be far from 0.8`);
  });
});

describe("predictor–corrector", () => {
  it("with the oracle recovers the Gaussian's mean and variances (5 standard errors)", () => {
    const N = 4000;
    const sampler = new PredictorCorrectorSampler(new DiffusionProcess(getSchedule("cosine"), 0), {
      snr: 0.16,
      correctorSteps: 1,
      variance: "posterior",
      steps: 500,
    });
    const x = sampler
      .sample({ model: oracleModel("eps"), params: mixtureParams(knownMixture("gaussian")) }, [N, 2], new Rng(3))
      .dataSync() as Float32Array;
    const mu = [1, -0.5],
      v = [0.36, 1.44];
    for (const d of [0, 1]) {
      const xs = x.filter((_, i) => i % 2 === d);
      const m = xs.reduce((s, a) => s + a, 0) / N;
      const s2 = xs.reduce((s, a) => s + (a - m) ** 2, 0) / (N - 1);
      assert.ok(Math.abs(m - mu[d]!) < 5 * Math.sqrt(v[d]! / N), `mean[${d}] ${m}`);
      assert.ok(Math.abs(s2 - v[d]!) < 5 * v[d]! * Math.sqrt(2 / (N - 1)), `var[${d}] ${s2}`);
    }
  });
});
