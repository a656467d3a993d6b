/**
 * Few-step samplers (DDIM, DPM-Solver++ 2M/3M, Euler, Heun) against exact references:
 * - on Gaussian data the probability-flow ODE has a closed-form solution, x_0 = μ + s·(x_T − α_T μ)/√(α_T² s² + σ_T²),
 *   so each deterministic sampler's per-sample error is known and must fall at its order as N doubles;
 * - η = 1 DDIM is ancestral sampling on the same levels (same noise ⇒ the same samples);
 * - DDIM inversion x_0 → x_T → x_0 reconstructs, better with more levels;
 * - conditional and guided oracle models sample their class with every sampler;
 * - respacing of a discrete chain.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { knownMixture } from "../data/known.js";
import { componentOf, sampleMixture } from "../data/mixtures.js";
import { mixtureParams, oracleClassifier, oracleModel } from "../densities/oracle.js";
import { DiffusionProcess, respace, type Spacing } from "../diffusion/process.js";
import { Rng } from "../engine/index.js";
import { numpy as np } from "../engine/jax.js";
import { cfgModel, classifierGuidedModel, conditionalModel } from "../guidance/guided.js";
import { getSchedule } from "../schedule/index.js";
import { assertClose, useEngine } from "../testing/helpers.js";
import { AncestralSampler } from "./ancestral.js";
import { DdimSampler } from "./ddim.js";
import { DpmSolverSampler } from "./dpm-solver.js";
import { EulerSampler } from "./euler.js";
import { HeunSampler } from "./heun.js";
import type { Denoiser, Sampler } from "./sampler.js";

useEngine("wasm");

const MU = 1.5;
const S = 0.5;
const gaussian = (): Denoiser => ({
  model: oracleModel("eps"),
  params: mixtureParams({ weights: [1], means: [[MU]], variances: [[S * S]] }),
});
const read = (x: { dataSync(): unknown }) => x.dataSync() as Float32Array;

type Make = (process: DiffusionProcess, steps: number, spacing: Spacing) => Sampler & { levels: { gamma: Float64Array } };
/** deterministic samplers with their order of convergence */
const DETERMINISTIC: [string, number, Make][] = [
  ["ddim (η = 0)", 1, (p, steps, spacing) => new DdimSampler(p, { steps, spacing })],
  ["euler", 1, (p, steps, spacing) => new EulerSampler(p, { steps, spacing })],
  ["heun", 2, (p, steps, spacing) => new HeunSampler(p, { steps, spacing })],
  ["dpm++2m", 2, (p, steps, spacing) => new DpmSolverSampler(p, { order: 2, steps, spacing })],
  // measured ratios 17.6, 18.2 (cosine, continuous) and 6.4, 9.4 (linear, T = 1000) per doubling
  ["dpm++3m", 3, (p, steps, spacing) => new DpmSolverSampler(p, { order: 3, steps, spacing })],
];

/** RMS distance of a sampler's outputs to the exact ODE solution from the same x_T (1-D Gaussian). */
function odeError(sampler: Sampler & { levels: { gamma: Float64Array } }, n = 500): number {
  const g = sampler.levels.gamma[sampler.levels.gamma.length - 1]!;
  const [a, s] = [Math.sqrt(1 / (1 + Math.exp(g))), Math.sqrt(1 / (1 + Math.exp(-g)))];
  const xT = read(new Rng(5).normal([n, 1]));
  const x = read(sampler.sample(gaussian(), [n, 1], new Rng(5)));
  let e = 0;
  for (let i = 0; i < n; i++) e += (x[i]! - (MU + (S * (xT[i]! - a * MU)) / Math.sqrt(a * a * S * S + s * s))) ** 2;
  return Math.sqrt(e / n);
}

