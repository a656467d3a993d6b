/**
 * Controllable generation against exact references: with the oracle's exact conditional and
 * unconditional scores and the exact noise-aware classifier, classifier guidance at scale 1 samples
 * p(x | y) and classifier-free guidance at w = 0 is conditional sampling, bit for bit. Then trained
 * parts: a noise-aware classifier's accuracy over t and a conditional MLP's class fidelity.
 */
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { Rng } from "../engine/index.js";
import { numpy as np, tree } from "../engine/jax.js";
import { DiffusionProcess } from "../diffusion/process.js";
import { componentOf, knownMixture } from "../data/known.js";
import { loadSplit } from "../data/index.js";
import { fitNormalization, denormalize } from "../data/normalize.js";
import { accuracyOverTime } from "../eval/classifier.js";
import { mixtureParams, oracleClassifier, oracleModel } from "../models/oracle.js";
import { AncestralSampler } from "../sample/ancestral.js";
import { getSchedule } from "../schedule/index.js";
import { buildClassifier, buildModel, buildProcess, makeRunConfig } from "../train/config.js";
import { train } from "../train/trainer.js";
import { useEngine } from "../testing/helpers.js";
import { cfgModel, checkClass, classifierGuidedModel, conditionalModel } from "./guided.js";

useEngine("wasm");

const mix = knownMixture("eight-gaussians");
const process = new DiffusionProcess(getSchedule("cosine"), 500);
const N = 2000;
const Y = 3;
const labels = () => np.full([N], Y, { dtype: np.int32 });

function moments(x: Float32Array) {
  const m = [0, 1].map((d) => x.filter((_, i) => i % 2 === d).reduce((a, b) => a + b, 0) / N);
  const v = [0, 1].map((d) => x.filter((_, i) => i % 2 === d).reduce((a, b) => a + (b - m[d]!) ** 2, 0) / (N - 1));
  return { m, v };
}

describe("guidance with exact scores", () => {
  const base = oracleModel("eps", 8);
  const sample = (den: Parameters<AncestralSampler["sample"]>[0]) => new AncestralSampler(process).sample(den, [N, 2], new Rng(4)).dataSync() as Float32Array;

  it("classifier guidance at scale 1 samples p(x | y): component y's mean and variance, judged all y", () => {
    const x = sample({ model: classifierGuidedModel(base, oracleClassifier(8)), params: { net: mixtureParams(mix), classifier: mixtureParams(mix), labels: labels(), scale: np.array([1]) } });
    const judged = componentOf(mix, x).filter((k) => k === Y).length / N;
    assert.ok(judged > 0.995, `fraction judged class ${Y}: ${judged}`);
    const { m, v } = moments(x);
    const [mu, s2] = [mix.means[Y]!, mix.variances[Y]!];
    for (const d of [0, 1]) {
      assert.ok(Math.abs(m[d]! - mu[d]!) < 5 * Math.sqrt(s2[d]! / N), `mean[${d}] ${m[d]} vs ${mu[d]}`);
      assert.ok(Math.abs(v[d]! - s2[d]!) < 5 * s2[d]! * Math.sqrt(2 / (N - 1)), `var[${d}] ${v[d]} vs ${s2[d]}`);
    }
  });

  it("classifier-free guidance with w = 0 equals conditional sampling exactly", () => {
    const conditional = sample({ model: conditionalModel(base), params: { net: mixtureParams(mix), labels: labels() } });
    const cfg = sample({ model: cfgModel(base), params: { net: mixtureParams(mix), labels: labels(), scale: np.array([0]) } });
    assert.deepEqual(cfg, conditional);
  });

  it("class indices are checked", () => {
    assert.throws(() => checkClass(8, 8), /class 8 is out of range: the model knows classes 0..7/);
    assert.throws(() => checkClass(0, 0), /this model is unconditional/);
  });
});

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
    for (let i = 1; i < acc.length; i++) assert.ok(acc[i]! <= acc[i - 1]! + 5 * se(acc[i - 1]!), `accuracy rose from ${acc[i - 1]} to ${acc[i]} at t = ${times[i]}`);
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
