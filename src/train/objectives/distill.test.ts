/**
 * Progressive distillation's target on the exact oracle of Gaussian data N(μ, S²), in float64 (the
 * `cpu` device): the target equals two DDIM steps of the exact denoiser computed by hand from the closed
 * forms of γ, α and σ; the levels nest; the truncated-SNR loss.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { mixtureParams, oracleModel } from "../../densities/oracle.js";
import { truncatedSnrLoss } from "../../diffusion/distill.js";
import { DiffusionProcess } from "../../diffusion/process.js";
import { Rng } from "../../engine/index.js";
import { numpy as np } from "../../engine/jax.js";
import { ODE_SIGMA_MAX } from "../../sample/predict.js";
import { cosineSchedule, logSnrLinearSchedule } from "../../schedule/index.js";
import { assertClose, useEngine } from "../../testing/helpers.js";
import { alpha, sigma } from "../../testing/reference.js";
import { timedOracle } from "../../testing/timed-oracle.js";
import { distillationExample, distillationLevels } from "./distill.js";

useEngine("cpu");

const schedule = logSnrLinearSchedule(-8, 8); // γ(t) = −8 + 16t, below the σ̃ cap (γ ≤ 2 log 80)
const process = new DiffusionProcess(schedule, 0);
const MU = [1.5, -0.5];
const S2 = [0.25, 1.44];
const f64 = (values: ArrayLike<number>, shape: number[]) => np.array(Float64Array.from(values), { dtype: np.float64 }).reshape(shape);

/** E[x_0 | z] at level γ for N(μ_d, S²_d): μ + α S²/(α² S² + σ²)·(z − α μ). */
const exactX0 = (z: number, g: number, d: number) =>
  MU[d]! + ((alpha(g) * S2[d]!) / (alpha(g) ** 2 * S2[d]! + sigma(g) ** 2)) * (z - alpha(g) * MU[d]!);
/** α, σ of the trailing level k of M (t = k/M; k = 0: the data, α = 1, σ = 0). */
const scales = (k: number, M: number) => (k === 0 ? { a: 1, s: 0 } : { a: alpha(-8 + (16 * k) / M), s: sigma(-8 + (16 * k) / M) });

