/**
 * The ONNX backend against jax-js: the exported U-Net, MLP and exact mixture oracle predict what
 * jax-js predicts for the same params and inputs (labels and "no label" included), and whole
 * sampling runs (ancestral, classifier-free guided) agree step for step from the same seed.
 * Plus the protobuf encoding against the specification's examples and the errors users meet.
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { knownMixture } from "../data/known.js";
import { fullCovarianceMixture } from "../densities/mixture.js";
import { mixtureParams, oracleModel } from "../densities/oracle.js";
import { flowFunction } from "../diffusion/flow.js";
import type { Model } from "../diffusion/model.js";
import { DiffusionProcess, levelUniforms } from "../diffusion/process.js";
import { Rng } from "../engine/index.js";
import { type Array, type JsTree, jit, numpy as np, tree } from "../engine/jax.js";
import { cfgModel } from "../guidance/guided.js";
import { initMlp, type MlpConfig, mlpModel } from "../models/mlp.js";
import { initUNet, type UNetConfig, unetModel } from "../models/unet.js";
import { AncestralSampler } from "../sample/ancestral.js";
import { getSchedule } from "../schedule/index.js";
import { assertClose, useEngine } from "../testing/helpers.js";
import { adamInit, stepScalars } from "../train/adam.js";
import { buildProcess, initParams } from "../train/build.js";
import { makeRunConfig } from "../train/defaults.js";
import { runObjective } from "../train/objectives/index.js";
import { batchOf } from "../train/objectives/objective.js";
import { trainStep } from "../train/step.js";
import { exportOnnx, exportTree } from "./export.js";
import { onnxFlow } from "./flow.js";
import { type OnnxModel, onnxModel } from "./model.js";
import { varint } from "./protobuf.js";
import { OnnxSession, toHost } from "./runtime.js";

useEngine("wasm");

const opened: OnnxModel<JsTree<Array>>[] = [];
after(() => opened.forEach((m) => m.close()));
function onnx<P extends JsTree<Array>>(model: Model<P>, params: P): OnnxModel<P> {
  const m = onnxModel(model, params);
  opened.push(m as unknown as OnnxModel<JsTree<Array>>);
  return m;
}

const wave = (n: number, seed: number) =>
  Float32Array.from({ length: n }, (_, i) => 0.5 * Math.sin(1.3 * i + 0.7 * seed) + 0.2 * Math.cos(2.9 * i * (seed + 1)));

/** Every leaf set to deterministic values, so that zero-initialised output layers carry signal too. */
function filled<P extends JsTree<Array>>(params: P): P {
  let seed = 0;
  return tree.map((p: Array) => {
    const v = np.array(wave(p.size, seed++)).reshape(p.shape);
    p.dispose();
    return v;
  }, params) as P;
}

const read = (a: Array) => Float32Array.from(a.dataSync() as Float32Array);
const maxAbs = (v: Float32Array) => v.reduce((m, x) => Math.max(m, Math.abs(x)), 0);

/**
 * Both backends' predictions at (x, t, γ, labels). They differ only by float32 rounding in a
 * different order of operations: a few ulps per operation over a few dozen layers, ~1e−5 of the
 * output's scale; 1e−4 of it leaves room and still fails for any wrong operator or layout.
 */
function assertAgree<P extends JsTree<Array>>(model: Model<P>, params: P, shape: number[], labels?: Int32Array) {
  const B = shape[0]!;
  const x = () =>
    np
      .array(
        wave(
          shape.reduce((a, b) => a * b, 1),
          7,
        ),
      )
      .reshape(shape);
  const t = () => np.array(Float32Array.from({ length: B }, (_, i) => (i + 0.5) / B));
  const gamma = () => np.array(Float32Array.from({ length: B }, (_, i) => -4 + (8 * i) / Math.max(1, B - 1)));
  const y = () => (labels ? np.array(labels, { dtype: np.int32 }) : undefined);
  const forward = jit((p: JsTree<Array>, a: Array, b: Array, c: Array) => model.apply(p as P, a, b, c, y()));
  const ours = read(forward(tree.ref(params), x(), t(), gamma()));
  const theirs = read(onnx(model, params).apply(tree.ref(params), x(), t(), gamma(), y()));
  assert.ok(maxAbs(ours) > 0.1, "the reference output is (nearly) zero: the comparison would prove nothing");
  assertClose(theirs, ours, { atol: 1e-4 * maxAbs(ours), label: "ONNX vs jax-js" });
}

