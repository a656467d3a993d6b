/**
 * Images end to end on the bundled Fashion-MNIST subset: the reader, the untrained U-Net's
 * bits/dim against its closed form, and a tiny training run that lowers the test bits/dim.
 */
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { bundledFashionMnist } from "../data/images.js";
import { loadSplit, pixelNormalization, subset } from "../data/index.js";
import { Rng } from "../engine/index.js";
import { heldOutElbo } from "../eval/run.js";
import { useEngine } from "../testing/helpers.js";
import { buildModel, buildProcess, initParams } from "./build.js";
import { runConfigFor } from "./defaults.js";
import { train } from "./trainer.js";

useEngine("wasm");

const split = loadSplit("fashion-mnist", 0, { train: 0, test: 0, dataDir: bundledFashionMnist });

describe("Fashion-MNIST subset", () => {
  it("holds 2,000 training and 500 test images of 28×28 pixels in 0..255 with labels 0..9", () => {
    assert.equal(split.train.n, 2000);
    assert.equal(split.test.n, 500);
    assert.deepEqual(split.train.shape, [28, 28, 1]);
    assert.equal(split.train.points.length, 2000 * 784);
    assert.ok(split.train.points.every((v) => Number.isInteger(v) && v >= 0 && v <= 255));
    const counts = new Array<number>(10).fill(0);
    split.train.labels!.forEach((y) => counts[y]!++);
    assert.ok(
      counts.every((c) => c > 150),
      `every class appears: ${counts.join(", ")}`,
    );
  });

  it("names a missing directory or file", () => {
    assert.throws(
      () => loadSplit("fashion-mnist", 0, { dataDir: "/nonexistent/fm" }),
      /no train-images-idx3-ubyte\[\.gz\] in \/nonexistent\/fm/,
    );
  });
});

describe("a U-Net on images", () => {
  const config = runConfigFor(
    "fashion-mnist",
    split,
    { unet: { base: 8, multipliers: [1, 2], attention: [1] }, steps: 80, batch: 16, lr: 2e-3, seed: 3 },
    { dataDir: bundledFashionMnist },
  );
  const test = subset(
    split.test,
    Array.from({ length: 64 }, (_, i) => i),
  );
  const bpd = (params: Parameters<typeof heldOutElbo>[0]["params"]) =>
    heldOutElbo({ model: buildModel(config), params }, process, test, {
      normalization: pixelNormalization,
      rng: new Rng(9),
      decoder: "discretized",
      batch: 32,
      samples: 8,
    });
  const process = buildProcess(config);
  const D = 784;

  it("untrained (ε̂ = 0), scores its closed form: diffusion term ½(γ_max − γ_min)·E‖ε‖² = ½(γ_max − γ_min)·D nats", () => {
    const elbo = bpd(initParams(config, new Rng(config.seed)));
    const expected = 0.5 * (process.priorLevel().gamma - process.reconstructionLevel().gamma) * D;
    // 64 images × 8 draws × 784 dims of ε²: relative standard error √(2/401,408) ≈ 0.22 %; allow 5 of them
    const se = expected * Math.sqrt(2 / (64 * 8 * D));
    assert.ok(Math.abs(elbo.terms.diffusion - expected) < 5 * se, `diffusion ${elbo.terms.diffusion} vs ${expected} ± ${se}`);
  });

  it("80 training steps on the subset lower the test bits/dim by more than a third", () => {
    const before = bpd(initParams(config, new Rng(config.seed))).bpd;
    const dir = mkdtempSync(join(tmpdir(), "vdm-images-"));
    const { state } = train(config, split.train, { checkpointDir: dir });
    const after = bpd(state.ema).bpd;
    assert.ok(after < (2 / 3) * before, `test bits/dim ${before.toFixed(3)} → ${after.toFixed(3)}`);
  });
});
