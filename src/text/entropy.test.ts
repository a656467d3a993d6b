import assert from "node:assert/strict";
import { test } from "node:test";
import { meanAndStdError } from "../eval/likelihood.js";
import { grammarSequences } from "../testing/grammar-distribution.js";
import { entropyOf, oracleBound } from "../testing/masked-oracle.js";
import {
  bitsPerPosition,
  expectedCopyRate,
  type GrammarOptions,
  grammarEntropy,
  sentenceDistribution,
  sentenceLogProb,
} from "./entropy.js";
import { copyRate } from "./eval.js";
import { realizeTemplate, restaurantSentences, SLOT_VALUES, type Slot, TEMPLATE_COUNT } from "./grammar.js";
import { detokenize, Tokenizer } from "./tokenizer.js";

/** A sub-grammar with a repeated template and two values per slot (one name of three words). */
const small: GrammarOptions = {
  templates: [0, 3, 3, 7, 2],
  values: {
    name: ["Aromi", "The Golden Curry"],
    food: ["Italian", "French"],
    price: ["cheap", "moderate"],
    area: ["riverside", "old town"],
    rating: ["1", "5"],
  },
};

/**
 * Brute force, as the generator draws: every listed template (repeats included) with every value of all
 * five slots (used or not), each combination of probability 1 / (|templates| · Π_σ |V_σ|), summed per sentence.
 */
function bruteForce(options: GrammarOptions): Map<string, number> {
  const templates = options.templates ?? Array.from({ length: TEMPLATE_COUNT }, (_, k) => k);
  const slots = Object.keys(SLOT_VALUES) as Slot[];
  const values = slots.map((s) => options.values?.[s] ?? SLOT_VALUES[s]);
  const combinations = values.reduce((n, v) => n * v.length, 1);
  const out = new Map<string, number>();
  for (const template of templates)
    for (let c = 0; c < combinations; c++) {
      const chosen: Partial<Record<Slot, string>> = {};
      let rest = c;
      slots.forEach((s, k) => {
        chosen[s] = values[k]![rest % values[k]!.length];
        rest = Math.floor(rest / values[k]!.length);
      });
      const sentence = detokenize(realizeTemplate(template, chosen));
      out.set(sentence, (out.get(sentence) ?? 0) + 1 / (templates.length * combinations));
    }
  return out;
}

test("the exact distribution equals brute-force enumeration, sums to 1, and realises no sentence twice", () => {
  for (const [options, size] of [
    [small, 16 + 8 + 8 + 32],
    [{}, 5 * 864 + 2592 + 2 * 288],
  ] as const) {
    const exact = sentenceDistribution(options);
    const brute = bruteForce(options);
    assert.equal(exact.length, size, "one sentence per (template, values of its slots): none realised twice");
    assert.equal(brute.size, size);
    for (const { sentence, probability } of exact) assert.ok(Math.abs(probability - brute.get(sentence)!) < 1e-12 * probability, sentence);
    assert.ok(Math.abs(exact.reduce((a, s) => a + s.probability, 0) - 1) < 1e-12);
    const H = [...brute.values()].reduce((h, p) => h - p * Math.log(p), 0);
    const tokens = [...brute].reduce((n, [s, p]) => n + p * realizeLength(s), 0);
    const e = grammarEntropy(options);
    assert.ok(Math.abs(e.nats - H) < 1e-12 && Math.abs(e.bits - H / Math.LN2) < 1e-12, `${e.nats} vs ${H}`);
    assert.ok(Math.abs(e.meanTokens - tokens) < 1e-12 && Math.abs(e.bitsPerToken - H / Math.LN2 / tokens) < 1e-12);
  }
});

/** The token count of a sentence as the brute force writes it (words and punctuation). */
function realizeLength(sentence: string): number {
  return sentence.replace(/([.,])/g, " $1").split(" ").length;
}

test("the full grammar's entropy is log 8 + the mean over templates of log(number of their value combinations)", () => {
  const combinations = [864, 864, 2592, 288, 864, 864, 864, 288];
  const bits = 3 + combinations.reduce((a, n) => a + Math.log2(n), 0) / 8;
  const e = grammarEntropy();
  assert.ok(Math.abs(e.bits - bits) < 1e-12, `${e.bits} vs ${bits}`);
  assert.equal(bitsPerPosition(e, 20), e.bits / 20);
  assert.throws(() => bitsPerPosition(e, 0), /length/);
});

