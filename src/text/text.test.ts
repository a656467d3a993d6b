/**
 * Diffusion-LM's pieces against independent references: tokeniser round trips, the grammar's parser
 * against the enumerated language (every sentence of every template) on generated and corrupted
 * sentences, the loss terms against a float64 computation from the network's own outputs, and
 * rounding / clamping against a brute-force nearest neighbour.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DiffusionProcess } from "../diffusion/process.js";
import { Rng } from "../engine/index.js";
import { numpy as np, tree } from "../engine/jax.js";
import { DataError } from "../errors.js";
import { embed } from "../models/layers.js";
import { initTextNet, type TextNetConfig, textModel } from "../models/transformer.js";
import { getSchedule } from "../schedule/index.js";
import { assertClose, useEngine } from "../testing/helpers.js";
import { textLossEnds, textLossTerms } from "../train/objectives/diffusion-lm.js";
import { copyRate, distinctN } from "./eval.js";
import {
  attributeClass,
  parseSentence,
  parseTokens,
  realizeTemplate,
  restaurantSentences,
  SLOT_VALUES,
  type Slot,
  TEMPLATE_COUNT,
  templateSlots,
} from "./grammar.js";
import { clampToEmbeddings, nearestTokens, roundToIds } from "./rounding.js";
import { detokenize, PAD, Tokenizer, tokenize, UNK } from "./tokenizer.js";

useEngine("wasm");

/** Every sentence of the grammar, as token strings joined by spaces. */
function language(): Set<string> {
  const out = new Set<string>();
  for (let template = 0; template < TEMPLATE_COUNT; template++) {
    const slots = templateSlots(template);
    const fill = (k: number, values: Partial<Record<Slot, string>>) => {
      if (k === slots.length) return void out.add(realizeTemplate(template, values).join(" "));
      for (const v of SLOT_VALUES[slots[k]!]) fill(k + 1, { ...values, [slots[k]!]: v });
    };
    fill(0, {});
  }
  return out;
}

describe("tokenizer", () => {
  const corpus = restaurantSentences(2000, 3);
  it("round-trips every corpus sentence through tokens and ids", () => {
    const tok = Tokenizer.fromSentences(corpus);
    for (const s of corpus) {
      assert.equal(detokenize(tokenize(s)), s);
      assert.equal(tok.decode(tok.encode(s, 24)), s);
    }
    assert.deepEqual(tokenize("In the old town, Cotto offers food."), ["In", "the", "old", "town", ",", "Cotto", "offers", "food", "."]);
  });
  it("puts PAD and UNK first, orders words by count, pads and rejects overlong sentences", () => {
    const tok = Tokenizer.fromSentences(["b a a.", "a c"]);
    assert.deepEqual(tok.words, [PAD, UNK, "a", ".", "b", "c"]);
    assert.deepEqual(tok.encode("a zebra", 4), [2, 1, 0, 0]);
    assert.equal(tok.decode([2, 1, 0, 0]), "a <unk>");
    assert.throws(
      () => tok.encode("a a a a a", 4),
      (e: unknown) => e instanceof DataError && /has 5 tokens, more than the length 4/.test((e as Error).message),
    );
    assert.deepEqual(tok.encode("a a a a a", 4, true), [2, 2, 2, 2]);
  });
});

