/**
 * The ODE samplers' steps (DDIM with η and its inversion, Euler, Heun, DPM-Solver++, iPNDM, UniPC), one at a time,
 * against float64 formulas written out here from the papers, fed the same noise (`RecordedRng`) and a
 * model that reads its level from t (`timedOracle`): each step x_i → x_{i−1} the sampler reports is
 * recomputed from the x_i it reported before. Data N(μ, diag S²) in 2-D, float64 on the `cpu` device;
 * the model is passed t and γ as float32, as the samplers hand them over, and the references round
 * them alike (the setting: testing/steps-reference.ts). And every sampler without a step callback
 * gives what it gives with one. The stochastic samplers: stochastic-steps.test.ts.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { numpy as np } from "../engine/jax.js";
import { assertClose, useEngine } from "../testing/helpers.js";
import { alpha, sigma } from "../testing/reference.js";
import { checkSteps, den, lin, model, process, record, SHAPE, type Vec } from "../testing/steps-reference.js";
import { RecordedRng } from "../testing/timed-oracle.js";
import { AncestralSampler } from "./ancestral.js";
import { DdimSampler } from "./ddim.js";
import { DpmSolverSampler } from "./dpm-solver.js";
import { EulerSampler } from "./euler.js";
import { HeunSampler } from "./heun.js";
import { IpndmSampler } from "./ipndm.js";
import { AnnealedLangevinSampler, LangevinSampler } from "./langevin.js";
import { PredictorCorrectorSampler } from "./pc.js";
import type { Sampler } from "./sampler.js";
import { UniPcSampler } from "./unipc.js";

useEngine("cpu");

describe("ODE samplers' steps (float64, a model reading t)", () => {
  it("DDIM with η: x_s = α_s x̂_0 + √(σ_s² − σ_η²) ε̂ + σ_η z, σ_η² = η² σ_s² (1 − e^{γ_s − γ_t}); the last returns x̂_0", () => {
    for (const eta of [0, 0.6, 1]) {
      const sampler = new DdimSampler(process, { steps: 5, eta, spacing: "log-snr" });
      const { t, gamma } = sampler.levels;
      checkSteps(
        sampler,
        (i, x, draw) => {
          const x0 = model(x, t[i]!, gamma[i]!);
          if (i === 1) return x0;
          const [gs, gt] = [gamma[i - 1]!, gamma[i]!];
          const eps = x.map((v, k) => (v - alpha(gt) * x0[k]!) / sigma(gt));
          const sdEta = eta * sigma(gs) * Math.sqrt(1 - Math.exp(gs - gt));
          const z = eta > 0 ? draw() : new Float64Array(x.length);
          return x0.map((m, k) => alpha(gs) * m + Math.sqrt(sigma(gs) ** 2 - sdEta ** 2) * eps[k]! + sdEta * z[k]!);
        },
        { rtol: 2e-15, atol: 2e-15 },
        `DDIM η = ${eta}`,
      ); // measured 1.9e-16
    }
  });

  it("DDIM inversion: x_1 = α_1 x_0, then x_t = α_t x̂_0 + σ_t (x_s − α_s x̂_0)/σ_s upwards", () => {
    const sampler = new DdimSampler(process, { steps: 5, spacing: "log-snr" });
    const { t, gamma } = sampler.levels;
    const x0 = Float64Array.from([0.3, -1.2, 2.0, 0.1, -0.7, 0.9, 1.4, -2.2]);
    const seen: { index: number; x: Vec }[] = [];
    const xT = sampler.invert(den(), np.array(x0, { dtype: np.float64 }).reshape(SHAPE), {
      onStep: (index, x) => void seen.push({ index, x: Float64Array.from(x.ref.dataSync() as ArrayLike<number>) }),
    });
    assert.deepEqual(
      seen.map((s) => s.index),
      [1, 2, 3, 4, 5],
    );
    assertClose(
      seen[0]!.x,
      x0.map((v) => alpha(gamma[1]!) * v),
      { rtol: 1e-14, label: "x_1" },
    );
    for (let i = 1; i < 5; i++) {
      const xs = seen[i - 1]!.x;
      const m = model(xs, t[i]!, gamma[i]!);
      const [gs, gt] = [gamma[i]!, gamma[i + 1]!];
      const want = xs.map((v, k) => alpha(gt) * m[k]! + (sigma(gt) * (v - alpha(gs) * m[k]!)) / sigma(gs));
      assertClose(seen[i]!.x, want, { rtol: 1e-14, atol: 1e-14, label: `level ${i} → ${i + 1}` }); // measured 1.5e-15
    }
    assert.deepEqual(Float64Array.from(xT.dataSync() as ArrayLike<number>), seen[4]!.x);
  });

  it("Euler in (x̃ = x/α, σ̃ = e^{γ/2}): x̃_s = x̃_t + (σ̃_s − σ̃_t)(x̃_t − x̂_0)/σ̃_t; the last returns x̂_0", () => {
    const sampler = new EulerSampler(process, { steps: 5, spacing: "log-snr" });
    const { t, gamma } = sampler.levels;
    checkSteps(
      sampler,
      (i, x) => {
        const x0 = model(x, t[i]!, gamma[i]!);
        const [st, ss] = [Math.exp(gamma[i]! / 2), Math.exp(gamma[i - 1]! / 2)];
        return x.map((v, k) => {
          const xt = v / alpha(gamma[i]!);
          return alpha(gamma[i - 1]!) * (xt + ((ss - st) * (xt - x0[k]!)) / st);
        });
      },
      { rtol: 1e-14, atol: 1e-14 },
      "Euler",
    ); // measured 1.1e-15
  });

  it("Heun: the trapezoid of the slopes at x̃_t and at the Euler prediction, at (t_s, γ_s); the last step Euler", () => {
    const sampler = new HeunSampler(process, { steps: 5, spacing: "log-snr" });
    assert.equal(sampler.nfe, 9);
    const { t, gamma } = sampler.levels;
    checkSteps(
      sampler,
      (i, x) => {
        const [gt, gs] = [gamma[i]!, gamma[i - 1]!];
        const [st, ss] = [Math.exp(gt / 2), Math.exp(gs / 2)];
        const xt = x.map((v) => v / alpha(gt));
        const d = lin(1 / st, xt, -1 / st, model(x, t[i]!, gt));
        const euler = lin(1, xt, ss - st, d);
        if (i === 1) return euler;
        const d2 = lin(
          1 / ss,
          euler,
          -1 / ss,
          model(
            euler.map((v) => v * alpha(gs)),
            t[i - 1]!,
            gs,
          ),
        );
        return xt.map((v, k) => alpha(gs) * (v + ((ss - st) * (d[k]! + d2[k]!)) / 2));
      },
      { rtol: 1e-14, atol: 1e-14 },
      "Heun",
    ); // measured 1.4e-15
  });

  for (const order of [2, 3] as const) {
    it(`DPM-Solver++ ${order}M: λ = −γ/2, orders 1, 2${order === 3 ? ", 3, 3" : ", 2, 2"}, 2, 1 over 6 levels spaced unevenly in λ`, () => {
      const sampler = new DpmSolverSampler(process, { order, steps: 6, spacing: "uniform" });
      assert.equal(sampler.name, `dpm++${order}m`);
      const { t, gamma } = sampler.levels;
      const lambda = (i: number) => -gamma[i]! / 2;
      const ms: Vec[] = [];
      checkSteps(
        sampler,
        (i, x) => {
          ms.unshift(model(x, t[i]!, gamma[i]!));
          const k = 6 - i;
          const p = Math.min(order, k + 1, 6 - k);
          const h = lambda(i - 1) - lambda(i);
          const as = alpha(gamma[i - 1]!);
          const e = Math.exp(-h);
          let next = lin(sigma(gamma[i - 1]!) / sigma(gamma[i]!), x, as * (1 - e), ms[0]!);
          if (p >= 2) {
            const r0 = (lambda(i) - lambda(i + 1)) / h;
            const d10 = lin(1 / r0, ms[0]!, -1 / r0, ms[1]!);
            if (p === 2) next = lin(1, next, (as * (1 - e)) / 2, d10);
            else {
              const r1 = (lambda(i + 1) - lambda(i + 2)) / h;
              const d11 = lin(1 / r1, ms[1]!, -1 / r1, ms[2]!);
              const d1 = lin(1 + r0 / (r0 + r1), d10, -r0 / (r0 + r1), d11);
              const d2 = lin(2 / (r0 + r1), d10, -2 / (r0 + r1), d11);
              // φ_2 h = ∫_0^h e^{u−h} u du / h,  −φ_3 h² = ∫_0^h e^{u−h} u²/2 du
              const phi2 = (h - 1 + e) / h;
              const phi3 = -(h * h - 2 * h + 2 - 2 * e) / 2 / (h * h);
              next = lin(1, lin(1, next, as * phi2, d1), -as * phi3, d2);
            }
          }
          return next;
        },
        { rtol: 2e-15, atol: 2e-15 },
        `${order}M`,
      ); // measured 1.9e-16
    });
  }
});
describe("the multistep samplers added for few steps (float64, a model reading t)", () => {
  it("iPNDM: x̃_s = x̃_t + (σ̃_s − σ̃_t)·Σ c_j ε̂_j, Adams–Bashforth of orders 1, 2, 3, 4, 4 on the slopes ε̂ = (x̃ − x̂_0)/σ̃", () => {
    const sampler = new IpndmSampler(process, { steps: 5, spacing: "log-snr" });
    const { t, gamma } = sampler.levels;
    const st = (i: number) => Math.exp(gamma[i]! / 2);
    const coefficients = [[1], [3 / 2, -1 / 2], [23 / 12, -16 / 12, 5 / 12], [55 / 24, -59 / 24, 37 / 24, -9 / 24]];
    const slopes: Vec[] = [];
    checkSteps(
      sampler,
      (i, x) => {
        const xt = x.map((v) => v / alpha(gamma[i]!));
        slopes.unshift(lin(1 / st(i), xt, -1 / st(i), model(x, t[i]!, gamma[i]!)));
        const c = coefficients[Math.min(slopes.length, 4) - 1]!;
        const xs = c.reduce((sum, cj, j) => lin(1, sum, cj * (st(i - 1) - st(i)), slopes[j]!), xt);
        return xs.map((v) => v * alpha(gamma[i - 1]!));
      },
      { rtol: 2e-15, atol: 2e-15 },
      "iPNDM",
    ); // within 5e-16
  });

  it("UniPC-2: DPM-Solver++ 2M's step, then UniC with the model at the predicted x_s: orders 1, 2, 2, 2, 2, 1", () => {
    const sampler = new UniPcSampler(process, { steps: 6, spacing: "uniform" });
    const { t, gamma } = sampler.levels;
    const lambda = (i: number) => -gamma[i]! / 2;
    const ms: Vec[] = [];
    checkSteps(
      sampler,
      (i, x) => {
        if (i === 6) ms.unshift(model(x, t[i]!, gamma[i]!));
        const k = 6 - i;
        const p = Math.min(2, k + 1, 6 - k);
        const h = lambda(i - 1) - lambda(i);
        const as = alpha(gamma[i - 1]!);
        const phi1 = 1 - Math.exp(-h);
        const ddim = lin(sigma(gamma[i - 1]!) / sigma(gamma[i]!), x, as * phi1, ms[0]!);
        const r0 = (lambda(i) - lambda(i + 1)) / h;
        const d1 = p === 2 ? lin(1 / r0, ms[0]!, -1 / r0, ms[1]!) : new Float64Array(x.length);
        const predicted = lin(1, ddim, (as * phi1) / 2, d1);
        if (i === 1) return predicted;
        const mNew = model(predicted, t[i - 1]!, gamma[i - 1]!);
        // ρ from UniC's order conditions ρ_0 + ρ_1 = b_1, −r_0 ρ_0 + ρ_1 = b_2, with
        // b_1 h φ_1 = ∫_0^h e^{u−h} u du and b_2 h² φ_1 / 2 = ∫_0^h e^{u−h} u²/2 du; order 1: ρ_1 = ½
        const b1 = (h - phi1) / (h * phi1);
        const b2 = (2 * ((h * h) / 2 - h + phi1)) / (h * h * phi1);
        const rho0 = p === 2 ? (b1 - b2) / (1 + r0) : 0;
        const rho1 = p === 2 ? b1 - rho0 : 0.5;
        ms.unshift(mNew);
        return lin(1, lin(1, ddim, as * phi1 * rho0, d1), as * phi1 * rho1, lin(1, mNew, -1, ms[1]!));
      },
      { rtol: 5e-15, atol: 5e-15 },
      "UniPC",
    ); // within 1e-15
  });
});
describe("sampling without a step callback", () => {
  it("gives what the run that reports its steps gives, for every sampler", () => {
    const init = { kind: "gaussian", std: 2 } as const;
    const samplers: Sampler[] = [
      new DdimSampler(process, { steps: 3, eta: 0.5 }),
      new EulerSampler(process, { steps: 3 }),
      new HeunSampler(process, { steps: 3 }),
      new DpmSolverSampler(process, { steps: 4, order: 3 }),
      new UniPcSampler(process, { steps: 4 }),
      new IpndmSampler(process, { steps: 5 }),
      new AncestralSampler(process, { steps: 3 }),
      new PredictorCorrectorSampler(process, { snr: 0.1, correctorSteps: 1, variance: "beta", steps: 3 }),
      new LangevinSampler(process, { sigma: 0.5, steps: 2, stepSize: 0.05, init }),
      new AnnealedLangevinSampler(process, { sigmas: [1, 0.5], stepsPerLevel: 1, epsilon: 0.02, init, denoise: true }),
    ];
    for (const sampler of samplers) {
      const quiet = sampler.sample(den(), SHAPE, new RecordedRng(4).asRng).dataSync();
      assert.deepEqual(quiet, record(sampler, 4).out, sampler.name);
    }
    const ddim = samplers[0] as DdimSampler;
    const x0 = () =>
      np.array(
        [
          [0.3, -1.2],
          [2, 0.1],
          [-0.7, 0.9],
          [1.4, -2.2],
        ],
        { dtype: np.float64 },
      );
    assert.deepEqual(ddim.invert(den(), x0()).dataSync(), ddim.invert(den(), x0(), { onStep: () => {} }).dataSync(), "DDIM inversion");
  });
});
