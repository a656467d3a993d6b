/**
 * The VDM objective with a learned schedule, on Gaussian data x_0 ~ N(μ, diag(s²)) with the exact
 * denoiser, against the closed-form continuous-time −ELBO written here (per dimension, with
 * v = SNR = e^{−γ} and the data average taken in closed form):
 *   reconstruction ½(log 2π + γ_min) + ½ s²v₀/(s²v₀ + 1),   v₀ = e^{−γ_min}
 *   diffusion      ½ ∫ e^{−γ} Var[x_0|x_γ] dγ = ½ log((1 + s²v₀)/(1 + s²v₁)),   v₁ = e^{−γ_max}
 *   prior          ½ (sigmoid(−γ_max)(μ² + s² − 1) + softplus(−γ_max)).
 * It depends on the schedule through γ_min and γ_max only.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { mixtureParams, oracleModel } from "../densities/oracle.js";
import { gammaConditioned } from "../diffusion/model.js";
import { levelUniforms } from "../diffusion/process.js";
import { Rng } from "../engine/index.js";
import { type Array, type JsTree, jit, numpy as np, tree } from "../engine/jax.js";
import { initLearnedSchedule, type LearnedScheduleKind, type LearnedScheduleParams, learnedSchedule } from "../schedule/learned.js";
import { useEngine } from "../testing/helpers.js";
import { learnedScheduleObjective } from "./objectives/learned.js";

useEngine("wasm");

const MU = [0.5, -1];
const S = [0.7, 1.3];
const softplus = (x: number) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** E_{x_0}[−ELBO] in nats of the exact denoiser, continuous time (see the file's comment). */
function negativeElbo(gammaMin: number, gammaMax: number): number {
  let total = 0;
  for (let d = 0; d < MU.length; d++) {
    const [mu, s2] = [MU[d]!, S[d]! ** 2];
    const [v0, v1] = [Math.exp(-gammaMin), Math.exp(-gammaMax)];
    total += 0.5 * (Math.log(2 * Math.PI) + gammaMin) + (0.5 * s2 * v0) / (s2 * v0 + 1);
    total += 0.5 * Math.log((1 + s2 * v0) / (1 + s2 * v1));
    total += 0.5 * (sigmoid(-gammaMax) * (mu * mu + s2 - 1) + softplus(-gammaMax));
  }
  return total;
}

const ENDS = { gammaMin: -6, gammaMax: 4 };
const B = 2048;

function setup(kind: LearnedScheduleKind) {
  const model = gammaConditioned(oracleModel("eps"), ENDS.gammaMin, ENDS.gammaMax);
  const objective = jit(learnedScheduleObjective(model, kind, 0, "gaussian"));
  const schedule = initLearnedSchedule(kind, new Rng(1), { ...ENDS, hidden: 16 });
  const denoiser = mixtureParams({ weights: [1], means: [MU], variances: [S.map((s) => s * s)] });
  return { objective, schedule, denoiser };
}

/** One batch of data, noise and stratified uniforms. */
function batch(rng: Rng) {
  const eps = rng.normal([B, 2]);
  const x0 = rng
    .normal([B, 2])
    .mul(np.array([S]))
    .add(np.array([MU]));
  return { x0, eps, u: levelUniforms(rng, B, true), table: np.zeros([0]), labels: np.zeros([B], { dtype: np.int32 }) };
}

/** Mean and standard error over batches of the objective's loss, variance and endpoint gradients. */
function measure(s: ReturnType<typeof setup>, schedule: LearnedScheduleParams, batches: number, seed: number) {
  const rng = new Rng(seed);
  const rows: number[][] = [];
  for (let k = 0; k < batches; k++) {
    const params = { denoiser: tree.ref(s.denoiser), schedule: tree.ref(schedule) } as unknown as JsTree<Array>;
    const out = s.objective(params, batch(rng));
    const g = out.grads as unknown as { schedule: LearnedScheduleParams };
    const read = (a: Array) => (a.ref.dataSync() as Float32Array)[0]!;
    rows.push([read(out.loss), read(out.variance), read(g.schedule.gammaMin), read(g.schedule.gammaMax)]);
    tree.dispose([out.loss, out.variance]);
    tree.dispose(out.grads);
  }
  return [0, 1, 2, 3].map((j) => {
    const xs = rows.map((r) => r[j]!);
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1));
    return { mean, se: sd / Math.sqrt(xs.length) };
  });
}

