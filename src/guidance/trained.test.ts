/**
 * Trained parts of controllable generation on eight-gaussians: a noise-aware classifier's accuracy
 * over t and a conditional MLP's class fidelity. Each trains a small network (about 20 s apiece),
 * so the mutation runs leave this file out; guidance.test.ts holds the exact checks.
 */
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { loadSplit } from "../data/index.js";
import { knownMixture } from "../data/known.js";
import { componentOf } from "../data/mixtures.js";
import { denormalize, fitNormalization } from "../data/normalize.js";
import { DiffusionProcess } from "../diffusion/process.js";
import { Rng } from "../engine/index.js";
import { numpy as np, tree } from "../engine/jax.js";
import { accuracyOverTime } from "../eval/classifier.js";
import { AncestralSampler } from "../sample/ancestral.js";
import { getSchedule } from "../schedule/index.js";
import { useEngine } from "../testing/helpers.js";
import { buildClassifier, buildModel, buildProcess } from "../train/build.js";
import { makeRunConfig } from "../train/defaults.js";
import { train } from "../train/trainer.js";
import { conditionalModel } from "./guided.js";

useEngine("wasm");

const mix = knownMixture("eight-gaussians");

describe("trained parts on eight-gaussians", () => {
  const split = loadSplit("eight-gaussians", 0, { train: 10000, test: 2000 });
  const z = fitNormalization(split.train);
  const data = { spec: "eight-gaussians", dim: 2, ...z, train: split.train.n, test: split.test.n };
  const dir = (name: string) => mkdtempSync(join(tmpdir(), `vdm-${name}-`));

  it("a noise-aware classifier is accurate on clean held-out data and degrades gracefully to chance with t", () => {
    const config = makeRunConfig(data, { classifierClasses: 8, steps: 1500 });
    const { state } = train(config, split.train, { checkpointDir: dir("clf") });
    const p = buildProcess(config);
    const times = [0, 0.2, 0.4, 0.6, 0.8, 0.999];
    const acc = accuracyOverTime(buildClassifier(config), state.ema, p, z, split.test, times, new Rng(2));
    const se = (a: number) => Math.sqrt((a * (1 - a)) / split.test.n) + 1 / split.test.n;
    assert.ok(acc[0]! > 0.95, `clean accuracy ${acc[0]}`);
    for (let i = 1; i < acc.length; i++)
      assert.ok(acc[i]! <= acc[i - 1]! + 5 * se(acc[i - 1]!), `accuracy rose from ${acc[i - 1]} to ${acc[i]} at t = ${times[i]}`);
    assert.ok(Math.abs(acc[acc.length - 1]! - 1 / 8) < 5 * se(1 / 8) + 0.05, `accuracy at t = 1: ${acc[acc.length - 1]} (chance 0.125)`);
  });

  it("a conditional MLP trained with label dropout samples the requested class", () => {
    const config = makeRunConfig(data, { classes: 8, cfgDropout: 0.15, steps: 1500 });
    const { state } = train(config, split.train, { checkpointDir: dir("cond") });
    const n = 500;
    const model = buildModel(config);
    const x = new AncestralSampler(new DiffusionProcess(getSchedule(config.schedule), config.timesteps)).sample(
      { model: conditionalModel(model), params: { net: tree.ref(state.ema), labels: np.full([n], 5, { dtype: np.int32 }) } },
      [n, 2],
      new Rng(8),
    );
    const judged = componentOf(mix, denormalize(x.dataSync() as Float32Array, z)).filter((k) => k === 5).length / n;
    assert.ok(judged > 0.9, `fraction of class-5 samples judged class 5: ${judged}`);
  });
});
