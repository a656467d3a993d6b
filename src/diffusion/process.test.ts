/**
 * `DiffusionProcess` exactly: where the ELBO's terms sit, the levels of training examples and their
 * weights for given uniforms, the samplers' level grids and respacing (worked out by hand here), and
 * the time of a level (bisection and table) against the cosine schedule's closed-form inverse.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { exactArray, type Rng } from "../engine/index.js";
import { type Array as JaxArray, numpy as np } from "../engine/jax.js";
import { cosineSchedule, discretize, learnedSchedule, logSnrLinearSchedule } from "../schedule/index.js";
import { assertClose, useEngine } from "../testing/helpers.js";
import { cosineClosedForm } from "../testing/reference.js";
import { DiffusionProcess, levelUniforms, respace, stepsFromUniform } from "./process.js";

useEngine("cpu");

const read = (a: JaxArray) => Array.from(a.dataSync() as Float32Array | Float64Array);
const f32 = Math.fround;

const { gamma: cosGamma, dgamma: cosDgamma, inverse: cosInverse } = cosineClosedForm;

/** A stand-in for `Rng` that hands out the given uniforms in order. */
const scriptedUniforms = (draws: number[][]) =>
  ({ uniform: (shape: number[]) => exactArray(draws.shift()!).reshape(shape) }) as unknown as Rng;

describe("respace", () => {
  const linearTable = (T: number) => Float64Array.from({ length: T + 1 }, (_, i) => (i === 0 ? -Infinity : i));
  it("picks the nearest steps to each spacing's targets", () => {
    // uniform: 1 + 9k/3; trailing: round(10(k + 1)/4) = 3 (2.5 rounds up), 5, 8, 10
    assert.deepEqual(respace(linearTable(10), 4, "uniform"), [1, 4, 7, 10]);
    assert.deepEqual(respace(linearTable(10), 4, "trailing"), [3, 5, 8, 10]);
    // log-snr on γ_i = i²: targets 1, 34, 67, 100 → the nearest γ_i are 36, 64, 100
    const squares = Float64Array.from({ length: 11 }, (_, i) => (i === 0 ? -Infinity : i * i));
    assert.deepEqual(respace(squares, 4, "log-snr"), [1, 6, 8, 10]);
    for (const spacing of ["uniform", "log-snr", "trailing"] as const) assert.deepEqual(respace(squares, 1, spacing), [10], spacing);
    assert.deepEqual(respace(linearTable(6), 6, "uniform"), [1, 2, 3, 4, 5, 6]);
    // log-snr target 2.5 lies as near γ_2 as γ_3: the first wins
    assert.deepEqual(respace(linearTable(4), 3, "log-snr"), [1, 2, 4]);
    // uniform ignores γ: on γ_i = i² it is 1 + 9k/3, not the log-snr steps above
    assert.deepEqual(respace(squares, 4, "uniform"), [1, 4, 7, 10]);
    // log-snr spans γ_1..γ_T: on γ_i = 10i + 3 the targets 13, 43, 73, 103 are steps 1, 4, 7, 10
    assert.deepEqual(
      respace(
        Float64Array.from({ length: 11 }, (_, i) => (i === 0 ? -Infinity : 10 * i + 3)),
        4,
        "log-snr",
      ),
      [1, 4, 7, 10],
    );
  });

  it("pushes apart steps that share a target, keeping them within 1..T", () => {
    // γ_i = e^i, T = 6: targets e, 136, 270, 403 → nearest steps 1, 5, 5, 6 → 1, 4, 5, 6
    const exps = Float64Array.from({ length: 7 }, (_, i) => (i === 0 ? -Infinity : Math.exp(i)));
    assert.deepEqual(respace(exps, 4, "log-snr"), [1, 4, 5, 6]);
    // γ_i = −1/i, T = 6: targets −1, −0.72, −0.44, −0.17 → nearest steps 1, 2, 2, 6 → 1, 2, 3, 6 (pushed up)
    const reciprocal = Float64Array.from({ length: 7 }, (_, i) => (i === 0 ? -Infinity : -1 / i));
    assert.deepEqual(respace(reciprocal, 4, "log-snr"), [1, 2, 3, 6]);
  });
});