describe("ONNX export", () => {
  it("writes varints as the protobuf specification's examples", () => {
    assert.deepEqual([...varint(1)], [0x01]);
    assert.deepEqual([...varint(150)], [0x96, 0x01]);
    assert.deepEqual([...varint(300)], [0xac, 0x02]);
    assert.deepEqual([...varint(-1)], [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
  });

  it("a conditional U-Net with attention predicts what jax-js predicts, labelled and unlabelled", () => {
    const config: UNetConfig = {
      shape: [8, 8, 1],
      base: 8,
      multipliers: [1, 2],
      attention: [1],
      heads: 2,
      groups: 4,
      timeEmbedding: 8,
      classes: 3,
    };
    assertAgree(unetModel(config, "eps"), filled(initUNet(config, new Rng(0))), [4, 8, 8, 1], Int32Array.of(0, 2, 3, 1));
  });

  it("an MLP with Fourier features and NCSN input scaling (reads γ) predicts what jax-js predicts", () => {
    const config: MlpConfig = {
      dim: 2,
      hidden: 16,
      layers: 3,
      timeEmbedding: 8,
      fourierFeatures: 4,
      fourierScale: 1,
      fourierSeed: 3,
      inputScaling: "ve",
      classes: 2,
    };
    assertAgree(mlpModel(config, "x0"), filled(initMlp(config, new Rng(1))), [5, 2], Int32Array.of(0, 1, 2, 0, 1));
  });

  it("the exact mixture oracle (log-sum-exp responsibilities) exports as well: nothing is network-specific", () => {
    assertAgree(oracleModel("score", 8), mixtureParams(knownMixture("eight-gaussians")), [6, 2], Int32Array.of(0, 3, 5, 7, 8, 8));
  });

  it("the oracle of a mixture with full covariances (principal-axis rotations as matmuls) exports as well", () => {
    const mixture = fullCovarianceMixture(
      [0.3, 0.7],
      [
        [-1, 0.5],
        [1, -0.5],
      ],
      [
        [
          [1, 0.6],
          [0.6, 0.5],
        ],
        [
          [0.3, -0.2],
          [-0.2, 0.8],
        ],
      ],
    );
    assertAgree(oracleModel("eps", 2), mixtureParams(mixture), [5, 2], Int32Array.of(0, 1, 2, 1, 2));
  });

  it("names the operation it cannot export", () => {
    assert.throws(() => exportOnnx((x) => np.sort(x), [{ name: "x", shape: [4] }]), /primitive "sort" is not supported/);
  });

  it("refuses labels for an unconditional model, as the jax-js model does", () => {
    const config: MlpConfig = { dim: 2, hidden: 8, layers: 2, timeEmbedding: 4, fourierFeatures: 0, fourierScale: 1, fourierSeed: 0 };
    const params = initMlp(config, new Rng(0));
    const m = onnx(mlpModel(config, "eps"), params);
    assert.throws(
      () => m.apply(tree.ref(params), np.zeros([2, 2]), np.zeros([2]), np.zeros([2]), np.zeros([2], { dtype: np.int32 })),
      /labels were given to an unconditional model/,
    );
  });
});

describe("a training step exported to ONNX (forward, jax-js's gradient, Adam, EMA)", () => {
  /**
   * One step of the trainer on a conditional U-Net from fresh moments. Its new first moments are
   * (1 − β₁)·(clipped gradient) and its second (1 − β₂)·gradient², so they test the exported
   * gradient of every layer; tolerances as for the forward pass (1e−4 of each tree's scale), 2e−4
   * for the squares.
   */
  for (const schedule of ["log-snr-linear", "learned"])
    it(`gives the loss and Adam moments jax-js gives (${schedule} schedule)`, () => {
      // (images: the discretised decoder, in the learned schedule's training loss too)
      const config = makeRunConfig(
        { spec: "fashion-mnist", dim: 64, mean: [127.5], std: [127.5], train: 0, test: 0, shape: [8, 8, 1] },
        { batch: 4, steps: 10, schedule, unet: { base: 8, multipliers: [1, 2], attention: [1] }, classes: 3 },
      );
      const process = schedule === "learned" ? null : buildProcess(config);
      const rng = new Rng(5);
      const params = filled(initParams(config, rng) as JsTree<Array>);
      const args = (): JsTree<Array>[] => {
        const r = new Rng(6);
        const s = stepScalars(config.adam, 0);
        // x_0 on the 8-bit grid (k/127.5 − 1), as the discretised decoder expects
        const pixels = np
          .floor(r.uniform([4, 8, 8, 1]).mul(256))
          .mul(1 / 127.5)
          .sub(1);
        const batch = batchOf(
          process,
          pixels,
          r.normal([4, 8, 8, 1]),
          levelUniforms(r, 4, config.timesteps === 0),
          np.array(Int32Array.of(0, 1, 2, 3), { dtype: np.int32 }),
        );
        return [
          tree.ref(params),
          adamInit(params),
          tree.map((p: Array) => p.ref.add(0), params),
          batch,
          ...[s.lr, s.correction1, s.correction2, s.emaDecay].map((v) => np.full([], v)),
        ] as JsTree<Array>[];
      };
      const body = trainStep(runObjective(config), config.adam) as unknown as (...a: JsTree<Array>[]) => JsTree<Array>;
      const exported = exportTree(body, args());
      const session = new OnnxSession(exported.bytes);
      const feeds = Object.fromEntries((tree.leaves(args()) as Array[]).map((l, i) => [`i${i}`, toHost(l)]));
      const theirs = tree.unflatten(
        exported.outputTree,
        session.runOutputs(feeds, exported.outputs).map((t) => t.data),
      ) as unknown as { loss: Float32Array; adam: { m: JsTree<Float32Array>; v: JsTree<Float32Array> } };
      session.close();
      const ours = (jit(body) as unknown as (...a: JsTree<Array>[]) => { loss: Array; adam: { m: JsTree<Array>; v: JsTree<Array> } })(
        ...args(),
      );
      assertClose(theirs.loss, read(ours.loss), { rtol: 1e-5, label: "loss" });
      for (const [name, tol] of [
        ["m", 1e-4],
        ["v", 2e-4],
      ] as const) {
        const a = tree.leaves(ours.adam[name]).map((l) => read(l as Array));
        const b = tree.leaves(theirs.adam[name]) as Float32Array[];
        const scale = Math.max(...a.map(maxAbs));
        assert.ok(scale > 0, `${name} is zero`);
        a.forEach((leaf, k) => assertClose(b[k]!, leaf, { atol: tol * scale, label: `${name}[${k}]` }));
      }
    });
});

describe("sampling through ONNX Runtime", () => {
  const process = new DiffusionProcess(getSchedule("cosine"), 0);
  const config: MlpConfig = {
    dim: 2,
    hidden: 32,
    layers: 3,
    timeEmbedding: 16,
    fourierFeatures: 0,
    fourierScale: 1,
    fourierSeed: 0,
    classes: 4,
  };
  const model = mlpModel(config, "eps");
  const params = filled(initMlp(config, new Rng(2)));
  const steps = 50;
  const draw = (m: Model, p: JsTree<Array>) =>
    read(new AncestralSampler(process, { steps }).sample({ model: m, params: p }, [64, 2], new Rng(9)));
  /**
   * Each step moves x by a combination of x and the prediction with coefficients ≤ 1, so per-step
   * prediction differences (≤ 1e−4 of its scale, above) add up over the 50 steps to ≤ 5e−3 of it.
   */
  const tolerance = (ref: Float32Array) => ({ atol: 5e-3 * Math.max(1, maxAbs(ref)) });

  it("ancestral samples from the same seed agree with jax-js's", () => {
    const ref = draw(model, params);
    assertClose(draw(onnx(model, params), params), ref, { ...tolerance(ref), label: "ancestral samples" });
  });

  it("classifier-free guided samples (both predictions in one ONNX graph a step) agree with jax-js's", () => {
    const p = () => ({
      net: params,
      labels: np.array(
        Int32Array.from({ length: 64 }, (_, i) => i % 4),
        { dtype: np.int32 },
      ),
      scale: np.array([2]),
    });
    const ref = draw(cfgModel(model), p());
    assertClose(draw(cfgModel(onnx(model, params)), p()), ref, { ...tolerance(ref), label: "CFG samples" });
  });
});

describe("the probability-flow drift and divergence through ONNX Runtime", () => {
  it("a U-Net's drift and Hutchinson divergence, and an MLP's exact divergence, agree with jax-js's", () => {
    const cases: [Model, JsTree<Array>, number[], boolean][] = [];
    const unet: UNetConfig = { shape: [8, 8, 1], base: 8, multipliers: [1, 2], attention: [1], heads: 2, groups: 4, timeEmbedding: 8 };
    cases.push([unetModel(unet, "eps"), filled(initUNet(unet, new Rng(1))), [3, 8, 8, 1], false]);
    const mlp: MlpConfig = {
      dim: 2,
      hidden: 32,
      layers: 3,
      timeEmbedding: 16,
      fourierFeatures: 0,
      fourierScale: 1,
      fourierSeed: 0,
      classes: 0,
    };
    cases.push([mlpModel(mlp, "v"), filled(initMlp(mlp, new Rng(2))), [5, 2], true]);
    for (const [model, params, shape, exact] of cases) {
      const B = shape[0]!;
      const size = shape.reduce((a, b) => a * b, 1);
      const inputs = () =>
        [
          np.array(wave(size, 3)).reshape(shape),
          np.full([B], 0.4),
          np.full([B], -0.7),
          exact ? np.zeros([1]) : np.array(Float32Array.from(wave(size, 5), (v) => (v > 0 ? 1 : -1))).reshape(shape),
        ] as const;
      const ours = flowFunction(model, exact)(tree.ref(params), ...inputs());
      const flow = onnxFlow(model, params, exact);
      try {
        const theirs = flow(tree.ref(params), ...inputs());
        for (const key of ["drift", "divergence"] as const) {
          const ref = read(ours[key]);
          assert.ok(maxAbs(ref) > 0, `${key} is zero`);
          assertClose(read(theirs[key]), ref, { atol: 1e-4 * Math.max(1, maxAbs(ref)), label: `${exact ? "exact" : "Hutchinson"} ${key}` });
        }
      } finally {
        flow.close();
      }
    }
  });
});
