/**
 * Word-level tokenisation for Diffusion-LM: words and punctuation as tokens, a vocabulary built
 * from the training sentences (padding and unknown-word tokens first), and padding to a fixed
 * length. Pure JavaScript: no arrays of the engine are made here.
 */
import { DataError } from "../errors.js";

/** The padding token (id 0): fills every sentence up to the model's fixed length. */
export const PAD = "<pad>";
/** The unknown-word token (id 1): any word not in the vocabulary. */
export const UNK = "<unk>";

const PUNCTUATION = /([.,;:!?])/g;

/**
 * The tokens of one sentence: split at whitespace, with the punctuation marks . , ; : ! ? split off
 * as tokens of their own ("centre." → "centre", "."). Case is kept.
 */
export function tokenize(sentence: string): string[] {
  return sentence
    .replace(PUNCTUATION, " $1 ")
    .split(/\s+/)
    .filter((w) => w !== "");
}

/** The inverse of `tokenize` for text written with single spaces: tokens joined by spaces, no space before punctuation. */
export function detokenize(tokens: readonly string[]): string {
  return tokens.join(" ").replace(/ ([.,;:!?])/g, "$1");
}

/** Options of `Tokenizer.fromSentences`. */
export interface VocabularyOptions {
  /** words seen fewer times become the unknown-word token (default 1: keep every word) */
  minCount?: number;
}

/**
 * A word-level vocabulary: id 0 is `PAD`, id 1 `UNK`, then the words by decreasing count (ties in
 * code-point order), so that a vocabulary built twice from the same sentences is the same.
 */
export class Tokenizer {
  readonly #index: Map<string, number>;

  /** A tokenizer over `words` (id = position; words[0] must be PAD and words[1] UNK, each word once). */
  constructor(readonly words: readonly string[]) {
    if (words[0] !== PAD || words[1] !== UNK)
      throw new DataError(`a vocabulary must start with "${PAD}" and "${UNK}", got ${JSON.stringify(words.slice(0, 2))}`);
    this.#index = new Map(words.map((w, i) => [w, i]));
    if (this.#index.size !== words.length) throw new DataError("a vocabulary lists some word twice");
  }

  /** The vocabulary of `sentences`: every word seen at least `minCount` times. */
  static fromSentences(sentences: readonly string[], options: VocabularyOptions = {}): Tokenizer {
    const { minCount = 1 } = options;
    const counts = new Map<string, number>();
    for (const s of sentences) for (const w of tokenize(s)) counts.set(w, (counts.get(w) ?? 0) + 1);
    counts.delete(PAD);
    counts.delete(UNK);
    const kept = [...counts].filter(([, c]) => c >= minCount).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    return new Tokenizer([PAD, UNK, ...kept.map(([w]) => w)]);
  }

  /** Number of tokens, PAD and UNK included. */
  get size(): number {
    return this.words.length;
  }

  /** The id of one token (UNK's for an unknown word). */
  id(word: string): number {
    return this.#index.get(word) ?? 1;
  }

  /** Whether `word` has its own id. */
  has(word: string): boolean {
    return this.#index.has(word);
  }

  /**
   * The ids of `sentence` padded with PAD (id 0) to `length`; a longer sentence is a DataError
   * (naming it) unless `truncate`, which keeps its first `length` tokens.
   */
  encode(sentence: string, length: number, truncate = false): number[] {
    const tokens = tokenize(sentence);
    if (tokens.length > length && !truncate)
      throw new DataError(`the sentence "${sentence}" has ${tokens.length} tokens, more than the length ${length}`);
    const ids = tokens.slice(0, length).map((w) => this.id(w));
    while (ids.length < length) ids.push(0);
    return ids;
  }

  /** The tokens of `ids` with every PAD dropped (UNK shown as "<unk>"). */
  tokens(ids: ArrayLike<number>): string[] {
    const out: string[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (id === 0) continue;
      const w = this.words[id];
      if (w === undefined) throw new DataError(`token id ${id} is outside the vocabulary of ${this.size}`);
      out.push(w);
    }
    return out;
  }

  /** The sentence of `ids`: `detokenize` of its tokens, PADs dropped. */
  decode(ids: ArrayLike<number>): string {
    return detokenize(this.tokens(ids));
  }
}

/**
 * Sentences as one row of `length` token ids each ([n·length], row-major), for training. Sentences
 * longer than `length` are a DataError unless `truncate`.
 */
export function encodeAll(tokenizer: Tokenizer, sentences: readonly string[], length: number, truncate = false): Int32Array {
  const out = new Int32Array(sentences.length * length);
  sentences.forEach((s, k) => out.set(tokenizer.encode(s, length, truncate), k * length));
  return out;
}

/** The longest sentence of `sentences`, in tokens. */
export function longestSentence(sentences: readonly string[]): number {
  return sentences.reduce((m, s) => Math.max(m, tokenize(s).length), 0);
}