describe("deterministic samplers converge to the exact probability-flow ODE solution", () => {
  for (const [T, schedule, spacing] of [
    [0, "cosine", "log-snr"],
    [1000, "linear", "uniform"],
  ] as const) {
    const process = new DiffusionProcess(getSchedule(schedule), T);
    for (const [name, order, make] of DETERMINISTIC) {
      it(`${name}, ${schedule}, T = ${T || "continuous"}, ${spacing} spacing: error shrinks ~2^${order} per doubling of N`, () => {
        const errors = [20, 40, 80].map((N) => odeError(make(process, N, spacing)));
        // falls at every doubling; asymptotically a method of order p divides its error by 2^p per
        // doubling: allow 15 % below that rate from 40 to 80 levels (multistep start-up and the
        // lower-order final steps are still felt at 20)
        const shown = `errors at N = 20, 40, 80: ${errors.map((e) => e.toExponential(2)).join(", ")}`;
        assert.ok(errors[0]! > errors[1]! && errors[1]! / errors[2]! > 0.85 * 2 ** order, shown);
        assert.ok(errors[2]! < (order === 1 ? 0.05 : 0.02), shown);
      });
    }
  }

  it("DPM-Solver++ 3M is more accurate than 2M, and 2M than DDIM, at 40 and 80 steps", () => {
    const process = new DiffusionProcess(getSchedule("cosine"), 0);
    for (const N of [40, 80]) {
      const [ddim, two, three] = [
        new DdimSampler(process, { steps: N, spacing: "log-snr" }),
        new DpmSolverSampler(process, { order: 2, steps: N }),
        new DpmSolverSampler(process, { order: 3, steps: N }),
      ].map((s) => odeError(s));
      assert.ok(three! < two! && two! < ddim!, `N = ${N}: 3M ${three}, 2M ${two}, DDIM ${ddim}`);
    }
  });

  it("Euler in (x̃, σ̃) and DDIM with η = 0 take the same steps (two formulas)", () => {
    const process = new DiffusionProcess(getSchedule("cosine"), 1000);
    const euler = new EulerSampler(process, { steps: 25, spacing: "trailing" });
    const a = read(euler.sample(gaussian(), [200, 1], new Rng(8)));
    const b = read(new DdimSampler(process, { steps: 25, spacing: "trailing" }).sample(gaussian(), [200, 1], new Rng(8)));
    // float32: x̃ = x/α carries |x̃| ≤ 5σ̃_max, so each of the 25 steps rounds at ~2⁻²⁴·5σ̃_max
    const sigmaMax = Math.exp(euler.levels.gamma[25]! / 2);
    assertClose(a, b, { atol: 25 * 2 ** -24 * 5 * sigmaMax, label: `euler vs ddim (σ̃_max ${sigmaMax.toFixed(0)})` });
  });
});

describe("DDIM's η", () => {
  for (const T of [0, 1000]) {
    it(`η = 1 is ancestral sampling on the same levels (T = ${T || "continuous"}, 50 levels)`, () => {
      const process = new DiffusionProcess(getSchedule("cosine"), T);
      const den = { model: oracleModel("v"), params: mixtureParams(knownMixture("eight-gaussians")) };
      const a = read(new DdimSampler(process, { steps: 50, eta: 1, sigmaMax: Infinity }).sample(den, [300, 2], new Rng(3)));
      const b = read(new AncestralSampler(process, { steps: 50 }).sample(den, [300, 2], new Rng(3)));
      // the same Gaussian steps written two ways (DDIM's ε̂ form, the posterior mean's x_t/x̂_0 form):
      // float32 rounding over 50 steps, measured up to 1.1e-4
      assertClose(a, b, { atol: 1e-3, label: "ddim η = 1 vs ancestral" });
    });
  }

  it("η = 0 inverts: x_0 → x_T → x_0 reconstructs, with error falling as the levels grow", () => {
    const process = new DiffusionProcess(getSchedule("cosine"), 0);
    const mix = knownMixture("gaussian");
    const den = { model: oracleModel("eps"), params: mixtureParams(mix) };
    const x0 = read(sampleMixture(mix, 500, new Rng(1)));
    const errors = [50, 200].map((N) => {
      const ddim = new DdimSampler(process, { steps: N, spacing: "log-snr" });
      const xT = ddim.invert(den, np.array(x0).reshape([500, 2]));
      // run the sampler from this x_T: swap in an Rng whose first draw is x_T
      const back = read(ddim.sample(den, [500, 2], { normal: () => xT } as unknown as Rng));
      return Math.sqrt(back.reduce((s, v, i) => s + (v - x0[i]!) ** 2, 0) / back.length);
    });
    assert.ok(errors[1]! < errors[0]! / 2.5 && errors[1]! < 0.05, `reconstruction RMS at N = 50, 200: ${errors.join(", ")}`);
  });
});

describe("moments at 20 levels on N(1.5, 0.5²) (5 standard errors, plus each ODE sampler's error at N = 20)", () => {
  const process = new DiffusionProcess(getSchedule("cosine"), 0);
  const n = 4000;
  // bias: 1.25 × the sampler's RMS distance to the exact ODE solution at N = 20 (measured 7.21e-2 for
  // DDIM and Euler, 2.84e-2 Heun, 1.03e-2 2M, 3.84e-3 3M), which bounds how far it moves the mean and
  // the standard deviation (measured |std − 0.5|: 8.2e-2, 8.2e-2, 1.5e-2, 2.5e-3, 8.7e-3, against
  // 5 standard errors of 2.8e-2); η = 1 is sampled, not integrated: no bias allowed (std − 0.5
  // measured −5.2e-3)
  const all: [string, () => Sampler, number][] = [
    ["ddim η = 0", () => new DdimSampler(process, { steps: 20, spacing: "log-snr" }), 9e-2],
    // stochastic steps need many more levels: at 20 levels η = 1 gives std 0.36 (measured)
    ["ddim η = 1 (200 levels)", () => new DdimSampler(process, { steps: 200, spacing: "log-snr", eta: 1 }), 0],
    ["euler", () => new EulerSampler(process, { steps: 20, spacing: "log-snr" }), 9e-2],
    ["heun", () => new HeunSampler(process, { steps: 20, spacing: "log-snr" }), 3.5e-2],
    ["dpm++2m", () => new DpmSolverSampler(process, { order: 2, steps: 20 }), 1.3e-2],
    ["dpm++3m", () => new DpmSolverSampler(process, { order: 3, steps: 20 }), 4.8e-3],
  ];
  for (const [name, sampler, bias] of all) {
    it(name, () => {
      const x = read(sampler().sample(gaussian(), [n, 1], new Rng(12)));
      const m = x.reduce((a, b) => a + b, 0) / n;
      const sd = Math.sqrt(x.reduce((a, b) => a + (b - m) ** 2, 0) / (n - 1));
      assert.ok(Math.abs(m - MU) < 5 * (S / Math.sqrt(n)) + bias, `mean ${m}`);
      assert.ok(Math.abs(sd - S) < 5 * S * Math.sqrt(1 / (2 * (n - 1))) + bias, `std ${sd}`);
    });
  }
});

