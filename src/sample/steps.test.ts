/**
 * Every sampler's steps, one at a time, against float64 formulas written out here from the papers,
 * fed the same noise (`RecordedRng`) and a model that reads its level from t (`timedOracle`): each
 * step x_i → x_{i−1} the sampler reports is recomputed from the x_i it reported before. Data
 * N(μ, diag S²) in 2-D, float64 on the `cpu` device; the model is passed t and γ as float32, as the
 * samplers hand them over, and the references round them alike. The schedule γ(t) = −8 + 16t²
 * (σ̃ from e^{−4} to e^4) puts levels uniform in t unevenly in λ = −γ/2, and its constants are
 * exact in float32, as jit makes a traced function's constants.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DiffusionProcess } from "../diffusion/process.js";
import { numpy as np } from "../engine/jax.js";
import { mixtureParams } from "../models/oracle.js";
import type { NoiseSchedule } from "../schedule/index.js";
import { assertClose, useEngine } from "../testing/helpers.js";
import { alpha, sigma, sigmoid } from "../testing/reference.js";
import { RecordedRng, timedOracle } from "../testing/timed-oracle.js";
import { AncestralSampler, type AncestralVariance } from "./ancestral.js";
import { DdimSampler } from "./ddim.js";
import { DpmSolverSampler } from "./dpm-solver.js";
import { EulerSampler } from "./euler.js";
import { HeunSampler } from "./heun.js";
import type { Init } from "./init.js";
import { AnnealedLangevinSampler, LangevinSampler } from "./langevin.js";
import { PredictorCorrectorSampler } from "./pc.js";
import type { Sampler } from "./sampler.js";

useEngine("cpu");

const schedule: NoiseSchedule = { name: "quadratic", tMin: 0, tMax: 1, gamma: (t) => np.square(t).mul(16).sub(8) };
const process = new DiffusionProcess(schedule, 0);
const MU = [1.5, -0.5];
const S2 = [0.25, 1.44];
const SHAPE = [4, 2];
const den = () => ({ model: timedOracle(schedule), params: mixtureParams({ weights: [1], means: [MU], variances: [S2] }, np.float64) });

// ---- float64 references ----
type Vec = Float64Array;
const gammaOfTime = (t: number) => 16 * t * t - 8;
const timeOfGamma = (g: number) => Math.sqrt((g + 8) / 16);
/** what the model returns at x, passed (t, γ) as float32: E[x_0 | x] at γ(t), moved by γ − γ(t) */
function model(x: Vec, t: number, g: number): Vec {
  const own = gammaOfTime(Math.fround(t));
  const [a, s2] = [alpha(own), sigmoid(own)];
  return x.map((v, k) => {
    const [m, l] = [MU[k % 2]!, S2[k % 2]!];
    return m + ((a * l) / (a * a * l + s2)) * (v - a * m) + (Math.fround(g) - own);
  });
}
/** the VP score at level γ from the x_0-prediction: −(x − α x̂_0)/σ² */
function vpScore(x: Vec, t: number, g: number): Vec {
  const x0 = model(x, t, g);
  const gf = Math.fround(g);
  return x.map((v, k) => -(v - alpha(gf) * x0[k]!) / sigmoid(gf));
}
const lin = (a: number, x: Vec, b: number, y: Vec) => x.map((v, k) => a * v + b * y[k]!);

/** A sampler's run: the noise it drew, the x after each step with its index, and the result. */
function record(sampler: Sampler, seed = 7) {
  const rng = new RecordedRng(seed);
  const steps: { index: number; x: Vec }[] = [];
  const out = sampler.sample(den(), SHAPE, rng.asRng, {
    onStep: (index, x) => void steps.push({ index, x: Float64Array.from(x.ref.dataSync() as ArrayLike<number>) }),
  });
  return { draws: rng.draws, steps, out: Float64Array.from(out.dataSync() as ArrayLike<number>) };
}

/** each reported step equals `step(i, x_i, noise)` from the x_i before it; indices N−1..0; result = last */
function checkSteps(
  sampler: Sampler & { levels: { gamma: Float64Array } },
  step: (i: number, x: Vec, draws: () => Vec) => Vec,
  tol: { rtol?: number; atol?: number },
  label: string,
) {
  const { draws, steps, out } = record(sampler);
  const N = sampler.levels.gamma.length - 1;
  assert.deepEqual(
    steps.map((s) => s.index),
    Array.from({ length: N }, (_, k) => N - 1 - k),
    `${label}: step indices`,
  );
  let next = 1;
  let x = draws[0]!;
  steps.forEach(({ x: got }, k) => {
    assertClose(
      got,
      step(N - k, x, () => draws[next++]!),
      { ...tol, label: `${label}, step ${N - k} → ${N - k - 1}` },
    );
    x = got;
  });
  assert.equal(next, draws.length, `${label}: noise draws used`);
  assert.deepEqual(out, steps[N - 1]!.x, `${label}: the result is the last step's x`);
}

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

describe("sampling without a step callback", () => {
  it("gives what the run that reports its steps gives, for every sampler", () => {
    const init = { kind: "gaussian", std: 2 } as const;
    const samplers: Sampler[] = [
      new DdimSampler(process, { steps: 3, eta: 0.5 }),
      new EulerSampler(process, { steps: 3 }),
      new HeunSampler(process, { steps: 3 }),
      new DpmSolverSampler(process, { steps: 4, order: 3 }),
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
