/**
 * The evaluation of a Diffusion-LM run on the built-in grammar: unguided samples (parse rate,
 * distinct-n, copy rate), control success without and with classifier guidance (targets cycled
 * over the attribute's values), and infilling of held-out sentences with about half their positions fixed.
 */
import { Rng } from "../engine/index.js";
import type { Sampler } from "../sample/sampler.js";
import type { TextClassifier } from "./classifier.js";
import type { TextCorpus } from "./data.js";
import { copyRate, distinctN, parseRate } from "./eval.js";
import { attributeClass, parseTokens, SLOT_VALUES } from "./grammar.js";
import { sampleTextIds, type TextLM } from "./sample.js";

/** Options of `evaluateText`. */
export interface TextEvalOptions {
  /** samples per measurement (default 200) */
  n?: number;
  /** the seed of every measurement's random stream (default 0) */
  seed?: number;
  /** snap x̂_0 to the embeddings at every step (default true) */
  clamp?: boolean;
  /** classifier guidance to measure: the classifier, the scale S and the fluency weight λ (default 0); default: none, no control numbers */
  control?: { classifier: TextClassifier; scale: number; fluency?: number };
  /** the share of each held-out sentence's positions fixed for infilling (default 0.5; 0: no infilling) */
  infillKeep?: number;
}

/** What `evaluateText` reports (shares in [0, 1]). */
export interface TextEvalReport {
  n: number;
  parseRate: number;
  distinct: { 1: number; 2: number; 3: number };
  copyRate: number;
  /** up to 12 unguided samples */
  examples: string[];
  control?: {
    attribute: string;
    scale: number;
    fluency: number;
    unguided: number;
    guided: number;
    guidedParseRate: number;
    examples: string[];
  };
  infill?: { keep: number; success: number; parseRate: number; examples: { fixed: string; sample: string }[] };
}

/**
 * Evaluate `lm` with samplers from `makeSampler` on `corpus` (its training sentences for the copy
 * rate, its held-out ones for infilling). Parse-based numbers need the built-in grammar.
 */
export function evaluateText(lm: TextLM, corpus: TextCorpus, makeSampler: () => Sampler, options: TextEvalOptions = {}): TextEvalReport {
  const { n = 200, seed = 0, clamp = true, control, infillKeep = 0.5 } = options;
  const L = lm.net.length;
  const decode = (ids: Int32Array) =>
    Array.from({ length: ids.length / L }, (_, k) => lm.tokenizer.decode(ids.subarray(k * L, (k + 1) * L)));
  const tokensOf = (ids: Int32Array, k: number) => lm.tokenizer.tokens(ids.subarray(k * L, (k + 1) * L));
  const plainIds = sampleTextIds(lm, n, { rng: new Rng(seed + 101), sampler: makeSampler(), clamp });
  const plain = decode(plainIds);
  const report: TextEvalReport = {
    n,
    parseRate: parseRate(plain),
    distinct: { 1: distinctN(plain, 1), 2: distinctN(plain, 2), 3: distinctN(plain, 3) },
    copyRate: copyRate(plain, corpus.train),
    examples: plain.slice(0, 12),
  };
  if (control) {
    const { classifier, scale, fluency = 0 } = control;
    const attribute = classifier.attribute;
    const K = attribute === "length" ? L + 1 : SLOT_VALUES[attribute].length;
    const targets = Int32Array.from({ length: n }, (_, k) => k % K);
    const success = (ids: Int32Array) =>
      Array.from(targets).filter((y, k) => parseTokens(tokensOf(ids, k)) !== null && attributeClass(attribute, tokensOf(ids, k)) === y)
        .length / n;
    const guidedIds = sampleTextIds(lm, n, {
      rng: new Rng(seed + 202),
      sampler: makeSampler(),
      clamp,
      control: { classifier: classifier.classifier, params: classifier.params, label: targets, scale, fluency },
    });
    const guided = decode(guidedIds);
    report.control = {
      attribute,
      scale,
      fluency,
      unguided: success(plainIds),
      guided: success(guidedIds),
      guidedParseRate: parseRate(guided),
      examples: guided.slice(0, 12).map((s, k) => `[${attribute}=${classifier.classNames[targets[k]!]}] ${s}`),
    };
  }
  if (infillKeep > 0) {
    const rows = corpus.test.slice(0, n);
    const m = rows.length;
    const ids = new Int32Array(m * L);
    const mask = new Float32Array(m * L);
    let state = (seed * 7919 + 17) >>> 0;
    const random = () => {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      return state / 4294967296;
    };
    rows.forEach((s, k) => {
      ids.set(lm.tokenizer.encode(s, L, true), k * L);
      for (let l = 0; l < L; l++) mask[k * L + l] = random() < infillKeep ? 1 : 0;
    });
    const filled = sampleTextIds(lm, m, { rng: new Rng(seed + 303), sampler: makeSampler(), clamp, infill: { ids, mask } });
    let ok = 0;
    let parsed = 0;
    const examples: { fixed: string; sample: string }[] = [];
    for (let k = 0; k < m; k++) {
      const row = filled.subarray(k * L, (k + 1) * L);
      const parses = parseTokens(lm.tokenizer.tokens(row)) !== null;
      let kept = true;
      for (let l = 0; l < L; l++) if (mask[k * L + l] === 1 && row[l] !== ids[k * L + l]) kept = false;
      if (parses) parsed++;
      if (parses && kept) ok++;
      if (examples.length < 6) {
        const fixed = Array.from({ length: L }, (_, l) =>
          mask[k * L + l] === 1 ? (lm.tokenizer.words[ids[k * L + l]!] ?? "?") : "_",
        ).join(" ");
        examples.push({ fixed, sample: lm.tokenizer.decode(row) });
      }
    }
    report.infill = { keep: infillKeep, success: m ? ok / m : 0, parseRate: m ? parsed / m : 0, examples };
  }
  return report;
}
