/**
 * The clean-image CNN classifier: its logits are the head of its features, its run config, and a
 * short clean-data training run on the bundled Fashion-MNIST subset in jax-js and in ONNX Runtime
 * (the same losses; the classifier then beats chance by far on held-out images).
 */
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { bundledFashionMnist } from "../data/images.js";
import { loadSplit } from "../data/index.js";
import { Rng } from "../engine/index.js";
import { numpy as np, tree } from "../engine/jax.js";
import { accuracyOverTime } from "../eval/classifier.js";
import { onnxStepper } from "../onnx/train.js";
import { assertClose, useEngine } from "../testing/helpers.js";
import { buildClassifier, buildModel, buildProcess, initParams, normalizationOf } from "../train/build.js";
import { makeRunConfig, type RunOptions, runConfigFor } from "../train/defaults.js";
import { train } from "../train/trainer.js";
import { type CnnParams, cnnFeatures, cnnHead } from "./cnn.js";

useEngine("wasm");

const split = loadSplit("fashion-mnist", 0, { train: 0, test: 0, dataDir: bundledFashionMnist });
const source = { dataDir: bundledFashionMnist };
const tiny = (o: RunOptions = {}) =>
  runConfigFor(
    "fashion-mnist",
    split,
    {
      architecture: "cnn",
      classifierClasses: 10,
      unet: { base: 4 },
      hidden: 16,
      steps: 60,
      batch: 32,
      lr: 3e-3,
      seed: 5,
      ...o,
    },
    source,
  );

describe("CNN classifier of clean images", () => {
  it("is a clean classifier config: conv stages base·multipliers, features of width hidden; only for image classifiers", () => {
    const config = tiny();
    assert.equal(config.task, "classifier");
    assert.equal(config.clean, true);
    assert.deepEqual(config.model, { kind: "cnn", cnn: { shape: [28, 28, 1], channels: [4, 8], hidden: 16, outputs: 10 } });
    assert.throws(() => buildModel(config), /classifier, not a denoiser/);
    assert.throws(
      () => runConfigFor("fashion-mnist", split, { architecture: "cnn" }, source),
      /classifier of clean images, not a denoiser/,
    );
    assert.throws(
      () =>
        makeRunConfig(
          { spec: "moons", dim: 2, mean: [0, 0], std: [1, 1], train: 10, test: 10 },
          { architecture: "cnn", classifierClasses: 2 },
        ),
      /needs image data/,
    );
  });

  it("logits are the head of the features, and ignore t and γ", () => {
    const config = tiny();
    const params = initParams(config, new Rng(1)) as CnnParams;
    const x = new Rng(2).normal([3, 28, 28, 1]);
    const f = cnnFeatures({ stages: tree.ref(params.stages), features: tree.ref(params.features) }, x.ref);
    assert.deepEqual(f.shape, [3, 16]);
    const viaHead = cnnHead(tree.ref(params.output), f).dataSync() as Float32Array;
    const classifier = buildClassifier(config);
    const a = classifier.logits(tree.ref(params), x.ref, np.zeros([3]), np.full([3], -Infinity)).dataSync() as Float32Array;
    const b = classifier.logits(params, x, np.ones([3]), np.full([3], 5)).dataSync() as Float32Array;
    assertClose(a, viaHead, { rtol: 1e-6, atol: 1e-7, label: "logits vs head(features)" });
    assertClose(b, a, { rtol: 0, label: "t and γ ignored" });
  });

  it("trains on clean images: ONNX Runtime steps match jax-js's, and held-out accuracy is far above chance", () => {
    const config = tiny();
    const ours = train(config, split.train, { checkpointDir: mkdtempSync(join(tmpdir(), "vdm-cnn-jax-")) });
    const theirs = train(config, split.train, { checkpointDir: mkdtempSync(join(tmpdir(), "vdm-cnn-onnx-")), makeStepper: onnxStepper() });
    assertClose(theirs.state.losses, ours.state.losses, { rtol: 1e-4, label: "losses" });
    const first = ours.state.losses.slice(0, 10).reduce((s, v) => s + v, 0) / 10;
    const last = ours.state.losses.slice(-10).reduce((s, v) => s + v, 0) / 10;
    assert.ok(first > 2 && last < 0.75 * first, `loss ${first.toFixed(3)} → ${last.toFixed(3)} (chance: ln 10 = 2.303)`);
    const [accuracy] = accuracyOverTime(
      buildClassifier(config),
      ours.state.params,
      buildProcess(config),
      normalizationOf(config),
      split.test,
      [0],
      new Rng(0),
      250,
    );
    assert.ok(accuracy! > 0.5, `held-out accuracy ${accuracy} after ${config.steps} steps (chance 0.1)`);
  });
});
