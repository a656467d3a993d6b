/**
 * Sampling a trained (tiny) masked LM through the library: every masked sampler, unguided, with
 * infilling and with both controls (classifier-free guidance on the run's labels, a noise-aware
 * classifier); the samplers' exactness is tested against enumeration in src/masked/.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Rng } from "../engine/index.js";
import { maskedSamplerNames } from "../masked/samplers.js";
import { useEngine } from "../testing/helpers.js";
import { train } from "../train/trainer.js";
import { maskedRunConfig } from "./config.js";
import { restaurantSentences, SLOT_VALUES } from "./grammar.js";
import { maskedLM, maskedPoints } from "./masked.js";
import { trainMaskedClassifier } from "./masked-classifier.js";
import { type MaskedControl, sampleMaskedIds } from "./masked-sample.js";
import { Tokenizer } from "./tokenizer.js";

useEngine("wasm");

const corpus = { spec: "text:restaurants", train: restaurantSentences(1000, 0, [3]), test: restaurantSentences(64, 1, [3]), builtin: true };
const tokenizer = Tokenizer.fromSentences(corpus.train);

describe("sampling a masked language model", () => {
  it("every sampler fills every [MASK], keeps infilled words, and both controls raise the target food's share", (t) => {
    const config = maskedRunConfig(corpus, tokenizer, { steps: 400, batch: 32, width: 32, layers: 2, heads: 2, conditional: "food" });
    const L = config.data.dim;
    const { state } = train(config, maskedPoints(tokenizer, corpus.train, L, "food"));
    const lm = maskedLM(config, state.ema);
    const V = lm.denoiser.vocabulary;
    const classifier = trainMaskedClassifier(lm, corpus.train, "food", { steps: 200, width: 32, layers: 1 });
    const n = 64;
    const targets = Int32Array.from({ length: n }, (_, k) => k % 8);
    // a tiny model rarely writes whole sentences: success here is naming the target food anywhere
    const success = (ids: Int32Array) =>
      Array.from(targets).filter((y, k) => tokenizer.tokens(ids.subarray(k * L, (k + 1) * L)).includes(SLOT_VALUES.food[y]!)).length / n;
    const known = tokenizer.encode(corpus.test[0]!, L, true);
    const mask = Float32Array.from({ length: L }, (_, l) => (l % 3 === 0 ? 1 : 0));
    const infill = { ids: new Int32Array(n * L), mask: new Float32Array(n * L) };
    for (let k = 0; k < n; k++) {
      infill.ids.set(known, k * L);
      infill.mask.set(mask, k * L);
    }
    const controls: MaskedControl[] = [
      { guidance: "classifier-free", weight: 2 },
      { guidance: "classifier", classifier, scale: 5 },
    ];
    for (const sampler of maskedSamplerNames) {
      const plain = sampleMaskedIds(lm, n, { sampler, steps: 32, rng: new Rng(1) });
      assert.ok(
        plain.ids.every((w) => w >= 0 && w < V),
        `${sampler}: a [MASK] or an id out of range is left`,
      );
      assert.deepEqual(
        sampleMaskedIds(lm, n, { sampler, steps: 32, rng: new Rng(1) }).ids,
        plain.ids,
        `${sampler}: the same seed, the same samples`,
      );
      const filled = sampleMaskedIds(lm, n, { sampler, steps: 32, rng: new Rng(2), infill }).ids;
      for (let i = 0; i < n * L; i++)
        if (infill.mask[i] === 1) assert.equal(filled[i], infill.ids[i], `${sampler}: infilling changed a fixed word`);
      const unguided = success(plain.ids);
      for (const control of controls) {
        const guided = success(sampleMaskedIds(lm, n, { sampler, steps: 32, rng: new Rng(3), control: { targets, ...control } }).ids);
        t.diagnostic(`${sampler}, ${control.guidance}: target food named in ${unguided} unguided, ${guided} guided`);
        // 4 standard errors of the difference of two binomial shares of n
        const se = Math.sqrt((unguided * (1 - unguided) + guided * (1 - guided)) / n);
        assert.ok(guided > unguided + 4 * se, `${sampler}, ${control.guidance}: ${unguided} unguided, ${guided} guided`);
      }
    }
  });
});