describe("conditional and guided models sample their class with every few-step sampler", () => {
  const mix = knownMixture("eight-gaussians");
  const process = new DiffusionProcess(getSchedule("cosine"), 1000);
  const base = oracleModel("eps", 8);
  const n = 400;
  const Y = 5;
  const labels = () => np.full([n], Y, { dtype: np.int32 });
  const dens: [string, () => Denoiser][] = [
    ["conditional", () => ({ model: conditionalModel(base), params: { net: mixtureParams(mix), labels: labels() } })],
    ["cfg w = 1", () => ({ model: cfgModel(base), params: { net: mixtureParams(mix), labels: labels(), scale: np.array([1]) } })],
    [
      "classifier γ = 1",
      () => ({
        model: classifierGuidedModel(base, oracleClassifier(8)),
        params: { net: mixtureParams(mix), classifier: mixtureParams(mix), labels: labels(), scale: np.array([1]) },
      }),
    ],
  ];
  const samplers = (): Sampler[] => [
    new DdimSampler(process, { steps: 20 }),
    new DdimSampler(process, { steps: 20, eta: 1 }),
    new EulerSampler(process, { steps: 20 }),
    new HeunSampler(process, { steps: 20, spacing: "log-snr" }),
    new DpmSolverSampler(process, { order: 2, steps: 20 }),
    new DpmSolverSampler(process, { order: 3, steps: 20 }),
  ];
  for (const [kind, den] of dens) {
    it(kind, () => {
      for (const sampler of samplers()) {
        const x = read(sampler.sample(den(), [n, 2], new Rng(6)));
        const hits = componentOf(mix, x).filter((k) => k === Y).length / n;
        assert.ok(hits > 0.98, `${sampler.name}: ${hits} of the samples in class ${Y}`);
      }
    });
  }
});

describe("sampling levels", () => {
  const gamma = new DiffusionProcess(getSchedule("cosine"), 1000).chain!.gamma;
  it("respacing picks N distinct ascending steps of 1..T; trailing ends at T; N = T is the whole chain", () => {
    for (const spacing of ["uniform", "log-snr", "trailing"] as const) {
      for (const N of [1, 5, 37, 1000]) {
        const s = respace(gamma, N, spacing);
        assert.equal(s.length, N);
        s.forEach((v, k) =>
          assert.ok(Number.isInteger(v) && v >= 1 && v <= 1000 && (k === 0 || v > s[k - 1]!), `${spacing} N = ${N}: ${s.slice(0, 8)}`),
        );
        if (N === 1000)
          assert.deepEqual(
            s,
            Array.from({ length: 1000 }, (_, i) => i + 1),
          );
      }
    }
    assert.deepEqual(respace(gamma, 10, "trailing"), [100, 200, 300, 400, 500, 600, 700, 800, 900, 1000]);
    assert.deepEqual(respace(gamma, 4, "uniform"), [1, 334, 667, 1000]);
  });
  it("log-snr spacing puts γ evenly between the ends (continuous: exactly; discrete: within one step's γ change)", () => {
    const continuous = new DiffusionProcess(getSchedule("cosine"), 0).samplingLevels(9, "log-snr").gamma;
    const step = (continuous[9]! - continuous[1]!) / 8;
    for (let k = 2; k <= 9; k++) assert.ok(Math.abs(continuous[k]! - continuous[k - 1]! - step) < 1e-6 * Math.abs(step), `γ gap ${k}`);
    const s = respace(gamma, 9, "log-snr");
    const target = (k: number) => gamma[1]! + ((gamma[1000]! - gamma[1]!) * k) / 8;
    s.forEach((i, k) =>
      assert.ok(
        Math.abs(gamma[i]! - target(k)) <= Math.max(Math.abs(gamma[i]! - gamma[i - 1]!), Math.abs((gamma[i + 1] ?? gamma[i]!) - gamma[i]!)),
        `step ${i} γ ${gamma[i]} vs ${target(k)}`,
      ),
    );
  });
  it("rejects more steps than the chain has", () => {
    assert.throws(() => new DiffusionProcess(getSchedule("cosine"), 100).samplingLevels(101), /at most 100 steps/);
  });
});
