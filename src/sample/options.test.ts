/**
 * What the samplers are built from: the by-name table, each sampler's default levels and knobs,
 * its NFE, the checks on its options, and the small formulas the samplers share (NCSN's noise
 * ladder, γ of σ̃, α and σ of a level, the uniform start box).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DiffusionProcess, type Levels } from "../diffusion/process.js";
import { Rng } from "../engine/index.js";
import { numpy as np } from "../engine/jax.js";
import { ConfigError } from "../errors.js";
import { getSchedule } from "../schedule/index.js";
import { assertClose, useEngine } from "../testing/helpers.js";
import { AncestralSampler } from "./ancestral.js";
import { defaultSampler, isSamplerName, samplerByName, samplerNames } from "./by-name.js";
import { DdimSampler } from "./ddim.js";
import { DpmSolverSampler } from "./dpm-solver.js";
import { EulerSampler, sigmaTilde } from "./euler.js";
import { HeunSampler } from "./heun.js";
import { initialPoints } from "./init.js";
import { IpndmSampler } from "./ipndm.js";
import { AnnealedLangevinSampler, LangevinSampler } from "./langevin.js";
import { SamplerOptionError, type SamplerOptionsInput, samplerOptions } from "./options.js";
import { PredictorCorrectorSampler } from "./pc.js";
import { alphaSigma, axpby, type LevelOptions } from "./predict.js";
import { gammaOfSigma, geometricSigmas } from "./score.js";
import { UniPcSampler } from "./unipc.js";

useEngine("cpu");

const continuous = new DiffusionProcess(getSchedule("cosine"), 0);
const chain = new DiffusionProcess(getSchedule("cosine"), 50);
const sameLevels = (a: Levels, b: Levels, label: string) => {
  assert.deepEqual(a.t, b.t, `${label}: t`);
  assert.deepEqual(a.gamma, b.gamma, `${label}: γ`);
};

describe("samplers by name", () => {
  it("builds each named sampler with the options it reads", () => {
    // the built-in ones, in the table's order (a new entry may follow them: the table is open to additions)
    assert.deepEqual(samplerNames.slice(0, 11), [
      "dpm++2m",
      "dpm++3m",
      "unipc",
      "ipndm",
      "ddim",
      "euler",
      "heun",
      "ancestral",
      "pc",
      "langevin",
      "annealed-langevin",
    ]);
    const leveled = samplerNames.slice(0, 8);
    for (const name of leveled) {
      const sampler = samplerByName(name, continuous, { steps: 7, eta: 0.5, variance: "beta", spacing: "trailing", sigmaMax: 20 });
      assert.equal(sampler.name, name);
      assert.equal((sampler as unknown as { levels: Levels }).levels.t.length, 8, name);
    }
    const types = [
      DpmSolverSampler,
      DpmSolverSampler,
      UniPcSampler,
      IpndmSampler,
      DdimSampler,
      EulerSampler,
      HeunSampler,
      AncestralSampler,
    ];
    leveled.forEach((name, k) => assert.equal(samplerByName(name, continuous, { steps: 2 }).constructor, types[k], name));
    assert.equal((samplerByName("dpm++3m", continuous, { steps: 2 }) as DpmSolverSampler).order, 3);
    assert.equal((samplerByName("dpm++2m", continuous, { steps: 2 }) as DpmSolverSampler).order, 2);
    assert.equal((samplerByName("ddim", continuous, { steps: 2, eta: 0.5 }) as DdimSampler).options.eta, 0.5);
    assert.equal((samplerByName("ancestral", continuous, { steps: 2, variance: "beta" }) as AncestralSampler).variance, "beta");
    sameLevels(
      (samplerByName("euler", continuous, { steps: 7, spacing: "trailing", sigmaMax: 20 }) as EulerSampler).levels,
      continuous.samplingLevels(7, "trailing", 20),
      "euler's options",
    );
    const pc = samplerByName("pc", chain, { steps: 5, snr: 0.2, correctorSteps: 2 }) as PredictorCorrectorSampler;
    assert.deepEqual([pc.options.snr, pc.options.correctorSteps, pc.options.variance, pc.nfe], [0.2, 2, "posterior", 15]);
    const annealed = samplerByName("annealed-langevin", continuous, {
      levels: 3,
      stepsPerLevel: 4,
      sigmaFirst: 8,
    }) as AnnealedLangevinSampler;
    assert.deepEqual(annealed.options.sigmas, geometricSigmas(8, 1, 3));
    assert.deepEqual(annealed.options.init, { kind: "gaussian", std: 8 });
    assert.deepEqual((samplerByName("langevin", continuous) as LangevinSampler).options, {
      sigma: 0,
      steps: 1000,
      stepSize: 0.1,
      init: { kind: "gaussian", std: 1 },
    });
  });

  it("samples by default as the CLI does: DPM-Solver++ 2M on 20 levels, evenly in log-SNR, σ̃ ≤ 80", () => {
    for (const process of [continuous, chain]) {
      const sampler = defaultSampler(process) as DpmSolverSampler;
      assert.deepEqual([sampler.name, sampler.nfe], ["dpm++2m", 20]);
      sameLevels(sampler.levels, process.samplingLevels(20, "log-snr", 80), "default levels");
    }
    // the ODE samplers' N defaults to 20; ancestral and pc walk the whole chain
    assert.equal(samplerByName("euler", chain).nfe, 20);
    assert.equal(samplerByName("ancestral", chain).nfe, 50);
  });

  it("knows its names and no others", () => {
    for (const name of samplerNames) assert.ok(isSamplerName(name), name);
    for (const name of ["", "DDIM", "dpm++"]) assert.ok(!isSamplerName(name), name);
    assert.throws(
      () => samplerByName("euler2", continuous),
      (e: Error) => e instanceof ConfigError && /unknown sampler "euler2" \(known: dpm\+\+2m, /.test(e.message),
    );
  });

  it("checks the options it reads against the schema, naming the option, what it takes and the value given", () => {
    const refuses = (name: string, options: object, message: RegExp) =>
      assert.throws(
        () => samplerByName(name, continuous, options as SamplerOptionsInput),
        (e: Error) => e instanceof SamplerOptionError && message.test(e.message),
      );
    refuses("ddim", { eta: -0.5 }, /^sampler option eta must be a non-negative number, got -0\.5$/);
    refuses("euler", { steps: 2.5 }, /^sampler option steps must be an integer >= 1, got 2\.5$/);
    refuses("euler", { spacing: "quadratic" }, /^sampler option spacing must be one of uniform, log-snr, trailing, got "quadratic"$/);
    refuses("heun", { sigmaMax: 0 }, /^sampler option sigmaMax must be a positive number, got 0$/);
    refuses("pc", { variance: "prior" }, /^sampler option variance must be posterior or beta, got "prior"$/);
    refuses("pc", { correctorSteps: -1 }, /^sampler option correctorSteps must be an integer >= 0, got -1$/);
    refuses("langevin", { stepSize: "big" }, /^sampler option stepSize must be a positive number, got "big"$/);
    refuses("annealed-langevin", { denoise: "yes" }, /^sampler option denoise must be true or false, got "yes"$/);
    refuses("langevin", { init: { kind: "gaussian", std: -1 } }, /^sampler option init.std must be a positive number, got -1$/);
    const e = (() => {
      try {
        samplerOptions({ eta: -1 });
      } catch (err) {
        return err as SamplerOptionError;
      }
    })();
    assert.deepEqual([e?.option, e?.expected, e?.got], ["eta", "a non-negative number", -1]);
    // an option the sampler does not read is not its business; one no sampler reads is a mistake
    assert.equal(samplerByName("dpm++2m", continuous, { eta: -1 }).name, "dpm++2m");
    assert.throws(() => samplerByName("ddim", continuous, { etta: 1 } as SamplerOptionsInput), /unknown sampler option "etta"/);
    assert.equal(samplerByName("heun", continuous, { sigmaMax: Infinity, steps: 3 }).nfe, 5);
  });
});

describe("default levels and knobs", () => {
  it("ODE samplers: N levels uniform in t (DPM-Solver++: in log-SNR) up to σ̃ = 80; ancestral: the whole range", () => {
    for (const make of [
      (o: LevelOptions = { steps: 2 }) => new DdimSampler(continuous, o),
      (o: LevelOptions = { steps: 2 }) => new EulerSampler(continuous, o),
      (o: LevelOptions = { steps: 2 }) => new HeunSampler(continuous, o),
    ]) {
      sameLevels(make({ steps: 6 }).levels, continuous.samplingLevels(6, "uniform", 80), make().name);
      sameLevels(
        make({ steps: 6, spacing: "log-snr", sigmaMax: 5 }).levels,
        continuous.samplingLevels(6, "log-snr", 5),
        `${make().name} with options`,
      );
    }
    const dpm = new DpmSolverSampler(continuous, { steps: 6 });
    assert.equal(dpm.order, 2);
    assert.equal(dpm.name, "dpm++2m");
    sameLevels(dpm.levels, continuous.samplingLevels(6, "log-snr", 80), "dpm++2m");
    sameLevels(
      new DpmSolverSampler(continuous, { steps: 6, spacing: "uniform", sigmaMax: 5 }).levels,
      continuous.samplingLevels(6, "uniform", 5),
      "dpm++2m with options",
    );
    const ancestral = new AncestralSampler(continuous, { steps: 6 });
    assert.equal(ancestral.variance, "posterior");
    sameLevels(ancestral.levels, continuous.samplingLevels(6, "uniform", Infinity), "ancestral");
    sameLevels(
      new AncestralSampler(continuous, { steps: 6, spacing: "log-snr", sigmaMax: 5 }).levels,
      continuous.samplingLevels(6, "log-snr", 5),
      "ancestral with options",
    );
    sameLevels(
      new PredictorCorrectorSampler(continuous, { snr: 0.1, correctorSteps: 1, variance: "beta", steps: 6 }).levels,
      continuous.samplingLevels(6),
      "pc",
    );
  });

  it("on a chain, every step up to σ̃ = 80 (ODE samplers) or all T (ancestral, predictor–corrector)", () => {
    let top = 50;
    while (Math.exp(chain.chain!.gamma[top]! / 2) > 80) top--;
    assert.ok(top < 50);
    for (const sampler of [new DdimSampler(chain), new EulerSampler(chain), new DpmSolverSampler(chain)])
      assert.equal(sampler.nfe, top, sampler.name);
    assert.equal(new AncestralSampler(chain).nfe, 50);
    assert.equal(new PredictorCorrectorSampler(chain, { snr: 0.1, correctorSteps: 2, variance: "beta" }).nfe, 150);
    assert.equal(new HeunSampler(chain).nfe, 2 * top - 1);
  });
});

describe("NFE", () => {
  it("per sampler: N, 2N − 1 for Heun, N(1 + corrections) for predictor–corrector, the steps for Langevin", () => {
    for (const Sampler of [DdimSampler, EulerSampler, DpmSolverSampler, AncestralSampler])
      assert.equal(new Sampler(continuous, { steps: 9 }).nfe, 9, Sampler.name);
    assert.equal(new HeunSampler(continuous, { steps: 9 }).nfe, 17);
    assert.equal(new PredictorCorrectorSampler(continuous, { snr: 0.1, correctorSteps: 3, variance: "posterior", steps: 9 }).nfe, 36);
    const init = { kind: "gaussian", std: 1 } as const;
    assert.equal(new LangevinSampler(continuous, { sigma: 0.1, steps: 13, stepSize: 0.1, init }).nfe, 13);
    for (const denoise of [false, true]) {
      assert.equal(
        new AnnealedLangevinSampler(continuous, { sigmas: [3, 2, 1], stepsPerLevel: 4, epsilon: 0.1, init, denoise }).nfe,
        12 + (denoise ? 1 : 0),
      );
    }
  });
});

describe("checks on the options", () => {
  it("DDIM's η ≥ 0; DPM-Solver++'s order 2 or 3", () => {
    for (const eta of [-0.1, NaN]) assert.throws(() => new DdimSampler(continuous, { steps: 3, eta }), /DDIM's η must be >= 0/);
    assert.doesNotThrow(() => new DdimSampler(continuous, { steps: 3, eta: 0 }));
    for (const order of [1, 4])
      assert.throws(() => new DpmSolverSampler(continuous, { steps: 3, order: order as 2 }), /DPM-Solver\+\+ order must be 2 or 3/);
  });

  it("the uniform start box needs one bound per data dimension on each side", () => {
    const rng = new Rng(1);
    assert.throws(
      () => initialPoints({ kind: "uniform", low: [0], high: [1, 1] }, [3, 2], rng),
      /uniform start box needs 2 bounds per side/,
    );
    assert.throws(
      () => initialPoints({ kind: "uniform", low: [0, 0], high: [1] }, [3, 2], rng),
      /uniform start box needs 2 bounds per side/,
    );
    const x = initialPoints({ kind: "uniform", low: [-1, 10], high: [1, 10.5] }, [200, 2], rng).dataSync() as Float32Array;
    x.forEach((v, i) => assert.ok(i % 2 ? v >= 10 && v < 10.5 : v >= -1 && v < 1, `${i}: ${v}`));
  });

  it("NCSN's noise levels: γ = 2 log σ̃ (σ̃ = 0: −∞, σ̃ < 0 refused); the geometric ladder and its checks", () => {
    assert.equal(gammaOfSigma(0), -Infinity);
    assert.equal(gammaOfSigma(3), 2 * Math.log(3));
    assert.throws(() => gammaOfSigma(-1), /noise level σ must be >= 0/);
    assert.throws(() => gammaOfSigma(NaN), /noise level σ must be >= 0/);
    assertClose(geometricSigmas(10, 0.1, 3), [10, 1, 0.1], { rtol: 1e-15, label: "ladder" });
    assertClose(geometricSigmas(8, 1, 4), [8, 4, 2, 1], { rtol: 1e-15, label: "ladder" });
    assert.deepEqual(geometricSigmas(5, 1, 1), [5]);
    for (const [hi, lo] of [
      [1, 1],
      [1, 2],
      [1, 0],
    ])
      assert.throws(() => geometricSigmas(hi!, lo!, 3), /need sigmaMax > sigmaMin > 0/);
    for (const levels of [0, 2.5]) assert.throws(() => geometricSigmas(10, 1, levels), /levels must be an integer >= 1/);
  });

  it("a level's α = √sigmoid(−γ), σ = √sigmoid(γ), σ̃ = e^{γ/2}; a·x + b·y", () => {
    assert.deepEqual(alphaSigma(-Infinity), { alpha: 1, sigma: 0 });
    const { alpha, sigma } = alphaSigma(Math.log(3)); // SNR 1/3: α² = 1/4, σ² = 3/4
    assertClose([alpha, sigma], [0.5, Math.sqrt(3) / 2], { rtol: 1e-15, label: "α, σ" });
    assert.equal(sigmaTilde(-Infinity), 0);
    assertClose([sigmaTilde(Math.log(9))], [3], { rtol: 1e-15, label: "σ̃" });
    assert.deepEqual(
      axpby(2, np.array([1, 2], { dtype: np.float64 }), -3, np.array([5, 7], { dtype: np.float64 })).dataSync(),
      Float64Array.from([-13, -17]),
    );
  });
});
