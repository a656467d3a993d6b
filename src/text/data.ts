/**
 * Text data for Diffusion-LM: `text:restaurants` (the built-in grammar's corpus) or `text:FILE`
 * (one sentence per line), split into training and held-out sentences, and token ids as the
 * `PointSet` the trainer reads (one row of `length` ids per sentence, as float32).
 */
import { existsSync, readFileSync } from "node:fs";
import type { PointSet } from "../data/sets.js";
import { DataError } from "../errors.js";
import type { RunConfig } from "../train/config.js";
import { restaurantSentences } from "./grammar.js";
import { encodeAll, type Tokenizer } from "./tokenizer.js";

/** The name of the built-in corpus: `--data text:restaurants`. */
export const BUILTIN_CORPUS = "restaurants";

/** Sentences for training and held-out evaluation; `builtin` when the grammar (and its parser) made them. */
export interface TextCorpus {
  spec: string;
  train: string[];
  test: string[];
  builtin: boolean;
}

/** Whether a data spec names text (`text:restaurants`, `text:FILE`). */
export function isTextSpec(spec: string): boolean {
  return spec.startsWith("text:");
}

/** Options of `loadTextCorpus`: how many sentences the built-in grammar draws. */
export interface TextCorpusOptions {
  /** training sentences drawn from the built-in grammar (default 4000; a file keeps all its lines) */
  train?: number;
  /** held-out sentences drawn from the built-in grammar (default 500) */
  test?: number;
}

/**
 * The corpus a spec names. `text:restaurants`: `train` and `test` sentences drawn from the grammar
 * (seeds `seed` and `seed + 1`). `text:FILE`: the file's non-empty lines (trimmed), every tenth
 * line (the 10th, 20th, …) held out; a missing file, or one with fewer than two sentences, is a DataError.
 */
export function loadTextCorpus(spec: string, seed = 0, options: TextCorpusOptions = {}): TextCorpus {
  const { train = 4000, test = 500 } = options;
  if (!isTextSpec(spec)) throw new DataError(`"${spec}" is not a text data set (text:${BUILTIN_CORPUS} or text:FILE)`);
  const source = spec.slice("text:".length);
  if (source === BUILTIN_CORPUS)
    return { spec, train: restaurantSentences(train, seed), test: restaurantSentences(test, seed + 1), builtin: true };
  if (source === "" || !existsSync(source))
    throw new DataError(`text file "${source}" does not exist (text:${BUILTIN_CORPUS} is the built-in corpus)`);
  const lines = readFileSync(source, "utf8")
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== "");
  if (lines.length < 2) throw new DataError(`text file "${source}" has ${lines.length} sentence(s); it needs at least two (one per line)`);
  const held = (k: number) => k % 10 === 9;
  return { spec, train: lines.filter((_, k) => !held(k)), test: lines.filter((_, k) => held(k)), builtin: false };
}

/** Sentences as the trainer's points: token ids (float32) [n, length], sentences longer than `length` truncated. */
export function tokenPoints(tokenizer: Tokenizer, sentences: readonly string[], length: number): PointSet {
  const ids = encodeAll(tokenizer, sentences, length, true);
  return { points: Float32Array.from(ids), n: sentences.length, dim: length };
}

/** The corpus a text run was trained on, regenerated from its config (its spec, seed and sentence counts). */
export function corpusOf(config: RunConfig): TextCorpus {
  return loadTextCorpus(config.data.spec, config.seed, { train: config.data.train, test: config.data.test });
}
