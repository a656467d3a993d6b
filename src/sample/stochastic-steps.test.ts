/**
 * The stochastic samplers' steps, one at a time, with their noise fixed (`RecordedRng`), against
 * float64 formulas written out here from the papers (ancestral, predictor–corrector, Langevin and
 * annealed Langevin), in the setting of testing/steps-reference.ts: each step x_i → x_{i−1} the
 * sampler reports is recomputed from the x_i it reported before.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { assertClose, useEngine } from "../testing/helpers.js";
import { alpha, sigmoid } from "../testing/reference.js";
import { checkSteps, den, lin, model, process, SHAPE, timeOfGamma, type Vec, vpScore } from "../testing/steps-reference.js";
import { RecordedRng } from "../testing/timed-oracle.js";
import { AncestralSampler, type AncestralVariance } from "./ancestral.js";
import type { Init } from "./init.js";
import { AnnealedLangevinSampler, LangevinSampler } from "./langevin.js";
import { PredictorCorrectorSampler } from "./pc.js";
import type { Sampler } from "./sampler.js";

useEngine("cpu");

/** Ho et al.'s step from level i to i−1 with ᾱ = sigmoid(−γ): μ and σ² as Algorithm 2 and eq. 7 write them */
function ancestralStep(x: Vec, x0: Vec, gt: number, gs: number, variance: AncestralVariance, z: Vec | null): Vec {
  const [abt, abs] = [sigmoid(-gt), sigmoid(-gs)];
  const beta = 1 - abt / abs;
  const mean = lin((Math.sqrt(abt / abs) * (1 - abs)) / (1 - abt), x, (Math.sqrt(abs) * beta) / (1 - abt), x0);
  const v = variance === "posterior" ? ((1 - abs) / (1 - abt)) * beta : beta;
  return z ? mean.map((m, k) => m + Math.sqrt(v) * z[k]!) : mean;
}

describe("stochastic samplers' steps with their noise fixed (float64, a model reading t)", () => {
  for (const variance of ["posterior", "beta"] as const) {
    it(`ancestral (σ² = ${variance}): x_{i−1} = μ_q(x_i, x̂_0) + σ_i z, no noise on the last step`, () => {
      const sampler = new AncestralSampler(process, { steps: 4, variance, spacing: "log-snr" });
      assert.equal(sampler.nfe, 4);
      const { t, gamma } = sampler.levels;
      checkSteps(
        sampler,
        (i, x, draw) => {
          const [gt, gs] = [Math.fround(gamma[i]!), Math.fround(gamma[i - 1]!)];
          const z = draw(); // drawn at the last step too, unused there
          return ancestralStep(x, model(x, t[i]!, gamma[i]!), gt, gs, variance, i > 1 ? z : null);
        },
        { rtol: 1e-11, atol: 1e-11 },
        `ancestral ${variance}`,
      ); // measured 1.8e-12
    });
  }

  for (const variance of ["posterior", "beta"] as const) {
    it(`predictor–corrector (σ² = ${variance}): per level 2 corrections x += ε s + √(2ε) z, ε = 2 (ᾱ_i/ᾱ_{i−1}) (r ‖z‖/‖s‖)² (norms averaged over the batch), then the ancestral step`, () => {
      const [snr, correctorSteps] = [0.16, 2];
      const sampler = new PredictorCorrectorSampler(process, { snr, correctorSteps, variance, steps: 3 });
      assert.equal(sampler.nfe, 9);
      const { t, gamma } = sampler.levels;
      const norm = (v: Vec) => [0, 1, 2, 3].reduce((s, b) => s + Math.hypot(v[2 * b]!, v[2 * b + 1]!), 0) / 4;
      checkSteps(
        sampler,
        (i, x, draw) => {
          for (let k = 0; k < correctorSteps; k++) {
            const s = vpScore(x, t[i]!, gamma[i]!);
            const z = draw();
            const eps = 2 * (sigmoid(-gamma[i]!) / sigmoid(-gamma[i - 1]!)) * ((snr * norm(z)) / norm(s)) ** 2;
            x = x.map((v, d) => v + eps * s[d]! + Math.sqrt(2 * eps) * z[d]!);
          }
          const [gt, gs] = [Math.fround(gamma[i]!), Math.fround(gamma[i - 1]!)];
          const z = draw(); // drawn at the last step too, unused there
          return ancestralStep(x, model(x, t[i]!, gamma[i]!), gt, gs, variance, i > 1 ? z : null);
        },
        { rtol: 5e-8, atol: 5e-8 },
        `pc ${variance}`,
      ); // measured 8.2e-9 (float32 α, σ of the level in the score)
    });
  }
});
/** NCSN's VE score at x̃, level σ̃: α·s_VP(α x̃) at γ = 2 log σ̃, t = the schedule's time of γ */
function veScore(x: Vec, sigmaTilde: number): Vec {
  const g = 2 * Math.log(sigmaTilde);
  const a = alpha(Math.fround(g));
  return vpScore(
    x.map((v) => v * a),
    timeOfGamma(g),
    g,
  ).map((s) => s * a);
}

