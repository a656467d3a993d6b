/**
 * Progressive distillation in training: a small MLP student distilled from the exact teacher of
 * Gaussian data converges to the teacher's two steps; a distilled run starts as its teacher and
 * resumes bit for bit; distillation configs.
 */
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { loadSplit } from "../data/index.js";
import { fitNormalization } from "../data/normalize.js";
import { mixtureParams, oracleModel } from "../densities/oracle.js";
import { toX0 } from "../diffusion/parameterization.js";
import { Rng } from "../engine/index.js";
import { type Array, numpy as np, tree } from "../engine/jax.js";
import { conditionalModel } from "../guidance/guided.js";
import { namedLeaves } from "../io/state.js";
import { useEngine } from "../testing/helpers.js";
import { adamInit, stepScalars } from "./adam.js";
import { buildModel, buildProcess, initParams } from "./build.js";
import { makeRunConfig } from "./defaults.js";
import { distillationConfig } from "./distill.js";
import { distillationExample, distillationLevels, distillationObjective } from "./objectives/distill.js";
import { runObjective } from "./objectives/index.js";
import { batchOf } from "./objectives/objective.js";
import { initialState, jaxStepper } from "./step.js";
import { train } from "./trainer.js";

useEngine("wasm");

const MU = [1.5, -0.5];
const S = [0.5, 1.2];
const small = (o: Parameters<typeof makeRunConfig>[1]) =>
  makeRunConfig({ spec: "moons", dim: 2, mean: [0, 0], std: [1, 1], train: 1000, test: 100 }, { hidden: 32, layers: 2, ...o });
const values = (x: Array) => globalThis.Array.from(x.dataSync() as Float32Array);
const leaves = (t: Parameters<typeof namedLeaves>[0]) => namedLeaves(t, "p").map(([n, a]) => [n, values(a.ref)]);

