/**
 * The probability-flow likelihood's bookkeeping against closed forms: with a non-identity
 * normalisation x̃ = (x − m)/s the data-space log-likelihood is the normalised one plus
 * log|∂x̃/∂x| = −Σ_d log s_d, and bits/dim are −mean/(D ln 2). For Gaussian data the flow is
 * linear: x(γ) = α_γ μ + √v_γ ⊙ (x(γ_0) − α_0 μ)/√v_0 with v_γ = α_γ² λ + σ_γ², and its divergence
 * integrates to ½ Σ_d log(v_1/v_0), so log N(x(γ_1); 0, I) + ½ Σ log(v_1/v_0) − Σ log s is the exact
 * answer (prior mismatch included). A hand-made linear flow checks what is passed to the flow (t at
 * each γ, one fixed Rademacher probe per example), batching, progress, dequantisation and the
 * choice of divergence.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { PointSet } from "../data/sets.js";
import { mixtureParams, oracleModel } from "../densities/oracle.js";
import type { FlowFunction } from "../diffusion/flow.js";
import { DiffusionProcess } from "../diffusion/process.js";
import { Rng } from "../engine/index.js";
import { type Array as JaxArray, numpy as np, tree } from "../engine/jax.js";
import { getSchedule } from "../schedule/index.js";
import { useEngine } from "../testing/helpers.js";
import { odeLikelihood } from "./ode-likelihood.js";

useEngine("wasm");

const process = new DiffusionProcess(getSchedule("cosine"), 1000);
const G0 = process.reconstructionLevel().gamma;
const G1 = process.priorLevel().gamma;
const levels = (gamma: number) => ({ alpha: Math.sqrt(1 / (1 + Math.exp(gamma))), sigma2: 1 / (1 + Math.exp(-gamma)) });
const standardNormal = (y: number[]) => y.reduce((s, v) => s - 0.5 * (v * v + Math.log(2 * Math.PI)), 0);
const pointSet = (rows: number[][]): PointSet => ({ points: Float32Array.from(rows.flat()), n: rows.length, dim: rows[0]!.length });

describe("the ODE likelihood of Gaussian data under a non-identity normalisation", () => {
  // data N(m, diag(s²)) in data space; the model sees x̃ = (x − mean)/std, distributed N(μ, diag(λ))
  const z = { mean: [0.5, -1], std: [2, 0.25] };
  const dataMean = [1.3, -0.9];
  const dataStd = [1.1, 0.2];
  const mu = dataMean.map((m, d) => (m - z.mean[d]!) / z.std[d]!);
  const lambda = dataStd.map((s, d) => (s / z.std[d]!) ** 2);
  const den = { model: oracleModel("eps"), params: mixtureParams({ weights: [1], means: [mu], variances: [lambda] }) };
  const test = pointSet([
    [1.2, -0.8],
    [3.5, -1.2],
    [-0.7, -0.5],
    [1.9, -0.95],
    [0.1, -1.3],
  ]);

  /** log N(x(γ_1); 0, I) + ½ Σ log(v_1/v_0) − Σ log s at the normalised point, in float64. */
  const exact = (x: number[], g1: number) => {
    const [l0, l1] = [levels(G0), levels(g1)];
    const v0 = lambda.map((l) => l0.alpha ** 2 * l + l0.sigma2);
    const v1 = lambda.map((l) => l1.alpha ** 2 * l + l1.sigma2);
    const xt = x.map((v, d) => (v - z.mean[d]!) / z.std[d]!);
    const x1 = xt.map((v, d) => l1.alpha * mu[d]! + Math.sqrt(v1[d]! / v0[d]!) * (v - l0.alpha * mu[d]!));
    return standardNormal(x1) + 0.5 * v0.reduce((s, v, d) => s + Math.log(v1[d]! / v), 0) - z.std.reduce((s, v) => s + Math.log(v), 0);
  };

  it("equals the closed form point by point in data space, with the summaries in nats and bits/dim", () => {
    const got = odeLikelihood(den, process, test, { normalization: z, rtol: 1e-6, atol: 1e-6 });
    const want = Array.from({ length: test.n }, (_, i) => exact([test.points[2 * i]!, test.points[2 * i + 1]!], G1));
    // measured 2.5e-6 (float32 network values along the path)
    got.logLikelihood.forEach((lp, i) => assert.ok(Math.abs(lp - want[i]!) < 2e-5, `point ${i}: ${lp} vs ${want[i]}`));
    assert.deepEqual(got.gamma, [G0, G1]);
    const mean = got.logLikelihood.reduce((a, b) => a + b, 0) / test.n;
    const se = Math.sqrt(got.logLikelihood.reduce((a, b) => a + (b - mean) ** 2, 0) / (test.n - 1) / test.n);
    // measured 0: the same sums
    assert.ok(
      Math.abs(got.nats + mean) < 1e-12 && Math.abs(got.natsStdError - se) < 1e-12,
      `nats ${got.nats} ± ${got.natsStdError} vs ${-mean} ± ${se}`,
    );
    assert.ok(
      Math.abs(got.bpd + mean / (2 * Math.LN2)) < 1e-12 && Math.abs(got.bpdStdError - se / (2 * Math.LN2)) < 1e-12,
      `bpd ${got.bpd} ± ${got.bpdStdError}`,
    );
  });

  it("stops at σ̃_max when that is below the prior level, and refuses one below the starting level", () => {
    const g1 = 2 * Math.log(3);
    const got = odeLikelihood(den, process, test, { normalization: z, rtol: 1e-6, atol: 1e-6, sigmaMax: 3 });
    assert.deepEqual(got.gamma, [G0, g1]);
    // measured 1.3e-6
    got.logLikelihood.forEach((lp, i) =>
      assert.ok(Math.abs(lp - exact([test.points[2 * i]!, test.points[2 * i + 1]!], g1)) < 1e-5, `point ${i}: ${lp}`),
    );
    const sigma0 = Math.exp(G0 / 2);
    // at exactly the starting level the range [γ_0, γ_1] is empty: refused too (2 log e^{γ_0/2} = γ_0 in float64 here)
    for (const sigmaMax of [sigma0 / 2, sigma0])
      assert.throws(() => odeLikelihood(den, process, test, { sigmaMax }), {
        message: `σ̃_max = ${sigmaMax} is below the least noisy level (σ̃ = ${sigma0})`,
      });
  });
});