describe("a learned schedule's objective (exact denoiser, Gaussian data, continuous time)", () => {
  it("its loss is the closed-form −ELBO and its endpoint gradients are the −ELBO's finite differences", () => {
    const h = 1e-4;
    const fd = {
      gammaMin: (negativeElbo(ENDS.gammaMin + h, ENDS.gammaMax) - negativeElbo(ENDS.gammaMin - h, ENDS.gammaMax)) / (2 * h),
      gammaMax: (negativeElbo(ENDS.gammaMin, ENDS.gammaMax + h) - negativeElbo(ENDS.gammaMin, ENDS.gammaMax - h)) / (2 * h),
    };
    for (const kind of ["learned-linear", "learned"] as const) {
      const s = setup(kind);
      const [loss, , gMin, gMax] = measure(s, s.schedule, 24, 3);
      const want = negativeElbo(ENDS.gammaMin, ENDS.gammaMax);
      assert.ok(Math.abs(loss!.mean - want) < 5 * loss!.se + 1e-3, `${kind}: loss ${loss!.mean} ± ${loss!.se}, −ELBO ${want}`);
      assert.ok(
        Math.abs(gMin!.mean - fd.gammaMin) < 5 * gMin!.se + 1e-3,
        `${kind}: ∂/∂γ_min ${gMin!.mean} ± ${gMin!.se}, finite difference ${fd.gammaMin}`,
      );
      assert.ok(
        Math.abs(gMax!.mean - fd.gammaMax) < 5 * gMax!.se + 1e-4,
        `${kind}: ∂/∂γ_max ${gMax!.mean} ± ${gMax!.se}, finite difference ${fd.gammaMax}`,
      );
      tree.dispose([s.schedule, s.denoiser]);
    }
  });

  it("descending the interior's gradient lowers the estimator's variance and leaves the −ELBO and the endpoints as they were", () => {
    const s = setup("learned");
    const before = measure(s, s.schedule, 16, 5);
    let schedule = s.schedule;
    const rng = new Rng(7);
    for (let k = 0; k < 60; k++) {
      const params = { denoiser: tree.ref(s.denoiser), schedule: tree.ref(schedule) } as unknown as JsTree<Array>;
      const out = s.objective(params, batch(rng));
      const g = (out.grads as unknown as { schedule: LearnedScheduleParams }).schedule.interior!;
      // normalised gradient steps on the interior only
      const interior = tree.map(
        (p: Array, d: Array) => {
          const norm = Math.sqrt((np.sum(np.square(d.ref)).dataSync() as Float32Array)[0]!) + 1e-12;
          return p.ref.sub(d.ref.mul(0.05 / norm));
        },
        schedule.interior!,
        g,
      ) as LearnedScheduleParams["interior"];
      tree.dispose([out.grads, out.loss, out.variance, schedule.interior]);
      schedule = { gammaMin: schedule.gammaMin, gammaMax: schedule.gammaMax, interior };
    }
    const after = measure(s, schedule, 16, 5);
    const [lossBefore, varBefore] = before;
    const [lossAfter, varAfter] = after;
    assert.ok(varAfter!.mean < 0.8 * varBefore!.mean, `variance ${varBefore!.mean} → ${varAfter!.mean}`);
    const want = negativeElbo(ENDS.gammaMin, ENDS.gammaMax);
    for (const [label, l] of [
      ["before", lossBefore!],
      ["after", lossAfter!],
    ] as const) {
      assert.ok(Math.abs(l.mean - want) < 5 * l.se + 1e-3, `−ELBO ${label}: ${l.mean} ± ${l.se}, closed form ${want}`);
    }
    const sched = learnedSchedule("learned", schedule);
    const g = sched.gamma(np.linspace(0, 1, 101)).dataSync() as Float32Array;
    assert.ok(Math.abs(g[0]! - ENDS.gammaMin) < 1e-4 && Math.abs(g[100]! - ENDS.gammaMax) < 1e-4, `γ(0) = ${g[0]}, γ(1) = ${g[100]}`);
    for (let i = 1; i <= 100; i++) assert.ok(g[i]! > g[i - 1]!, `γ(${i / 100}) = ${g[i]} ≤ γ(${(i - 1) / 100}) = ${g[i - 1]}`);
    tree.dispose([schedule, s.denoiser]);
  });
});