test("sentenceLogProb is the log of every enumerated probability, and −∞ off the (sub-)grammar", () => {
  for (const options of [small, {}])
    for (const { sentence, tokens, probability } of sentenceDistribution(options)) {
      const logp = sentenceLogProb(tokens, options);
      assert.ok(Math.abs(logp - Math.log(probability)) < 1e-12, sentence);
      assert.equal(sentenceLogProb(sentence, options), logp);
    }
  for (const s of [
    "",
    "Aromi is a Italian restaurant rated 5 out of 5.",
    "Aromi is an Italian restaurant rated 5 out of 5",
    "Aromi is an Italian restaurant rated 2 out of 5.",
    "Aromi Aromi",
  ])
    assert.equal(sentenceLogProb(s), -Infinity, s);
  const closed = sentenceLogProb("There is a cheap Italian place called Aromi in the riverside.") + Math.log(8 * 864);
  assert.ok(Math.abs(closed) < 1e-12, `${closed}`);
  assert.equal(
    sentenceLogProb("There is a cheap Italian place called Aromi in the riverside.", small),
    -Infinity,
    "template 4 is not listed",
  );
  assert.equal(sentenceLogProb("Zizzi is an Italian restaurant rated 5 out of 5.", small), -Infinity, "Zizzi is not a value");
  assert.throws(() => sentenceLogProb("Aromi", { templates: [8] }), /templates/);
  assert.throws(() => sentenceLogProb("Aromi", { values: { food: ["Greek"] } }), /food/);
});

test("the mean −log p of 20,000 generated sentences is the exact entropy within 4 standard errors", () => {
  const H = grammarEntropy().nats;
  const { mean, se } = meanAndStdError(restaurantSentences(20000, 7).map((s) => -sentenceLogProb(s)));
  assert.ok(Math.abs(mean - H) < 4 * se, `${mean} ± ${se} vs ${H}`);
});

test("the expected copy rate of a perfect model matches fresh draws from the generator", () => {
  assert.equal(expectedCopyRate([]), 0);
  assert.ok(Math.abs(expectedCopyRate(sentenceDistribution().map((s) => s.sentence)) - 1) < 1e-12);
  const train = restaurantSentences(4000, 0);
  const rate = expectedCopyRate(train);
  const n = 20000;
  const fresh = copyRate(restaurantSentences(n, 11), train);
  assert.ok(Math.abs(fresh - rate) < 4 * Math.sqrt((rate * (1 - rate)) / n), `${fresh} vs ${rate}`);
});

test("the masked bound of the grammar's oracle denoiser equals its exact entropy, for two schedules", () => {
  const options: GrammarOptions = {
    templates: [0, 2, 3, 5, 7],
    values: {
      name: ["Aromi", "The Mill", "The Golden Curry"],
      food: ["Italian", "French", "Indian"],
      area: ["riverside", "city centre"],
      rating: ["1", "5"],
    },
  };
  const tokenizer = Tokenizer.fromSentences(sentenceDistribution(options).map((s) => s.sentence));
  const d = grammarSequences(tokenizer, 20, options);
  assert.equal(d.sequences.length, 243);
  assert.equal(new Set(d.sequences.map((s) => s.join(" "))).size, 243, "sentences map one-to-one to padded rows");
  assert.ok(
    d.sequences.some((s) => s.includes(0)),
    "some rows are padded",
  );
  const H = grammarEntropy(options).nats;
  assert.ok(Math.abs(entropyOf(d) - H) < 1e-12);
  for (const schedule of ["linear", "cosine"]) {
    const { mean, se } = oracleBound(d, schedule, 0, 20000, 5);
    assert.ok(Math.abs(mean - H) < 4 * se, `${schedule}: ${mean} ± ${se} vs H = ${H}`);
  }
  assert.throws(() => grammarSequences(new Tokenizer(["<pad>", "<unk>", "Aromi"]), 20, options), /vocabulary/);
});