describe("what the ODE likelihood passes to the flow, and how it reads the result", () => {
  const kappa = -0.05;
  /** f = κx, ∇·f = κ·(D or Σ_d v_d with the probe v); records the factory's mode and every call. */
  function linearFlow() {
    const calls: { t: number[]; gamma: number[]; probe: number[] }[] = [];
    const modes: boolean[] = [];
    const factory = (exact: boolean): FlowFunction => {
      modes.push(exact);
      return (params, x, t, gamma, probe) => {
        tree.dispose(params);
        const [B, D] = [x.shape[0]!, x.shape.slice(1).reduce((a, b) => a * b, 1)];
        const values = {
          t: Array.from(t.dataSync() as Float32Array),
          gamma: Array.from(gamma.dataSync() as Float32Array),
          probe: Array.from(probe.ref.dataSync() as Float32Array),
        };
        calls.push(values);
        if (exact) probe.dispose();
        const divergence = exact ? np.full([B], kappa * D) : np.sum(probe.reshape([B, D]), 1).mul(kappa);
        return { drift: x.mul(kappa), divergence: divergence as JaxArray };
      };
    };
    return { factory, calls, modes };
  }
  const den = { model: oracleModel("eps"), params: {} };

  it("exact divergence: f at t(γ) for each γ, log N(x e^{κΔγ}) + κDΔγ, progress as a fraction of [γ_0, γ_1]", () => {
    const flow = linearFlow();
    const progress: [number, number][] = [];
    const test = pointSet([
      [0.4, -1.1, 2],
      [1.5, 0.2, -0.3],
      [-2, 0.7, 0.1],
    ]);
    const got = odeLikelihood(den, process, test, { flow: flow.factory, steps: 4, onStep: (f, e) => progress.push([f, e]) });
    assert.deepEqual(flow.modes, [true]);
    assert.equal(got.divergence, "exact");
    // γ arrives rounded to float32, t was computed from the float64 γ: measured 2.8e−8 apart
    for (const { t, gamma } of flow.calls)
      gamma.forEach((g, b) => assert.ok(Math.abs(t[b]! - process.timeAtGamma(g)) < 2e-7, `t ${t[b]} at γ = ${g}`));
    const span = G1 - G0;
    const closedForm = Array.from(
      { length: test.n },
      (_, i) => standardNormal([0, 1, 2].map((d) => test.points[3 * i + d]! * Math.exp(kappa * span))) + 3 * kappa * span,
    );
    // measured 1.7e-6 (4 fixed steps of e^{κΔγ}: R(z) − e^z ≈ z⁶/3600 per step; float32 states)
    got.logLikelihood.forEach((lp, i) => assert.ok(Math.abs(lp - closedForm[i]!) < 1e-5, `point ${i}: ${lp} vs ${closedForm[i]}`));
    assert.equal(got.evaluations, 25);
    progress.forEach(([f, e], k) => {
      assert.ok(Math.abs(f - (k + 1) / 4) < 1e-12, `step ${k}: fraction ${f}`);
      assert.equal(e, 1 + 6 * (k + 1));
    });
    assert.equal(progress.length, 4);
  });

  it("the exact divergence draws nothing from the random stream", () => {
    const rng = new Rng(3);
    odeLikelihood(den, process, pointSet([[0.2, 0.3]]), { flow: linearFlow().factory, steps: 1, rng });
    assert.deepEqual(rng.uniform([4]).dataSync(), new Rng(3).uniform([4]).dataSync());
  });

  it("Hutchinson: one Rademacher probe per example, fixed along its path; dequantisation spreads points over their bins; batches", () => {
    const flow = linearFlow();
    const batches: number[] = [];
    const test = pointSet([
      [3, 200, 17],
      [0, 255, 128],
      [64, 1, 9],
      [250, 30, 77],
    ]);
    const z = { mean: [127.5], std: [127.5] };
    const got = odeLikelihood(den, process, test, {
      flow: flow.factory,
      steps: 4,
      divergence: "hutchinson",
      dequantize: true,
      normalization: z,
      rng: new Rng(11),
      batch: 3,
      onBatch: (done) => batches.push(done),
    });
    assert.deepEqual(batches, [3, 4]);
    assert.equal(got.evaluations, 25);
    assert.deepEqual(flow.modes, [false]);
    assert.equal(got.divergence, "hutchinson");
    // the same stream, drawn in the same order: the dequantisation noise, then a probe per batch
    const rng = new Rng(11);
    const u = rng.uniform([12]).dataSync() as Float32Array;
    const probes = [3, 1].map((m) => Array.from(rng.uniform([3 * m]).dataSync() as Float32Array, (v) => (v < 0.5 ? -1 : 1)));
    assert.deepEqual(
      flow.calls.map((c) => c.probe),
      [...Array(25).fill(probes[0]), ...Array(25).fill(probes[1])],
    );
    assert.ok(probes.flat().includes(1) && probes.flat().includes(-1));
    const span = G1 - G0;
    const expected = Array.from({ length: 4 }, (_, i) => {
      const x = [0, 1, 2].map((d) => Math.fround((Math.fround(test.points[3 * i + d]! + u[3 * i + d]!) - 0.5 - 127.5) / 127.5));
      const probe = probes[i < 3 ? 0 : 1]!.slice(3 * (i % 3), 3 * (i % 3) + 3);
      return (
        standardNormal(x.map((v) => v * Math.exp(kappa * span))) + kappa * span * probe.reduce((a, b) => a + b, 0) - 3 * Math.log(127.5)
      );
    });
    // measured 6.0e-7 (4 fixed steps of e^{κΔγ}, float32 states)
    got.logLikelihood.forEach((lp, i) => assert.ok(Math.abs(lp - expected[i]!) < 5e-6, `point ${i}: ${lp} vs ${expected[i]}`));
  });

  it("the divergence is exact up to 16 dimensions, Hutchinson's above, unless asked", () => {
    for (const [D, asked, kind] of [
      [16, undefined, "exact"],
      [17, undefined, "hutchinson"],
      [2, "hutchinson", "hutchinson"],
      [17, "exact", "exact"],
    ] as const) {
      const flow = linearFlow();
      const got = odeLikelihood(den, process, pointSet([new Array(D).fill(0.1)]), { flow: flow.factory, steps: 1, divergence: asked });
      assert.equal(got.divergence, kind, `D = ${D}`);
      assert.deepEqual(flow.modes, [kind === "exact"]);
    }
  });
});