describe("a learned schedule's objective with T = 1 (one latent x_1 at γ(1) = γ_max)", () => {
  it("is the reconstruction from x_1 plus the prior KL, as written in float64, and does not depend on γ_min", () => {
    const gammaMax = 1.5;
    const model = gammaConditioned(oracleModel("eps"), ENDS.gammaMin, gammaMax);
    const objective = learnedScheduleObjective(model, "learned-linear", 1, "gaussian");
    const schedule = initLearnedSchedule("learned-linear", new Rng(1), { gammaMin: ENDS.gammaMin, gammaMax, hidden: 16 });
    const denoiser = mixtureParams({ weights: [1], means: [MU], variances: [S.map((s) => s * s)] });
    const n = 8;
    const x0 = globalThis.Array.from({ length: n * 2 }, (_, i) => MU[i % 2]! + S[i % 2]! * Math.sin(1 + 2 * i));
    const eps = globalThis.Array.from({ length: n * 2 }, (_, i) => Math.cos(3 * i));
    const params = { denoiser, schedule } as unknown as JsTree<Array>;
    const out = objective(params, {
      x0: np.array(Float32Array.from(x0)).reshape([n, 2]),
      eps: np.array(Float32Array.from(eps)).reshape([n, 2]),
      u: np.array(Float32Array.from({ length: n }, (_, b) => b / n)),
      table: np.zeros([0]),
      labels: np.zeros([n], { dtype: np.int32 }),
    });
    // float64: x_1 = αx_0 + σε, x̂_0 = E[x_0 | x_1] of N(μ, s²), −log N(x_0; x̂_0, e^{γ_max}) + KL(N(αx_0, σ²) ‖ N(0, 1))
    const [a2, s2] = [sigmoid(-gammaMax), sigmoid(gammaMax)];
    const perExample = globalThis.Array.from({ length: n }, (_, b) =>
      [0, 1].reduce((sum, d) => {
        const [x, e, mu, v] = [x0[2 * b + d]!, eps[2 * b + d]!, MU[d]!, S[d]! ** 2];
        const x1 = Math.sqrt(a2) * x + Math.sqrt(s2) * e;
        const xHat = mu + ((Math.sqrt(a2) * v) / (a2 * v + s2)) * (x1 - Math.sqrt(a2) * mu);
        const reconstruction = 0.5 * (Math.log(2 * Math.PI) + gammaMax + (x - xHat) ** 2 * Math.exp(-gammaMax));
        return sum + reconstruction + 0.5 * (a2 * x * x + s2 - 1 - Math.log(s2));
      }, 0),
    );
    const want = perExample.reduce((a, b) => a + b, 0) / n;
    const g = out.grads as unknown as { schedule: LearnedScheduleParams };
    const read = (a: Array) => (a.ref.dataSync() as Float32Array)[0]!;
    // float32 arithmetic on values of order 1–10: 1e-5 relative
    assert.ok(Math.abs(read(out.loss) - want) <= 1e-5 * Math.abs(want), `loss ${read(out.loss)}, expected ${want}`);
    assert.equal(read(out.variance), 0); // no diffusion term: every estimate is 0
    assert.equal(read(g.schedule.gammaMin), 0);
    assert.notEqual(read(g.schedule.gammaMax), 0);
    tree.dispose([out.loss, out.variance, out.grads]);
  });
});
