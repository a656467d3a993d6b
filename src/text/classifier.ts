/**
 * Noise-aware classifiers p_φ(y | x_t, t) for Diffusion-LM's controls, trained by the library's
 * trainer (`train`, task "classifier") on the sentences' embeddings under the language model's
 * frozen E: x_0 = E[w] [length, d], x_t ~ q(x_t | x_0) on the LM's own schedule.
 */
import type { PointSet } from "../data/sets.js";
import { type Array, type JsTree, tree } from "../engine/jax.js";
import { DataError } from "../errors.js";
import type { Classifier } from "../models/kind.js";
import { configOf } from "../models/kinds.js";
import { transformerKind } from "../models/transformer.js";
import { buildClassifier } from "../train/build.js";
import { loadClassifier } from "../train/load.js";
import { type TrainOptions, train } from "../train/trainer.js";
import { type TextClassifierOptions, textClassifierConfig } from "./config.js";
import { type Attribute, attributeClass, attributeClasses, attributes } from "./grammar.js";
import type { TextLM } from "./sample.js";
import { tokenize } from "./tokenizer.js";

/** Whether `name` is an attribute the built-in corpus knows. */
export function isAttribute(name: string): name is Attribute {
  return (attributes as readonly string[]).includes(name);
}

/**
 * The classifier's training points: each sentence's embeddings E[ids] (float32 [length·d]) with the
 * class of `attribute` (its slot value, "absent", or its length in tokens). Sentences whose class is
 * unknown (slots of an unparsable sentence) or whose length exceeds the LM's are left out.
 */
export function classifierPoints(lm: TextLM, sentences: readonly string[], attribute: Attribute): PointSet {
  const { length: L, embedDim: d } = lm.net;
  const E = lm.params.embedding!.ref.dataSync() as Float32Array;
  const labels: number[] = [];
  const kept: number[][] = [];
  for (const s of sentences) {
    const tokens = tokenize(s);
    if (tokens.length > L) continue;
    const y = attributeClass(attribute, tokens);
    if (y < 0) continue;
    labels.push(y);
    kept.push(lm.tokenizer.encode(s, L));
  }
  if (kept.length === 0) throw new DataError(`no training sentence has a known ${attribute}`);
  const points = new Float32Array(kept.length * L * d);
  kept.forEach((ids, k) => ids.forEach((id, l) => points.set(E.subarray(id * d, (id + 1) * d), (k * L + l) * d)));
  return { points, n: kept.length, dim: L * d, shape: [L, d], labels: Int32Array.from(labels) };
}

/** A trained text classifier: its classes' names, the classifier and its (EMA) parameters. */
export interface TextClassifier {
  attribute: Attribute;
  classNames: string[];
  classifier: Classifier;
  params: JsTree<Array>;
}

/** Options of `trainTextClassifier`: the classifier run's (`TextClassifierOptions`) and the trainer's (`TrainOptions`: checkpointing, progress, …). */
export interface TrainTextClassifierOptions extends TextClassifierOptions, TrainOptions {}

/**
 * Train a noise-aware classifier of `attribute` for `lm` on `sentences` (checkpoint in
 * `options.checkpointDir` when given), with the library's trainer.
 */
export function trainTextClassifier(
  lm: TextLM,
  sentences: readonly string[],
  attribute: Attribute,
  options: TrainTextClassifierOptions = {},
): TextClassifier {
  const data = classifierPoints(lm, sentences, attribute);
  const classNames = attributeClasses(attribute, lm.net.length);
  const config = textClassifierConfig(lm.config, { attribute, classNames, train: data.n }, options);
  const { state } = train(config, data, options);
  tree.dispose([state.params, state.adam]);
  return { attribute, classNames, classifier: buildClassifier(config), params: state.ema };
}

/** A text classifier from its checkpoint directory. */
export function loadTextClassifier(dir: string): TextClassifier {
  const { config, classifier, params } = loadClassifier(dir);
  const net = configOf(config.model, transformerKind);
  if (!net?.attribute || !net.classNames)
    throw new DataError(`${dir} does not hold a text classifier (a run with a text model, attribute and class names)`);
  if (!isAttribute(net.attribute)) throw new DataError(`${dir}: unknown attribute "${net.attribute}"`);
  return { attribute: net.attribute, classNames: net.classNames, classifier, params };
}