describe("steps and uniforms of training examples", () => {
  it("stepsFromUniform: ⌊u·count⌋ + first, the top clamped; simple over 1..T, elbo over 2..T", () => {
    const u = [0, 0.39, 0.5, 0.999999, 1];
    const simple = stepsFromUniform(exactArray(u), 5, "simple");
    assert.deepEqual([read(simple.steps), simple.count], [[1, 2, 3, 5, 5], 5]);
    const elbo = stepsFromUniform(exactArray(u), 5, "elbo");
    assert.deepEqual([read(elbo.steps), elbo.count], [[2, 3, 4, 5, 5], 4]);
    assert.equal(elbo.steps.dtype, np.int32);
    assert.deepEqual(read(stepsFromUniform(exactArray([0.7]), 1, "simple").steps), [1]);
    // T = 1: no diffusion term; step 1 with count 0, and levelsAtSteps weighs it 0 (not ∞·0 from γ_0 = −∞)
    const one = stepsFromUniform(exactArray([0, 0.5, 0.999999]), 1, "elbo");
    assert.deepEqual([read(one.steps), one.count], [[1, 1, 1], 0]);
    const p1 = new DiffusionProcess(cosineSchedule(), 1);
    assert.deepEqual(read(p1.levelsFromUniform(exactArray([0.3, 0.8]), p1.gammaTable(), "elbo").weight), [0, 0]);
    assert.throws(() => stepsFromUniform(exactArray([0.5]), 0, "simple"), /a discrete chain needs T >= 1 steps, got T = 0/);
  });

  it("levelUniforms: independent draws in discrete time, stratified (u + b/B) mod 1 in continuous time", () => {
    assert.deepEqual(read(levelUniforms(scriptedUniforms([[0.3, 0.9, 0.1]]), 3, false)), [0.3, 0.9, 0.1]);
    const got = read(levelUniforms(scriptedUniforms([[0.6]]), 4, true));
    assert.deepEqual(got, [0.6, 0.85, 0.1, 0.35].map(f32));
    const discrete = new DiffusionProcess(cosineSchedule(), 10).uniforms(scriptedUniforms([[0.25, 0.5]]), 2);
    assert.deepEqual(read(discrete), [0.25, 0.5]);
    const continuous = new DiffusionProcess(cosineSchedule(), 0).uniforms(scriptedUniforms([[0.25]]), 2);
    assert.deepEqual(read(continuous), [0.25, 0.75]);
  });
});

