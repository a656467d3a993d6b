/**
 * Masked diffusion on text through the library: its run configs (Diffusion-LM's size, a masking
 * schedule, a conditional run's attribute and classes), the refusals of its kind's check, its
 * training points, and the held-out bound, which training lowers far below that of the
 * initialisation (a short run on one template of the grammar).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError } from "../errors.js";
import { useEngine } from "../testing/helpers.js";
import { validateRunConfig } from "../train/config.js";
import { initialState } from "../train/step.js";
import { train } from "../train/trainer.js";
import { maskedRunConfig, maskedRunDefaults, textRunDefaults } from "./config.js";
import { grammarEntropy } from "./entropy.js";
import { attributeClass, attributeClasses, restaurantSentences } from "./grammar.js";
import { maskedBound, maskedLM, maskedPoints } from "./masked.js";
import { Tokenizer, tokenize } from "./tokenizer.js";

useEngine("wasm");

const corpus = {
  spec: "text:restaurants",
  train: restaurantSentences(1000, 0, [3]),
  test: restaurantSentences(100, 1, [3]),
  builtin: true,
};
const tokenizer = Tokenizer.fromSentences(corpus.train);

describe("masked diffusion on text", () => {
  it("a run's config has Diffusion-LM's size, the linear masking schedule in continuous time, and a conditional run's classes", () => {
    const config = maskedRunConfig(corpus, tokenizer);
    const net = config.model["masked-text"] as { width: number; layers: number; heads: number; words: string[] };
    assert.equal(config.model.kind, "masked-text");
    assert.deepEqual(
      [config.steps, config.batch, config.adam.lr, net.width, net.layers, net.heads],
      [
        textRunDefaults.steps,
        textRunDefaults.batch,
        textRunDefaults.lr,
        textRunDefaults.width,
        textRunDefaults.layers,
        textRunDefaults.heads,
      ],
    );
    assert.equal(config.schedule, "linear");
    assert.equal(config.timesteps, 0);
    assert.equal(config.cfgDropout, undefined);
    const food = maskedRunConfig(corpus, tokenizer, { conditional: "food" });
    const foodNet = food.model["masked-text"] as { classes: number; attribute: string; classNames: string[]; length: number };
    assert.deepEqual(foodNet.classNames, attributeClasses("food", foodNet.length));
    assert.equal(foodNet.classes, foodNet.classNames.length);
    assert.equal(foodNet.attribute, "food");
    assert.equal(food.cfgDropout, maskedRunDefaults.cfgDropout);
  });

  it("refuses a schedule that is not a masking schedule, the wrong data dimension, and label dropout without labels", () => {
    assert.throws(
      () => maskedRunConfig(corpus, tokenizer, { schedule: "sqrt" }),
      /field "schedule" must be a masking schedule \(linear, cosine\)/,
    );
    const config = maskedRunConfig(corpus, tokenizer, { schedule: "cosine" });
    assert.throws(() => validateRunConfig({ ...config, data: { ...config.data, dim: 3 } }), /field "data.dim" must be \d+/);
    assert.throws(() => maskedRunConfig(corpus, tokenizer, { cfgDropout: 0.2 }), ConfigError);
  });

  it("its training points are token ids, with each sentence's class of the attribute", () => {
    const points = maskedPoints(tokenizer, corpus.train.slice(0, 20), 16, "food");
    assert.equal(points.n, 20);
    assert.deepEqual(
      [...points.labels!],
      corpus.train.slice(0, 20).map((s) => attributeClass("food", tokenize(s))),
    );
    assert.deepEqual([...points.points.subarray(0, 16)], tokenizer.encode(corpus.train[0]!, 16));
  });

  it("training lowers the held-out bound far below the initialisation's; bits/token = nats/(L ln 2)", (t) => {
    const config = maskedRunConfig(corpus, tokenizer, {
      steps: 150,
      batch: 32,
      width: 32,
      layers: 1,
      heads: 2,
      emaDecay: 0.9,
      conditional: "food",
    });
    const length = config.data.dim;
    const fresh = initialState(config).state;
    const before = maskedBound(maskedLM(config, fresh.ema), corpus.test, { draws: 2, seed: 5 });
    const { state } = train(config, maskedPoints(tokenizer, corpus.train, length, "food"));
    const after = maskedBound(maskedLM(config, state.ema), corpus.test, { draws: 2, seed: 5 });
    t.diagnostic(
      `bound ${before.mean.toFixed(2)} ± ${before.se.toFixed(2)} nats at initialisation, ${after.mean.toFixed(2)} ± ${after.se.toFixed(2)} trained`,
    );
    const se = Math.hypot(before.se, after.se);
    assert.ok(after.mean < before.mean - 4 * se, `${after.mean} vs ${before.mean} (SE ${se})`);
    // and it never falls below the exact entropy of the sentences' distribution (template 3 only)
    const H = grammarEntropy({ templates: [3] }).nats;
    assert.ok(after.mean > H - 4 * after.se, `bound ${after.mean} ± ${after.se} below the entropy ${H}`);
    assert.ok(Math.abs(after.bitsPerToken - after.mean / (length * Math.LN2)) < 1e-12);
    assert.equal(after.nats.length, corpus.test.length);
    assert.ok(after.nats.every((v) => v >= 0));
  });
});