describe("grammar", () => {
  const all = language();
  it("the parser accepts every generated sentence and returns its slots", () => {
    for (let template = 0; template < TEMPLATE_COUNT; template++) {
      const values = { name: "The Golden Curry", food: "Indian", price: "expensive", area: "old town", rating: "3" };
      const parsed = parseTokens(realizeTemplate(template, values));
      assert.ok(parsed, `template ${template}`);
      assert.equal(parsed.template, template);
      for (const slot of templateSlots(template)) assert.equal(parsed.slots[slot], values[slot]);
    }
    for (const s of restaurantSentences(3000, 7)) assert.ok(parseSentence(s), s);
    assert.equal(parseSentence("Cotto is an Indian restaurant rated 3 out of 5.")?.slots.food, "Indian");
  });
  it("agrees with the enumerated language on corrupted sentences, and rejects most of them", () => {
    const tok = Tokenizer.fromSentences(restaurantSentences(2000, 1));
    let seed = 11;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    let rejected = 0;
    const sentences = restaurantSentences(600, 9);
    for (const s of sentences) {
      const tokens = tokenize(s);
      const i = Math.floor(random() * tokens.length);
      const kind = Math.floor(random() * 4);
      const bad = [...tokens];
      if (kind === 0)
        bad.splice(i, 1); // drop a word
      else if (kind === 1)
        bad[i] = tok.words[2 + Math.floor(random() * (tok.size - 2))]!; // replace it
      else if (kind === 2 && i + 1 < bad.length)
        [bad[i], bad[i + 1]] = [bad[i + 1]!, bad[i]!]; // swap two
      else bad.splice(i, 0, tok.words[2 + Math.floor(random() * (tok.size - 2))]!); // insert one
      const member = all.has(bad.join(" "));
      assert.equal(parseTokens(bad) !== null, member, bad.join(" "));
      if (!member) rejected++;
    }
    assert.ok(rejected > 0.8 * sentences.length, `only ${rejected} of ${sentences.length} corruptions left the language`);
    assert.equal(parseSentence("Cotto is a Indian restaurant rated 3 out of 5."), null, "article agreement");
    assert.equal(parseSentence("Cotto is an Indian restaurant rated 3 out of 5 . ."), null);
  });
  it("gives attribute classes: slot values, absent slots, lengths", () => {
    const tokens = tokenize("Cotto is an Indian restaurant rated 3 out of 5.");
    assert.equal(attributeClass("food", tokens), SLOT_VALUES.food.indexOf("Indian"));
    assert.equal(attributeClass("price", tokens), SLOT_VALUES.price.length); // absent
    assert.equal(attributeClass("length", tokens), 11);
    assert.equal(attributeClass("food", ["Cotto"]), -1);
  });
  it("measures distinct-n and copies", () => {
    assert.equal(distinctN(["a b a b"], 2), 2 / 3);
    assert.equal(copyRate(["x y.", "z"], ["x y ."]), 0.5);
  });
});