describe("the ELBO's levels", () => {
  it("discrete: reconstruction at step 1, prior at step T, the γ table in float32; continuous: tMin and tMax", () => {
    const d = new DiffusionProcess(logSnrLinearSchedule(-6, 4), 5);
    assert.equal(d.continuous, false);
    const [rec0, prior0] = [d.reconstructionLevel(), d.priorLevel()];
    assert.deepEqual([rec0.t, prior0.t], [0.2, 1]);
    // the chain's γ_i come back from its β's: measured 5e-16 relative
    assertClose([rec0.gamma, prior0.gamma], [-4, 4], { rtol: 1e-15, label: "chain γ" });
    assert.deepEqual(read(d.gammaTable()!), [-Infinity, -4, -2, 0, 2, 4].map(f32));
    const c = new DiffusionProcess(cosineSchedule(), 0);
    assert.equal(c.continuous, true);
    assert.equal(c.gammaTable(), null);
    assert.equal(c.chain, null);
    const [rec, prior] = [c.reconstructionLevel(), c.priorLevel()];
    assert.equal(rec.t, 1e-5);
    assert.equal(prior.t, 0.999);
    // measured: 2.2e-14 relative
    assertClose([rec.gamma, prior.gamma, c.gammaAt(0.5)], [cosGamma(1e-5), cosGamma(0.999), cosGamma(0.5)], { rtol: 1e-13, label: "γ" });
    assert.throws(() => new DiffusionProcess(cosineSchedule(), -1), /timesteps must be an integer >= 0, got -1/);
    assert.throws(() => new DiffusionProcess(cosineSchedule(), 2.5), /got 2.5/);
  });

  it("levelsAtSteps: t = i/T, γ_i and weight ½ expm1(γ_i − γ_{i−1})·scale", () => {
    const p = new DiffusionProcess(logSnrLinearSchedule(-6, 4), 5);
    const levels = p.levelsAtSteps(np.array([2, 5, 3], { dtype: np.int32 }), p.gammaTable()!, 3);
    assert.deepEqual(read(levels.t), [0.4, 1, 0.6].map(f32));
    assert.deepEqual(read(levels.gamma), [-2, 4, 0].map(f32));
    // measured: 3e-8 relative (float32)
    assertClose(
      read(levels.weight),
      [3, 3, 3].map((scale) => 0.5 * Math.expm1(2) * scale),
      { rtol: 3e-7, label: "weight" },
    );
  });

  it("levelsFromUniform, discrete: simple over 1..T with weight 1; elbo over 2..T with weight (T − 1)·½ expm1(Δγ)", () => {
    const p = new DiffusionProcess(logSnrLinearSchedule(-6, 4), 5);
    const u = [0, 0.5, 0.99];
    const simple = p.levelsFromUniform(exactArray(u), p.gammaTable(), "simple");
    assert.deepEqual([read(simple.t), read(simple.gamma), read(simple.weight)], [[0.2, 0.6, 1].map(f32), [-4, 0, 4].map(f32), [1, 1, 1]]);
    const elbo = p.levelsFromUniform(exactArray(u), p.gammaTable(), "elbo");
    assert.deepEqual([read(elbo.t), read(elbo.gamma)], [[0.4, 0.8, 1].map(f32), [-2, 2, 4].map(f32)]);
    // measured: 3e-8 relative (float32)
    assertClose(
      read(elbo.weight),
      [4, 4, 4].map((n) => n * 0.5 * Math.expm1(2)),
      { rtol: 3e-7, label: "weight" },
    );
  });

  it("levelsFromUniform, continuous: simple t = tMin + (tMax − tMin)u with weight 1; elbo in t with weight (tMax − tMin)·½γ'(t); elbo in γ within [tMin, tMax]", () => {
    const p = new DiffusionProcess(cosineSchedule(), 0);
    const u = [0, 0.3, 0.8, 0.9999999];
    const t = u.map((v) => 1e-5 + (0.999 - 1e-5) * f32(v));
    const simple = p.levelsFromUniform(np.array(u), null, "simple");
    // float32: measured 4.5e-8 relative (t), 1e-5 (γ, float32 trigonometry near tMax)
    assertClose(read(simple.t), t, { rtol: 3e-7, label: "simple t" });
    assertClose(read(simple.gamma), t.map(cosGamma), { rtol: 5e-5, label: "simple γ" });
    assert.deepEqual(read(simple.weight), [1, 1, 1, 1]);
    const byTime = p.levelsFromUniform(np.array(u), null, "elbo", "time");
    assertClose(read(byTime.t), t, { rtol: 3e-7, label: "elbo t" });
    // measured: 6.6e-5 relative (γ' of float32 t, steep near tMax)
    assertClose(
      read(byTime.weight),
      t.map((v) => (0.999 - 1e-5) * 0.5 * cosDgamma(v)),
      { rtol: 4e-4, label: "elbo weight" },
    );
    const byGamma = p.levelsFromUniform(np.array(u), null, "elbo");
    const [gMin, gMax] = [cosGamma(1e-5), cosGamma(0.999)];
    const gamma = u.map((v) => gMin + (gMax - gMin) * f32(v));
    const times = read(byGamma.t);
    times.forEach((v) => assert.ok(v >= f32(1e-5) && v <= f32(0.999), `t = ${v} outside [tMin, tMax]`));
    // measured: 1e-7 relative (γ), 7e-8 absolute (t = γ⁻¹(γ) in float32), 3.5e-9 relative (weight)
    assertClose(read(byGamma.gamma), gamma, { rtol: 1e-6, label: "γ" });
    assertClose(times, gamma.map(cosInverse), { atol: 5e-7, label: "t" });
    assertClose(
      read(byGamma.weight),
      [0, 1, 2, 3].map(() => 0.5 * (gMax - gMin)),
      { rtol: 3e-8, label: "weight" },
    );
  });
});

