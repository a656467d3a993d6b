/**
 * Measures of generated text: the share that parses under the built-in grammar, control success,
 * distinct-n diversity and the share copied from the training set.
 */
import { type Attribute, attributeClass, parseSentence } from "./grammar.js";
import { tokenize } from "./tokenizer.js";

/** The share of `sentences` that are sentences of the built-in grammar (`parseSentence`); 0 for none. */
export function parseRate(sentences: readonly string[]): number {
  return share(sentences, (s) => parseSentence(s) !== null);
}

/**
 * Control success: the share of `sentences` that parse and whose `attribute` has class `target`
 * (`attributeClass`; for "length" the token count, parsing still required).
 */
export function controlSuccess(sentences: readonly string[], attribute: Attribute, target: number): number {
  return share(sentences, (s) => parseSentence(s) !== null && attributeClass(attribute, tokenize(s)) === target);
}

/** distinct-n (Li et al. 2016): the number of distinct n-grams over all sentences divided by their total count (0 when there are none). */
export function distinctN(sentences: readonly string[], n: number): number {
  const seen = new Set<string>();
  let total = 0;
  for (const s of sentences) {
    const tokens = tokenize(s);
    for (let i = 0; i + n <= tokens.length; i++) {
      seen.add(tokens.slice(i, i + n).join("\u0000"));
      total++;
    }
  }
  return total === 0 ? 0 : seen.size / total;
}

/** The share of `samples` that appear verbatim (as token sequences) in `training`. */
export function copyRate(samples: readonly string[], training: readonly string[]): number {
  const known = new Set(training.map((s) => tokenize(s).join(" ")));
  return share(samples, (s) => known.has(tokenize(s).join(" ")));
}

/**
 * Infilling success: the share of samples that parse and keep every fixed token (`fixed[k]` lists
 * sample k's (position, word) pairs; positions count tokens, PAD included as "<pad>").
 */
export function infillSuccess(samples: readonly string[][], fixed: readonly (readonly [number, string])[][]): number {
  let ok = 0;
  samples.forEach((tokens, k) => {
    const words = tokens.filter((w) => w !== "<pad>");
    if (parseSentence(words.join(" ")) === null) return;
    if (fixed[k]!.every(([pos, w]) => tokens[pos] === w)) ok++;
  });
  return samples.length === 0 ? 0 : ok / samples.length;
}

/** A binomial proportion's standard error √(p(1 − p)/n). */
export function proportionError(p: number, n: number): number {
  return n > 0 ? Math.sqrt((p * (1 - p)) / n) : NaN;
}

function share<T>(xs: readonly T[], ok: (x: T) => boolean): number {
  return xs.length === 0 ? 0 : xs.filter(ok).length / xs.length;
}