describe("Diffusion-LM loss and rounding", () => {
  const words = [PAD, UNK, "a", "b", "c"];
  const net: TextNetConfig = { words, length: 3, embedDim: 2, width: 8, layers: 1, heads: 2, timeEmbedding: 4 };

  it("each loss term equals a float64 computation from the network's outputs (sqrt schedule, continuous time)", () => {
    const process = new DiffusionProcess(getSchedule("sqrt"), 0);
    const model = textModel(net);
    const params = initTextNet(net, new Rng(3));
    const ids = [2, 3, 0, 4, 4, 2];
    const B = 2,
      L = 3,
      d = 2,
      V = 5;
    const eps = Array.from(new Rng(4).normal([B, L, d]).dataSync() as Float32Array);
    const u = [0.25, 0.8];
    const E = Array.from(params.embedding!.ref.dataSync() as Float32Array);
    // reference in float64
    const gammaOf = (t: number) => Math.log(Math.sqrt(t + 1e-4)) - Math.log(1 - Math.sqrt(t + 1e-4));
    const { tMin, tMax } = process.schedule;
    const ts = u.map((x) => tMin + (tMax - tMin) * x);
    const g0 = gammaOf(0),
      gT = gammaOf(0.999);
    const alpha = (g: number) => Math.sqrt(1 / (1 + Math.exp(g))),
      sigma = (g: number) => Math.sqrt(1 / (1 + Math.exp(-g)));
    const e = (b: number, l: number, k: number) => E[ids[b * L + l]! * d + k]!;
    const latent = (g: number[]) =>
      Array.from({ length: B * L * d }, (_, i) => {
        const b = Math.floor(i / (L * d)),
          l = Math.floor(i / d) % L,
          k = i % d;
        return alpha(g[b]!) * e(b, l, k) + sigma(g[b]!) * eps[i]!;
      });
    const xt = latent(ts.map(gammaOf)),
      x1 = latent([g0, g0]);
    const pred = Array.from(
      model
        .apply(
          tree.ref(params),
          np.array([...xt, ...x1]).reshape([2 * B, L, d]),
          np.array([...ts, 0, 0]),
          np.array([...ts.map(gammaOf), g0, g0]),
        )
        .dataSync() as Float32Array,
    );
    const Q = Math.ceil(B / 4); // the t = 0 term is estimated on the first Q sentences, weighted B/Q
    const ref = { denoising: [0, 0], reconstruction: [0, 0], prior: [0, 0], rounding: [0, 0] };
    for (let b = 0; b < B; b++) {
      for (let l = 0; l < L; l++) {
        const logits: number[] = [];
        for (let v = 0; v < V; v++)
          logits.push(Array.from({ length: d }, (_, k) => x1[(b * L + l) * d + k]! * E[v * d + k]!).reduce((x, y) => x + y, 0));
        const max = Math.max(...logits);
        const lse = max + Math.log(logits.reduce((s, z) => s + Math.exp(z - max), 0));
        ref.rounding[b]! += (lse - logits[ids[b * L + l]!]!) / L;
        for (let k = 0; k < d; k++) {
          const i = (b * L + l) * d + k;
          ref.denoising[b]! += (pred[i]! - e(b, l, k)) ** 2 / (L * d);
          if (b < Q) ref.reconstruction[b]! += ((B / Q) * (pred[B * L * d + i]! - e(b, l, k)) ** 2) / (L * d);
          ref.prior[b]! += (alpha(gT) * e(b, l, k)) ** 2 / (L * d);
        }
      }
    }
    const terms = textLossTerms(
      model,
      process,
      params,
      np.array(ids).reshape([B, L]),
      np.array(eps).reshape([B, L, d]),
      np.array(u),
      null,
      textLossEnds(process),
    );
    for (const key of ["denoising", "reconstruction", "prior", "rounding"] as const) {
      // measured: 5.7e-6 relative (the rounding term: wasm's float32 exp and log), 3.3e-7 or less for the others
      assertClose(terms[key].dataSync() as Float32Array, ref[key], { rtol: 3e-5, label: key });
    }
  });

  it("rounding round-trips: the embeddings of a sentence's ids round back to the ids", () => {
    const tok = Tokenizer.fromSentences(restaurantSentences(500, 2));
    const E = new Rng(6).normal([tok.size, 16]);
    const sentences = restaurantSentences(20, 4);
    const ids = sentences.flatMap((s) => tok.encode(s, 20));
    const back = roundToIds(embed(np.array(ids).reshape([20, 20]), E.ref), E);
    assert.deepEqual(Array.from(back), ids);
    assert.deepEqual(
      sentences.map((_, k) => tok.decode(back.subarray(k * 20, (k + 1) * 20))),
      sentences,
    );
  });

  it("nearest-token rounding and clamping equal a brute-force nearest neighbour", () => {
    const rng = new Rng(8);
    const V = 7,
      d = 3,
      B = 4,
      L = 5;
    const E = Array.from(rng.normal([V, d]).dataSync() as Float32Array);
    const x = Array.from(rng.normal([B, L, d]).mul(1.5).dataSync() as Float32Array);
    const expected = Array.from({ length: B * L }, (_, p) => {
      let best = -1,
        bestD = Infinity;
      for (let v = 0; v < V; v++) {
        const dist = Array.from({ length: d }, (_, k) => (x[p * d + k]! - E[v * d + k]!) ** 2).reduce((a, c) => a + c, 0);
        if (dist < bestD) [best, bestD] = [v, dist];
      }
      return best;
    });
    assert.deepEqual(
      Array.from(nearestTokens(np.array(x).reshape([B, L, d]), np.array(E).reshape([V, d])).dataSync() as Int32Array),
      expected,
    );
    const clamped = clampToEmbeddings(np.array(x).reshape([B, L, d]), np.array(E).reshape([V, d])).dataSync() as Float32Array;
    assertClose(
      clamped,
      expected.flatMap((v) => E.slice(v * d, (v + 1) * d)),
      { label: "clamped" },
    ); // exact: a one-hot product
  });
});