describe("the time of a level", () => {
  it("timeOfGamma (bisection) and timeAtGamma (the closed-form inverse) against γ⁻¹ written here, clamped to [tMin, tMax]", () => {
    const p = new DiffusionProcess(cosineSchedule(), 0);
    for (const g of [-14, -10, -3, 0, 2.5, 9]) {
      // measured: 6.5e-16 absolute at γ = −14 (t ≈ 2e−5, where the reference's acos is near 1), 3e-16 elsewhere
      assertClose([p.timeOfGamma(g)], [cosInverse(g)], { atol: 1e-15, label: `timeOfGamma(${g})` });
      assertClose([p.timeAtGamma(g)], [cosInverse(g)], { atol: 1e-15, label: `timeAtGamma(${g})` });
    }
    assert.deepEqual([p.timeOfGamma(-30), p.timeOfGamma(30), p.timeAtGamma(-30), p.timeAtGamma(30)], [1e-5, 0.999, 1e-5, 0.999]);
    // the ends themselves, exactly (bisection would land a few ulps inside)
    assert.deepEqual([p.timeOfGamma(p.gammaAt(1e-5)), p.timeOfGamma(p.gammaAt(0.999))], [1e-5, 0.999]);
  });

  it("timeAtGamma of a schedule without an inverse spans its own [tMin, tMax] with the table", () => {
    const p = new DiffusionProcess({ ...cosineSchedule(), inverse: undefined }, 0);
    assert.deepEqual([p.timeAtGamma(-30), p.timeAtGamma(30)], [1e-5, 0.999]);
    // measured: 1.3e-9 absolute in mid-range (linear interpolation in steps of 2.4e-4)
    assertClose(
      [0.3, 0.6].map((t) => p.timeAtGamma(cosGamma(t))),
      [0.3, 0.6],
      { atol: 1e-8, label: "interpolated" },
    );
  });

  it("timeAtGamma of a learned schedule (no inverse) interpolates 4,097 points of γ(t)", () => {
    const params = {
      gammaMin: np.array([-9]),
      gammaMax: np.array([6]),
      interior: { w1: np.array([[0.5]]), b1: np.array([0.1]), w2: np.array([[1.5, -2]]), b2: np.array([0, 0.5]), w3: np.array([[1], [2]]) },
    };
    const schedule = learnedSchedule("learned", params);
    const p = new DiffusionProcess(schedule, 0);
    const t = [0.003, 0.2, 0.5, 0.97];
    const gamma = Array.from(schedule.gamma(exactArray(t)).dataSync() as Float64Array);
    // measured: 7.7e-10 absolute (linear interpolation in steps of 1/4096)
    assertClose(
      gamma.map((g) => p.timeAtGamma(g)),
      t,
      { atol: 5e-9, label: "timeAtGamma(γ(t))" },
    );
    assert.deepEqual([p.timeAtGamma(-10), p.timeAtGamma(7)], [0, 1]);
  });

  it("timeAtGamma on a chain interpolates linearly between its steps (i/T, γ_i)", () => {
    const T = 10;
    const p = new DiffusionProcess(cosineSchedule(), T);
    const chain = discretize(cosineSchedule(), T);
    const g = [chain.gamma[1]!, 0.3 * chain.gamma[3]! + 0.7 * chain.gamma[4]!, chain.gamma[7]!, 0.5 * (chain.gamma[9]! + chain.gamma[10]!)];
    // measured: 5.6e-17 absolute
    assertClose(
      g.map((v) => p.timeAtGamma(v)),
      [0.1, 0.37, 0.7, 0.95],
      { atol: 1e-15, label: "interpolated t" },
    );
    assert.deepEqual([p.timeAtGamma(chain.gamma[1]! - 1), p.timeAtGamma(chain.gamma[T]! + 1)], [0.1, 1]);
  });
});