describe("progressive distillation in training", () => {
  it("a small MLP given the exact teacher of N(μ, S²) learns its two steps in one: ≥ 90 % of the one-step gap removed", {
    timeout: 300_000,
  }, () => {
    // student: one DDIM step from t = 1 (log-snr-linear, γ = 5) to the data; teacher: two of the exact x_0-denoiser, via t = 1/2
    const config = small({ target: "v", batch: 256 });
    const model = buildModel(config);
    const process = buildProcess(config);
    const N = 1;
    const teacher = { model: oracleModel("x0"), params: mixtureParams({ weights: [1], means: [MU], variances: [S.map((s) => s * s)] }) };
    const objective = distillationObjective(model, process, teacher, N);
    const rng = new Rng(1);
    const params = initParams(config, rng);
    const B = config.batch;
    const draw = () => {
      const x0 = rng
        .normal([B, 2])
        .mul(np.array([S]))
        .add(np.array([MU]));
      return batchOf(process, x0, rng.normal([B, 2]), rng.uniform([B]), np.zeros([B], { dtype: np.int32 }));
    };
    const adam = { ...config.adam, lr: 3e-3, warmup: 50 };
    const stepper = jaxStepper(objective, adam, { params: tree.ref(params), adam: adamInit(params), ema: params }, draw());
    const K = 1500;
    for (let k = 0; k < K; k++) stepper.steps([draw()], [stepScalars({ ...adam, emaDecay: 0 }, k)]);
    const trained = stepper.state().params;
    // on 4,000 held-out z_t: RMS(x̂_student − x̃) against the teacher's own one-step RMS(x̂_teacher − x̃);
    // both land at (α'' − (σ''/σ)α)·(x̂ − x̃) from the teacher's two steps, so the ratio is that of the landing errors.
    // Measured: gap 0.119 (the closed form: 0.117 for S = 0.5, the larger of the two dimensions' shares), student 0.0020
    // (1.6 %, the float32 MLP's fit after 1,500 steps); an RMS over 4,000 draws is within ~1 % of its limit, so the 10 %
    // bound fails only for a student that has not learnt the two steps (e.g. one trained on the one-step target: 100 %)
    const M = 4000;
    const levels = distillationLevels(process, N);
    for (let i = 1; i <= N; i++) {
      const x0 = rng
        .normal([M, 2])
        .mul(np.array([S]))
        .add(np.array([MU]));
      const u = np.full([M], (i - 0.5) / N);
      const ex = distillationExample(model, teacher, levels, x0, rng.normal([M, 2]), u);
      const rms = (x: Array) => Math.sqrt(values(np.mean(np.square(x.sub(ex.target.ref)))).at(0)!);
      const oneStep = toX0(teacher.model.apply(tree.ref(teacher.params), ex.zt.ref, ex.t.ref, ex.gamma.ref), "x0", ex.zt.ref, ex.gamma.ref);
      const student = toX0(model.apply(tree.ref(trained), ex.zt.ref, ex.t, ex.gamma.ref), model.target, ex.zt, ex.gamma);
      const [gap, distilled] = [rms(oneStep), rms(student)];
      tree.dispose([ex.target, ex.level]);
      assert.ok(gap > 0.05, `level ${i}: the teacher's one step differs from its two (RMS ${gap})`);
      assert.ok(distilled < 0.1 * gap, `level ${i}: the student's RMS error ${distilled} against the one-step gap ${gap}`);
    }
    stepper.close();
  });

  it("guidance survives: a conditional student given the exact guided teacher learns the guided steps, not the conditional ones", {
    timeout: 300_000,
  }, () => {
    // two overlapping classes (where classifier-free guidance moves samples); the teacher predicts (1 + w)·x̂(z, y) − w·x̂(z, ∅)
    const mixture = {
      weights: [0.4, 0.6],
      means: [
        [-0.5, 0],
        [0.5, 0.3],
      ],
      variances: [
        [0.3, 0.2],
        [0.25, 0.35],
      ],
    };
    const w = 2;
    const config = small({ target: "v", batch: 256, classes: 2 });
    const model = buildModel(config);
    const process = buildProcess(config);
    const N = 1;
    const exact = { model: oracleModel("x0", 2), params: mixtureParams(mixture) };
    const teacher = { ...exact, guidance: w };
    const objective = distillationObjective(model, process, teacher, N);
    const rng = new Rng(2);
    const params = initParams(config, rng);
    const B = config.batch;
    // x_0 of the given components, one example each
    const fromClass = (classes: number[]) =>
      rng
        .normal([classes.length, 2])
        .mul(np.array(classes.map((c) => mixture.variances[c]!.map(Math.sqrt))))
        .add(np.array(classes.map((c) => mixture.means[c]!)));
    // a batch: components drawn by weight, a fifth of the labels dropped to "no label" (2)
    const draw = () => {
      const u = rng.uniform([B]).dataSync() as Float32Array;
      const classes = globalThis.Array.from(u, (v) => (v < mixture.weights[0]! ? 0 : 1));
      const drop = rng.uniform([B]).dataSync() as Float32Array;
      const labels = classes.map((c, b) => (drop[b]! < 0.2 ? 2 : c));
      return batchOf(process, fromClass(classes), rng.normal([B, 2]), rng.uniform([B]), np.array(labels, { dtype: np.int32 }));
    };
    const adam = { ...config.adam, lr: 3e-3, warmup: 50 };
    const stepper = jaxStepper(objective, adam, { params: tree.ref(params), adam: adamInit(params), ema: params }, draw());
    for (let k = 0; k < 1500; k++) stepper.steps([draw()], [stepScalars({ ...adam, emaDecay: 0 }, k)]);
    const trained = stepper.state().params;
    const M = 4000;
    const levels = distillationLevels(process, N);
    for (const y of [0, 1]) {
      const x0 = fromClass(new globalThis.Array(M).fill(y));
      const eps = rng.normal([M, 2]);
      const u = np.full([M], 0.5);
      const labels = () => np.full([M], y, { dtype: np.int32 });
      const guided = distillationExample(model, teacher, levels, x0.ref, eps.ref, u.ref, labels());
      const conditional = distillationExample(model, exact, levels, x0, eps, u, labels());
      const rms = (x: Array) => Math.sqrt(values(np.mean(np.square(x.sub(guided.target.ref)))).at(0)!);
      const student = toX0(
        conditionalModel(model).apply({ net: tree.ref(trained), labels: labels() }, guided.zt.ref, guided.t, guided.gamma.ref),
        model.target,
        guided.zt,
        guided.gamma,
      );
      const [gap, error] = [rms(conditional.target), rms(student)];
      tree.dispose([guided.target, guided.level, conditional.zt, conditional.t, conditional.gamma, conditional.level]);
      assert.ok(gap > 0.05, `class ${y}: guidance moves the two-step target (RMS ${gap})`);
      // measured: guidance moves the target by 0.83 and 0.55 (RMS); the student misses it by 0.006 and 0.005. A student of
      // the conditional (unguided) teacher would miss it by the whole gap
      assert.ok(error < 0.1 * gap, `class ${y}: the student's RMS error ${error} against guidance's effect ${gap}`);
    }
    stepper.close();
  });

  it("a distilled run starts as its teacher and resumes bit for bit", { timeout: 300_000 }, () => {
    const split = loadSplit("moons", 0, { train: 500, test: 100 });
    const teacherConfig = makeRunConfig(
      { spec: "moons", dim: 2, ...fitNormalization(split.train), train: split.train.n, test: split.test.n },
      { steps: 10, hidden: 16, layers: 2, batch: 32 },
    );
    const teacher = train(teacherConfig, split.train).state;
    const config = { ...distillationConfig(teacherConfig, "teacher-dir", 2, { trainSteps: 6 }), checkpointEvery: 3 };
    assert.deepEqual(config.distill, { teacher: "teacher-dir", steps: 2, sampler: "ddim", spacing: "trailing" });
    const start = initialState(config, teacher.ema).state;
    assert.deepEqual(leaves(start.params), leaves(teacher.ema));
    tree.dispose([start.params, start.ema, start.adam]);
    assert.throws(() => train(config, split.train), /trains against its teacher/);
    const whole = train(config, split.train, { teacher: teacher.ema }).state;
    const dir = mkdtempSync(join(tmpdir(), "vdm-distill-"));
    train({ ...config, steps: 3 }, split.train, { checkpointDir: dir, teacher: teacher.ema });
    const resumed = train(config, split.train, { checkpointDir: dir, resume: true, teacher: teacher.ema }).state;
    assert.deepEqual(leaves(resumed.params), leaves(whole.params));
    assert.deepEqual(globalThis.Array.from(resumed.losses), globalThis.Array.from(whole.losses));
    assert.notDeepEqual(leaves(whole.params), leaves(teacher.ema), "the student moved");
  });

  it("folds guidance into the first teacher only: a later round's teacher, a guided student, is taken as it is", () => {
    const teacher = small({ classes: 3 });
    const round1 = distillationConfig(teacher, "teacher", 4, { guidance: 3 });
    const round2 = distillationConfig(round1, "round-4", 2, { guidance: 3 });
    assert.deepEqual([round1.distill?.guidance, round1.distill?.teacherGuided], [3, undefined]);
    assert.deepEqual([round2.distill?.guidance, round2.distill?.teacherGuided], [3, true]);
    assert.deepEqual(distillationConfig(round1, "round-4", 2).distill?.guidance, 3, "the w is carried without --cfg-scale");
    assert.throws(() => distillationConfig(round1, "round-4", 2, { guidance: 1 }), /carries classifier-free guidance w = 3/);
    // the objectives: round 1's teacher predicts (1 + w)·x̂(z, y) − w·x̂(z, ∅); round 2's is the guided student itself,
    // whose labels pass through (folding again would guide with (1 + w)² x̂(z, y) − w(2 + w) x̂(z, ∅))
    const model = buildModel(round1);
    const process = buildProcess(round1);
    const params = initParams(round1, new Rng(4));
    const loss = (objective: ReturnType<typeof runObjective>) => {
      const rng = new Rng(5);
      const batch = batchOf(
        process,
        rng.normal([64, 2]),
        rng.normal([64, 2]),
        rng.uniform([64]),
        np.array(
          Int32Array.from({ length: 64 }, (_, i) => i % 3),
          { dtype: np.int32 },
        ),
      );
      const { loss, variance, grads } = objective(tree.ref(params), batch);
      tree.dispose([variance, grads]);
      return values(loss).at(0)!;
    };
    const folded = loss(distillationObjective(model, process, { params, guidance: 3 }, 2));
    const passed = loss(distillationObjective(model, process, { params }, 2));
    assert.notEqual(folded, passed);
    assert.equal(loss(runObjective(round1, params)), loss(distillationObjective(model, process, { params, guidance: 3 }, 4)));
    assert.equal(loss(runObjective(round2, params)), passed);
    tree.dispose(params);
  });

  it("refuses teachers it cannot distill", () => {
    const learned = small({ schedule: "learned-linear" });
    assert.throws(() => distillationConfig(learned, "dir", 2), /learned schedule/);
    assert.throws(() => distillationConfig(small({}), "dir", 2, { guidance: 2 }), /conditional teacher/);
  });
});
