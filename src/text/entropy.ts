/**
 * The restaurant grammar's exact distribution: `restaurantSentences` draws a template uniformly from
 * its list and every slot's value uniformly, so a sentence s realised by template t with values v has
 * p(s) = (m_t / |templates|) · Π_{slots σ of t} 1/|V_σ| (m_t: how often t is listed), summed over every
 * (t, v) that realises s. The grammar is unambiguous (no sentence is realised twice: the tests check it
 * by enumeration), so p(s) is that one product, read off the parse. Hence the entropy per sentence,
 * per token and per position of the padded sequences, and the expected copy rate of a perfect model.
 */
import { ConfigError } from "../errors.js";
import { parseTokens, realizeTemplate, SLOT_VALUES, type Slot, TEMPLATE_COUNT, templateSlots } from "./grammar.js";
import { detokenize, tokenize } from "./tokenizer.js";

/** A sub-grammar: the templates drawn and the values each slot draws from (defaults: the generator's). */
export interface GrammarOptions {
  /** templates drawn uniformly from this list, repeats weighting (default all, as `restaurantSentences`) */
  templates?: readonly number[];
  /** each slot's values, a non-empty subset of `SLOT_VALUES` (default all) */
  values?: Partial<Record<Slot, readonly string[]>>;
}

/** One sentence of the grammar: its text, its tokens and its exact probability. */
export interface SentenceProbability {
  /** the sentence as text (`detokenize` of its tokens) */
  sentence: string;
  /** its tokens */
  tokens: string[];
  /** p(s), summed over every (template, values) that realises it */
  probability: number;
}

/** The templates' weights m_t / |templates| and the slots' values of a sub-grammar (validated). */
function grammarOf(options: GrammarOptions): { weights: number[]; values: Record<Slot, readonly string[]> } {
  const templates = options.templates ?? Array.from({ length: TEMPLATE_COUNT }, (_, k) => k);
  if (templates.length === 0 || templates.some((k) => !Number.isInteger(k) || k < 0 || k >= TEMPLATE_COUNT))
    throw new ConfigError(`templates must be a non-empty list of 0..${TEMPLATE_COUNT - 1}, got [${templates.join(", ")}]`);
  const weights = new Array<number>(TEMPLATE_COUNT).fill(0);
  for (const k of templates) weights[k]! += 1 / templates.length;
  const values = { ...SLOT_VALUES };
  for (const [slot, given] of Object.entries(options.values ?? {}) as [Slot, readonly string[]][]) {
    if (given.length === 0 || given.some((v) => !SLOT_VALUES[slot].includes(v)) || new Set(given).size !== given.length)
      throw new ConfigError(`values of "${slot}" must be distinct values of ${SLOT_VALUES[slot].join(", ")}; got [${given.join(", ")}]`);
    values[slot] = given;
  }
  return { weights, values };
}

/**
 * Every sentence the (sub-)grammar can produce with its probability: for each template t listed, every
 * combination of its slots' values, with p = (m_t / |templates|) · Π_σ 1/|V_σ|, summed over the
 * combinations that realise the same sentence. In order of template, then values (slots in template order).
 */
export function sentenceDistribution(options: GrammarOptions = {}): SentenceProbability[] {
  const { weights, values } = grammarOf(options);
  const bySentence = new Map<string, SentenceProbability>();
  weights.forEach((weight, template) => {
    if (weight === 0) return;
    const slots = [...new Set(templateSlots(template))];
    const p = weight / slots.reduce((n, slot) => n * values[slot].length, 1);
    const combine = (k: number, chosen: Partial<Record<Slot, string>>): void => {
      if (k === slots.length) {
        const tokens = realizeTemplate(template, chosen);
        const sentence = detokenize(tokens);
        const seen = bySentence.get(sentence);
        if (seen) seen.probability += p;
        else bySentence.set(sentence, { sentence, tokens, probability: p });
        return;
      }
      for (const value of values[slots[k]!]) combine(k + 1, { ...chosen, [slots[k]!]: value });
    };
    combine(0, {});
  });
  return [...bySentence.values()];
}

/**
 * The exact log-probability of a sentence (text, or its tokens) under the (sub-)grammar, read off its
 * parse: log(m_t / |templates|) − Σ_{slots σ of t} log |V_σ|; −∞ when it does not parse, or its template
 * or a value lies outside the sub-grammar. Exact because the grammar is unambiguous.
 */
export function sentenceLogProb(sentence: string | readonly string[], options: GrammarOptions = {}): number {
  const { weights, values } = grammarOf(options);
  const parsed = parseTokens(typeof sentence === "string" ? tokenize(sentence) : sentence);
  if (!parsed || weights[parsed.template] === 0) return -Infinity;
  let logp = Math.log(weights[parsed.template]!);
  for (const slot of new Set(templateSlots(parsed.template))) {
    if (!values[slot].includes(parsed.slots[slot]!)) return -Infinity;
    logp -= Math.log(values[slot].length);
  }
  return logp;
}

/** The grammar's entropy: per sentence, per token, and the mean sentence length. */
export interface GrammarEntropy {
  /** H = −Σ_s p(s) ln p(s), nats per sentence */
  nats: number;
  /** H / ln 2, bits per sentence */
  bits: number;
  /** E[tokens per sentence] = Σ_s p(s) |s| */
  meanTokens: number;
  /** bits per real token: H_bits / E|s| */
  bitsPerToken: number;
}

/** The entropy of the (sub-)grammar's sentences, from its exact distribution (`sentenceDistribution`). */
export function grammarEntropy(options: GrammarOptions = {}): GrammarEntropy {
  let nats = 0;
  let meanTokens = 0;
  for (const { tokens, probability: p } of sentenceDistribution(options)) {
    nats -= p * Math.log(p);
    meanTokens += p * tokens.length;
  }
  const bits = nats / Math.LN2;
  return { nats, bits, meanTokens, bitsPerToken: bits / meanTokens };
}

/**
 * Bits per position of the sequences padded to `length` that the models see: H_bits / length. Padding
 * (with every word in the vocabulary and length ≥ the longest sentence) maps sentences one-to-one to
 * id rows, so the entropy per padded sequence is the entropy per sentence.
 */
export function bitsPerPosition(entropy: GrammarEntropy, length: number): number {
  if (!(Number.isInteger(length) && length > 0)) throw new ConfigError(`length must be a positive integer, got ${length}`);
  return entropy.bits / length;
}

/**
 * The exact expected copy rate of a perfect model (one that samples the grammar): the probability that a
 * fresh sentence is among `training`, Σ_{s ∈ training, distinct} p(s) (sentences compared as tokens).
 */
export function expectedCopyRate(training: readonly string[], options: GrammarOptions = {}): number {
  const distinct = new Map(training.map((s) => [tokenize(s).join(" "), tokenize(s)]));
  let rate = 0;
  for (const tokens of distinct.values()) rate += Math.exp(sentenceLogProb(tokens, options));
  return rate;
}