describe("Langevin steps with their noise fixed (float64, a model reading t)", () => {
  const start = (init: Init, u: Vec) =>
    init.kind === "gaussian" ? u.map((v) => v * init.std) : u.map((v, k) => init.low[k % 2]! + v * (init.high[k % 2]! - init.low[k % 2]!));
  const langevin = (x: Vec, sigmaTilde: number, eta: number, z: Vec) => {
    const s = veScore(x, sigmaTilde);
    return x.map((v, k) => v + (eta / 2) * s[k]! + Math.sqrt(eta) * z[k]!);
  };
  const run = (sampler: Sampler) => {
    const rng = new RecordedRng(3);
    const seen: { index: number; x: Float64Array }[] = [];
    const out = sampler.sample(den(), SHAPE, rng.asRng, {
      onStep: (index, x) => void seen.push({ index, x: Float64Array.from(x.ref.dataSync() as ArrayLike<number>) }),
    });
    return { draws: rng.draws, seen, out: Float64Array.from(out.dataSync() as ArrayLike<number>) };
  };
  // float32 α and σ of the level inside the score: measured 3.5e-9
  const tol = { rtol: 2e-8, atol: 2e-8 };

  for (const init of [
    { kind: "uniform", low: [-2, -1], high: [3, 2] },
    { kind: "gaussian", std: 2 },
  ] as Init[]) {
    it(`Langevin at σ̃ = 0.5 from a ${init.kind} start: x ← x + (η/2) s(x, σ̃) + √η z`, () => {
      const sampler = new LangevinSampler(process, { sigma: 0.5, steps: 3, stepSize: 0.05, init });
      assert.equal(sampler.nfe, 3);
      const { draws, seen, out } = run(sampler);
      assert.deepEqual(
        seen.map((s) => s.index),
        [2, 1, 0],
      );
      assert.equal(draws.length, 4);
      let x: Vec = start(init, draws[0]!);
      seen.forEach(({ x: got }, k) => {
        assertClose(got, langevin(x, 0.5, 0.05, draws[k + 1]!), { ...tol, label: `step ${k}` });
        x = got;
      });
      assert.deepEqual(out, x);
    });
  }

  for (const denoise of [false, true]) {
    it(`annealed Langevin over σ̃ = 1, 0.4: η_i = ε σ_i²/σ_L², 2 steps each${denoise ? ", then Tweedie's x + σ_L² s(x, σ_L)" : ""}`, () => {
      const [sigmas, epsilon] = [[1, 0.4], 0.02];
      const sampler = new AnnealedLangevinSampler(process, {
        sigmas,
        stepsPerLevel: 2,
        epsilon,
        init: { kind: "gaussian", std: 2 },
        denoise,
      });
      assert.equal(sampler.nfe, denoise ? 5 : 4);
      const { draws, seen, out } = run(sampler);
      assert.deepEqual(
        seen.map((s) => s.index),
        [3, 2, 1, 0],
      );
      let x: Vec = draws[0]!.map((v) => 2 * v);
      seen.forEach(({ x: got }, k) => {
        const level = sigmas[Math.floor(k / 2)]!;
        assertClose(got, langevin(x, level, (epsilon * level ** 2) / 0.4 ** 2, draws[k + 1]!), { ...tol, label: `step ${k}` });
        x = got;
      });
      assertClose(out, denoise ? lin(1, x, 0.16, veScore(x, 0.4)) : x, { ...tol, label: "result" });
    });
  }
});