describe("progressive distillation's target (float64, the exact oracle of Gaussian data)", () => {
  it("equals two DDIM steps of the exact denoiser from the student's level, computed by hand", () => {
    const N = 4; // the student's steps: the teacher's 8 levels t = k/8
    const B = 8;
    const rng = new Rng(3);
    const x0 = Float64Array.from(rng.normal([B, 2]).dataSync() as Float32Array, (v, k) => MU[k % 2]! + Math.sqrt(S2[k % 2]!) * v);
    const eps = Float64Array.from(rng.normal([B, 2]).dataSync() as Float32Array);
    const u = Float64Array.from({ length: B }, (_, b) => (b + 0.5) / B); // each student step twice
    const teacher = { model: timedOracle(schedule), params: mixtureParams({ weights: [1], means: [MU], variances: [S2] }, np.float64) };
    const ex = distillationExample(teacher.model, teacher, distillationLevels(process, N), f64(x0, [B, 2]), f64(eps, [B, 2]), f64(u, [B]));
    const got = {
      zt: ex.zt.dataSync() as Float64Array,
      target: ex.target.dataSync() as Float64Array,
      t: ex.t.dataSync() as Float64Array,
      gamma: ex.gamma.dataSync() as Float64Array,
      alpha: ex.level.alpha.dataSync() as Float64Array,
      sigma: ex.level.sigma.dataSync() as Float64Array,
    };
    const want = { zt: [] as number[], target: [] as number[], landed: [] as number[] };
    for (let b = 0; b < B; b++) {
      const i = Math.floor(u[b]! * N) + 1; // the student's step i: teacher levels 2i → 2i − 1 → 2i − 2
      const [hi, mid, lo] = [scales(2 * i, 2 * N), scales(2 * i - 1, 2 * N), scales(2 * i - 2, 2 * N)];
      const [gHi, gMid] = [-8 + (16 * 2 * i) / (2 * N), -8 + (16 * (2 * i - 1)) / (2 * N)];
      assert.equal(got.t[b], i / N);
      assert.equal(got.gamma[b], gHi);
      assertClose([got.alpha[b]!, got.sigma[b]!], [hi.a, hi.s], { rtol: 1e-15, label: "α, σ" });
      for (let d = 0; d < 2; d++) {
        const z = hi.a * x0[b * 2 + d]! + hi.s * eps[b * 2 + d]!;
        const x1 = exactX0(z, gHi, d);
        const zMid = mid.a * x1 + (mid.s / hi.s) * (z - hi.a * x1);
        const x2 = exactX0(zMid, gMid, d);
        const zLo = lo.a * x2 + (lo.s / mid.s) * (zMid - mid.a * x2);
        want.zt.push(z);
        want.target.push((zLo - (lo.s / hi.s) * z) / (lo.a - (lo.s / hi.s) * hi.a));
        want.landed.push(zLo);
      }
    }
    assertClose(got.zt, want.zt, { rtol: 1e-14, atol: 1e-15, label: "z_t" });
    assertClose(got.target, want.target, { rtol: 1e-12, atol: 1e-13, label: "x̃" });
    // the defining property: one DDIM step with x̂_0 = x̃ lands where the teacher's two land
    const landed = Array.from(got.target, (x, k) => {
      const b = Math.floor(k / 2);
      const lo = scales(2 * (Math.floor(u[b]! * N) + 1) - 2, 2 * N);
      const c = lo.s / got.sigma[b]!;
      return lo.a * x + c * (got.zt[k]! - got.alpha[b]! * x);
    });
    assertClose(landed, want.landed, { rtol: 1e-12, atol: 1e-13, label: "the student's step" });
    // the last step lands on the data: x̃ is the teacher's two-step x_0 itself, not the first x̂_0
    const one = exactX0(want.zt[0]!, -8 + (16 / (2 * N)) * 2, 0);
    assert.ok(Math.abs(want.target[0]! - one) > 1e-3, "two steps differ from one here (the test can see a one-step target)");
  });

  it("folds classifier-free guidance into a conditional teacher: (1 + w)·x̂(z, y) − w·x̂(z, ∅), the dropped label unguided", () => {
    // a two-class mixture's exact oracle: label k its component's denoiser, label 2 ("no label") the mixture's
    const [pi, mu, s2] = [
      [0.3, 0.7],
      [-1, 2],
      [0.25, 0.5],
    ];
    const model = oracleModel("x0", 2);
    const w = 2;
    const teacher = {
      model,
      params: mixtureParams({ weights: pi, means: mu.map((m) => [m]), variances: s2.map((v) => [v]) }, np.float64),
      guidance: w,
    };
    const N = 2;
    const B = 6;
    const x0 = [-1.2, 0.4, 2.5, 1.1, -0.3, 1.9];
    const eps = [0.3, -1.1, 0.8, 1.6, -0.4, 0.2];
    const u = [0.1, 0.3, 0.6, 0.9, 0.2, 0.7];
    const labels = [0, 1, 2, 0, 1, 2];
    const ex = distillationExample(
      model,
      teacher,
      distillationLevels(process, N),
      f64(x0, [B, 1]),
      f64(eps, [B, 1]),
      f64(u, [B]),
      np.array(labels, { dtype: np.int32 }),
    );
    const target = ex.target.dataSync() as Float64Array;
    const component = (z: number, g: number, k: number) =>
      mu[k]! + ((alpha(g) * s2[k]!) / (alpha(g) ** 2 * s2[k]! + sigma(g) ** 2)) * (z - alpha(g) * mu[k]!);
    const mixture = (z: number, g: number) => {
      const v = s2.map((sk) => alpha(g) ** 2 * sk + sigma(g) ** 2);
      const r = pi.map((p, k) => (p / Math.sqrt(v[k]!)) * Math.exp(-((z - alpha(g) * mu[k]!) ** 2) / (2 * v[k]!)));
      return (r[0]! * component(z, g, 0) + r[1]! * component(z, g, 1)) / (r[0]! + r[1]!);
    };
    const guided = (z: number, g: number, y: number) => (y === 2 ? mixture(z, g) : (1 + w) * component(z, g, y) - w * mixture(z, g));
    const want = x0.map((x, b) => {
      const i = Math.floor(u[b]! * N) + 1;
      const [hi, mid, lo] = [scales(2 * i, 2 * N), scales(2 * i - 1, 2 * N), scales(2 * i - 2, 2 * N)];
      const [gHi, gMid] = [-8 + (16 * 2 * i) / (2 * N), -8 + (16 * (2 * i - 1)) / (2 * N)];
      const z = hi.a * x + hi.s * eps[b]!;
      const x1 = guided(z, gHi, labels[b]!);
      const zMid = mid.a * x1 + (mid.s / hi.s) * (z - hi.a * x1);
      const x2 = guided(zMid, gMid, labels[b]!);
      const zLo = lo.a * x2 + (lo.s / mid.s) * (zMid - mid.a * x2);
      return (zLo - (lo.s / hi.s) * z) / (lo.a - (lo.s / hi.s) * hi.a);
    });
    assertClose(target, want, { rtol: 1e-11, atol: 1e-12, label: "guided x̃" });
  });

  it("nests: the student's N trailing levels are every second one of the teacher's 2N (the DDIM sampler's own)", () => {
    const cases = [new DiffusionProcess(cosineSchedule(), 0), new DiffusionProcess(cosineSchedule(), 1000), process];
    for (const p of cases) {
      for (const N of [1, 2, 4, 32]) {
        const teacher = distillationLevels(p, N);
        const student = p.samplingLevels(N, "trailing", ODE_SIGMA_MAX);
        assert.deepEqual(
          Array.from(student.t),
          Array.from(teacher.t).filter((_, k) => k % 2 === 0),
          `T = ${p.T}, N = ${N}`,
        );
        assert.deepEqual(
          Array.from(student.gamma),
          Array.from(teacher.gamma).filter((_, k) => k % 2 === 0),
        );
      }
    }
    assert.throws(() => distillationLevels(process, 0), /integer >= 1/);
  });

  it("the truncated-SNR loss: max(α²/σ², 1)·mean_d (x̃ − x̂)²", () => {
    const [a, s] = [0.8, 0.6]; // SNR 16/9, and below it 9/16 (weight 1)
    const loss = truncatedSnrLoss(f64([1, 2, 0, 0], [2, 2]), f64([1.5, 1, 0.3, -0.1], [2, 2]), {
      alpha: f64([a, s], [2]),
      sigma: f64([s, a], [2]),
    }).dataSync() as Float64Array;
    assertClose(loss, [(16 / 9) * ((0.25 + 1) / 2), (0.09 + 0.01) / 2], { rtol: 1e-15, label: "loss" });
  });
});
