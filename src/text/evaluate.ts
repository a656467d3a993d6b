/**
 * The evaluation of a text model on the built-in grammar, whatever its noise: unguided samples
 * (parse rate, distinct-n, copy rate, samples per second), control success without and with each
 * way of steering (targets cycled over the attribute's values), and infilling of held-out
 * sentences with about half their positions fixed. A model enters as a `TextSource` (Diffusion-LM:
 * `diffusionLMSource` in sample.ts; masked diffusion: masked.ts).
 */
import { Rng } from "../engine/index.js";
import type { TextCorpus } from "./data.js";
import { copyRate, distinctN, parseRate } from "./eval.js";
import { type Attribute, attributeClass, attributeClasses, parseTokens } from "./grammar.js";
import type { TextInfill } from "./infill.js";
import type { Tokenizer } from "./tokenizer.js";

/** What `evaluateText` samples: sequences of `length` ids of `tokenizer`. */
export interface TextSource {
  tokenizer: Tokenizer;
  length: number;
  /** n sequences of ids ([n·length], row-major), unguided; with `infill`, its fixed tokens kept and the rest generated */
  sample(n: number, rng: Rng, infill?: TextInfill): Int32Array;
}

/** One way of steering a `TextSource` towards a class of an attribute, e.g. classifier guidance at scale 3. */
export interface TextSteering {
  /** how it steers, for the report: "classifier guidance, scale 3" */
  name: string;
  /** targets.length sequences ([n·length] ids), sample k steered towards class targets[k] */
  sample(targets: Int32Array, rng: Rng): Int32Array;
}

/** Options of `evaluateText`. */
export interface TextEvalOptions {
  /** samples per measurement (default 200) */
  n?: number;
  /** the seed of every measurement's random stream (default 0) */
  seed?: number;
  /** the attribute to steer and the ways to steer it (default: none, no control numbers) */
  control?: { attribute: Attribute; steering: TextSteering[] };
  /** the share of each held-out sentence's positions fixed for infilling (default 0.5; 0: no infilling) */
  infillKeep?: number;
}

/** Control success of one way of steering (shares in [0, 1]). */
export interface SteeringReport {
  name: string;
  success: number;
  parseRate: number;
  examples: string[];
}

/** What `evaluateText` reports (shares in [0, 1]). */
export interface TextEvalReport {
  n: number;
  parseRate: number;
  distinct: { 1: number; 2: number; 3: number };
  copyRate: number;
  /** unguided samples per second (the n samples' wall-clock time, including the first call's compilation) */
  samplesPerSecond: number;
  /** up to 12 unguided samples */
  examples: string[];
  control?: { attribute: string; unguided: number; steered: SteeringReport[] };
  infill?: { keep: number; success: number; parseRate: number; examples: { fixed: string; sample: string }[] };
}

/**
 * Evaluate `source` on `corpus` (its training sentences for the copy rate, its held-out ones for
 * infilling). Parse-based numbers need the built-in grammar.
 */
export function evaluateText(source: TextSource, corpus: TextCorpus, options: TextEvalOptions = {}): TextEvalReport {
  const { n = 200, seed = 0, control, infillKeep = 0.5 } = options;
  const { length: L, tokenizer } = source;
  const decode = (ids: Int32Array) => Array.from({ length: ids.length / L }, (_, k) => tokenizer.decode(ids.subarray(k * L, (k + 1) * L)));
  const tokensOf = (ids: Int32Array, k: number) => tokenizer.tokens(ids.subarray(k * L, (k + 1) * L));
  const started = performance.now();
  const plainIds = source.sample(n, new Rng(seed + 101));
  const samplesPerSecond = n / ((performance.now() - started) / 1000);
  const plain = decode(plainIds);
  const report: TextEvalReport = {
    n,
    parseRate: parseRate(plain),
    distinct: { 1: distinctN(plain, 1), 2: distinctN(plain, 2), 3: distinctN(plain, 3) },
    copyRate: copyRate(plain, corpus.train),
    samplesPerSecond,
    examples: plain.slice(0, 12),
  };
  if (control) {
    const { attribute, steering } = control;
    const classNames = attributeClasses(attribute, L);
    const K = attribute === "length" ? L + 1 : classNames.length - 1;
    const targets = Int32Array.from({ length: n }, (_, k) => k % K);
    const success = (ids: Int32Array) =>
      Array.from(targets).filter((y, k) => parseTokens(tokensOf(ids, k)) !== null && attributeClass(attribute, tokensOf(ids, k)) === y)
        .length / n;
    report.control = {
      attribute,
      unguided: success(plainIds),
      steered: steering.map((way, j) => {
        const ids = way.sample(targets, new Rng(seed + 202 + j));
        const sentences = decode(ids);
        return {
          name: way.name,
          success: success(ids),
          parseRate: parseRate(sentences),
          examples: sentences.slice(0, 12).map((s, k) => `[${attribute}=${classNames[targets[k]!]}] ${s}`),
        };
      }),
    };
  }
  if (infillKeep > 0) report.infill = infillReport(source, corpus, n, seed, infillKeep);
  return report;
}

/** Infilling of the first n held-out sentences with each position fixed with probability `keep` (a seeded LCG). */
function infillReport(source: TextSource, corpus: TextCorpus, n: number, seed: number, keep: number): TextEvalReport["infill"] {
  const { length: L, tokenizer } = source;
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
    ids.set(tokenizer.encode(s, L, true), k * L);
    for (let l = 0; l < L; l++) mask[k * L + l] = random() < keep ? 1 : 0;
  });
  const filled = source.sample(m, new Rng(seed + 303), { ids, mask });
  let ok = 0;
  let parsed = 0;
  const examples: { fixed: string; sample: string }[] = [];
  for (let k = 0; k < m; k++) {
    const row = filled.subarray(k * L, (k + 1) * L);
    const parses = parseTokens(tokenizer.tokens(row)) !== null;
    let kept = true;
    for (let l = 0; l < L; l++) if (mask[k * L + l] === 1 && row[l] !== ids[k * L + l]) kept = false;
    if (parses) parsed++;
    if (parses && kept) ok++;
    if (examples.length < 6) {
      const fixed = Array.from({ length: L }, (_, l) => (mask[k * L + l] === 1 ? (tokenizer.words[ids[k * L + l]!] ?? "?") : "_")).join(
        " ",
      );
      examples.push({ fixed, sample: tokenizer.decode(row) });
    }
  }
  return { keep, success: m ? ok / m : 0, parseRate: m ? parsed / m : 0, examples };
}
