/**
 * Controllable generation against exact references: with the oracle's exact conditional and
 * unconditional scores and the exact noise-aware classifier, classifier guidance at scale 1 samples
 * p(x | y) and classifier-free guidance at w = 0 is conditional sampling, bit for bit. The trained parts
 * (a noise-aware classifier, a conditional MLP) are in trained.test.ts.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { knownMixture } from "../data/known.js";
import { componentOf } from "../data/mixtures.js";
import { mixtureParams, oracleClassifier, oracleModel } from "../densities/oracle.js";
import { DiffusionProcess } from "../diffusion/process.js";
import { Rng } from "../engine/index.js";
import { numpy as np } from "../engine/jax.js";
import { AncestralSampler } from "../sample/ancestral.js";
import { getSchedule } from "../schedule/index.js";
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
  const sample = (den: Parameters<AncestralSampler["sample"]>[0]) =>
    new AncestralSampler(process).sample(den, [N, 2], new Rng(4)).dataSync() as Float32Array;

  it("classifier guidance at scale 1 samples p(x | y): component y's mean and variance, judged all y", () => {
    const x = sample({
      model: classifierGuidedModel(base, oracleClassifier(8)),
      params: { net: mixtureParams(mix), classifier: mixtureParams(mix), labels: labels(), scale: np.array([1]) },
    });
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
    assert.throws(() => checkClass(-1, 8), /class -1 is out of range: the model knows classes 0..7/);
    assert.throws(() => checkClass(2.5, 8), /class 2.5 is out of range/);
    for (const label of [0, 7]) assert.doesNotThrow(() => checkClass(label, 8));
  });

  it("wraps a model once: batches of other labels reuse the wrapper, so a sampler compiles its step once", () => {
    const [model, other] = [oracleModel("eps", 8), oracleModel("eps", 8)];
    const [classifier, otherClassifier] = [oracleClassifier(8), oracleClassifier(8)];
    assert.equal(conditionalModel(model), conditionalModel(model));
    assert.equal(cfgModel(model), cfgModel(model));
    assert.equal(classifierGuidedModel(model, classifier), classifierGuidedModel(model, classifier));
    assert.notEqual(conditionalModel(model), conditionalModel(other));
    assert.notEqual(cfgModel(model), cfgModel(other));
    assert.notEqual(classifierGuidedModel(model, classifier), classifierGuidedModel(model, otherClassifier));
    assert.notEqual(classifierGuidedModel(model, classifier), classifierGuidedModel(other, classifier));
  });
});
