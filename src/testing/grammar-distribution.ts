/**
 * The restaurant grammar (or a sub-grammar) as a `SequenceDistribution` of padded id rows, for the exact
 * masked-diffusion denoiser of the grammar (`oracleDenoiser`) in tests.
 */
import { DataError } from "../errors.js";
import { type GrammarOptions, sentenceDistribution } from "../text/entropy.js";
import type { Tokenizer } from "../text/tokenizer.js";
import type { SequenceDistribution } from "./masked-oracle.js";

/**
 * The (sub-)grammar's sentences as rows of `length` ids under `tokenizer` (PAD-filled) with their exact
 * probabilities. One-to-one, so its entropy is the grammar's: a word outside the vocabulary, or a
 * sentence longer than `length`, is a DataError.
 */
export function grammarSequences(tokenizer: Tokenizer, length: number, options: GrammarOptions = {}): SequenceDistribution {
  const sentences = sentenceDistribution(options);
  const unknown = sentences.flatMap((s) => s.tokens).find((w) => !tokenizer.has(w));
  if (unknown !== undefined) throw new DataError(`the word "${unknown}" of the grammar is not in the vocabulary`);
  return {
    vocabulary: tokenizer.size,
    length,
    sequences: sentences.map((s) => Int32Array.from(tokenizer.encode(s.sentence, length))),
    probabilities: sentences.map((s) => s.probability),
  };
}