describe("samplers' levels", () => {
  const cosine = () => new DiffusionProcess(cosineSchedule(), 0);

  it("continuous: uniform, trailing and log-snr grids, index 0 the data", () => {
    const p = cosine();
    const N = 5;
    const uniform = p.samplingLevels(N, "uniform");
    const tu = [0, 1, 2, 3, 4].map((k) => 1e-5 + ((0.999 - 1e-5) * k) / 4);
    assertClose(Array.from(uniform.t), [0, ...tu], { rtol: 1e-15, label: "uniform t" });
    assert.equal(uniform.gamma[0], -Infinity);
    // measured: 1.1e-14 relative
    assertClose(Array.from(uniform.gamma.subarray(1)), tu.map(cosGamma), { rtol: 1e-13, label: "uniform γ" });
    const trailing = p.samplingLevels(N, "trailing");
    assertClose(Array.from(trailing.t), [0, ...[1, 2, 3, 4, 5].map((k) => 1e-5 + ((0.999 - 1e-5) * k) / 5)], {
      rtol: 1e-15,
      label: "trailing t",
    });
    const logSnr = p.samplingLevels(N, "log-snr");
    const [g0, g1] = [cosGamma(1e-5), cosGamma(0.999)];
    // measured: 2.9e-13 absolute (γ(t) of the bisected t, where γ' reaches 2000)
    assertClose(
      Array.from(logSnr.gamma.subarray(1)),
      [0, 1, 2, 3, 4].map((k) => g0 + ((g1 - g0) * k) / 4),
      { atol: 1e-12, label: "log-snr γ" },
    );
    assert.deepEqual(Array.from(p.samplingLevels(1, "uniform").t), [0, 0.999]);
    assert.deepEqual(Array.from(p.samplingLevels(1, "log-snr").t), [0, 0.999]);
    assert.equal(p.samplingLevels().t.length, 1001, "1000 levels by default");
  });

  it("continuous: σ̃_max caps the noisiest level at γ = 2 log σ̃_max", () => {
    const levels = cosine().samplingLevels(3, "uniform", 10);
    const tMax = cosInverse(2 * Math.log(10));
    // measured: 1e-16 absolute (bisection)
    assertClose(Array.from(levels.t), [0, 1e-5, (1e-5 + tMax) / 2, tMax], { atol: 1e-14, label: "capped t" });
    // measured: 9.6e-16 relative
    assertClose([levels.gamma[3]!], [2 * Math.log(10)], { rtol: 1e-14, label: "capped γ" });
    assert.deepEqual(
      Array.from(cosine().samplingLevels(2, "uniform", 1e6).t),
      [0, 1e-5, 0.999],
      "a cap above the schedule's top changes nothing",
    );
  });

  it("discrete: the whole chain by default, respaced sub-chains, the cap at a chain step, and its errors", () => {
    const p = new DiffusionProcess(logSnrLinearSchedule(-6, 4), 5);
    assert.deepEqual(Array.from(p.samplingLevels().t), [0, 0.2, 0.4, 0.6, 0.8, 1]);
    const chainGamma = (levels: { gamma: Float64Array }) => Array.from(levels.gamma).map((g) => Math.round(g * 1e9) / 1e9);
    assert.deepEqual(chainGamma(p.samplingLevels()), [-Infinity, -4, -2, 0, 2, 4]);
    assert.deepEqual(chainGamma(p.samplingLevels(2, "trailing")), [-Infinity, 0, 4]); // steps round(2.5) = 3, 5
    assert.deepEqual(Array.from(p.samplingLevels(2, "trailing").t), [0, 0.6, 1]);
    // σ̃ ≤ e^{1.5}: γ ≤ 3, the top step is 4 (γ_4 = 2)
    assert.deepEqual(chainGamma(p.samplingLevels(undefined, "uniform", Math.exp(1.5))), [-Infinity, -4, -2, 0, 2]);
    assert.throws(
      () => p.samplingLevels(5, "uniform", Math.exp(1.5)),
      /a chain of T = 5 steps capped at σ̃ ≤ 4.48\d+ \(step 4\) can be sampled in at most 4 steps, got 5/,
    );
    assert.throws(() => p.samplingLevels(6), /a chain of T = 5 steps can be sampled in at most 5 steps, got 6/);
    assert.throws(() => p.samplingLevels(0), /sampling steps must be an integer >= 1, got 0/);
    assert.throws(() => cosine().samplingLevels(2.5), /sampling steps must be an integer >= 1, got 2.5/);
    assert.throws(() => cosine().samplingLevels(3, "karras" as never), /unknown spacing "karras" \(known: uniform, log-snr, trailing\)/);
    assert.throws(() => cosine().samplingLevels(3, "uniform", 0), /the largest noise level σ̃_max must be > 0, got 0/);
    // a cap exactly at a step keeps it: σ̃ = 1 is γ = 0 = γ_3
    assert.deepEqual(Array.from(p.samplingLevels(undefined, "uniform", 1).t), [0, 0.2, 0.4, 0.6]);
    // a cap below every step keeps the first
    assert.deepEqual(chainGamma(p.samplingLevels(1, "uniform", 1e-3)), [-Infinity, -4]);
  });
});
