/**
 * Noise-aware classifiers p_φ(y | z_t) of partly masked sentences, for guiding a masked language
 * model: trained by the library's trainer (`train`, task "classifier") on the sentences' token ids,
 * z_t drawn by masking them on the LM's schedule at t ~ U(0, 1) (train/objectives/masked.ts).
 */
import { type Array, type JsTree, tree } from "../engine/jax.js";
import { DataError } from "../errors.js";
import type { VocabularyClassifier } from "../models/kind.js";
import { configOf } from "../models/kinds.js";
import { maskedTransformerKind } from "../models/masked-transformer.js";
import { buildMaskedClassifier } from "../train/build.js";
import { loadMaskedClassifier } from "../train/load.js";
import { train } from "../train/trainer.js";
import { isAttribute, type TrainTextClassifierOptions } from "./classifier.js";
import { maskedClassifierConfig } from "./config.js";
import { type Attribute, attributeClasses } from "./grammar.js";
import { type MaskedLM, maskedPoints } from "./masked.js";

/** A trained classifier of masked sentences: its attribute, classes' names, the classifier (with its vocabulary) and its (EMA) parameters. */
export interface MaskedTextClassifier {
  attribute: Attribute;
  classNames: string[];
  classifier: VocabularyClassifier;
  params: JsTree<Array>;
}

/**
 * Train a noise-aware classifier of `attribute` for the masked LM `lm` on `sentences` (those of
 * known class: `maskedPoints`), checkpointed in `options.checkpointDir` when given.
 */
export function trainMaskedClassifier(
  lm: MaskedLM,
  sentences: readonly string[],
  attribute: Attribute,
  options: TrainTextClassifierOptions = {},
): MaskedTextClassifier {
  const data = maskedPoints(lm.tokenizer, sentences, lm.net.length, attribute);
  const classNames = attributeClasses(attribute, lm.net.length);
  const config = maskedClassifierConfig(lm.config, { attribute, classNames, train: data.n }, options);
  const { state } = train(config, data, options);
  tree.dispose([state.params, state.adam]);
  return { attribute, classNames, classifier: buildMaskedClassifier(config), params: state.ema };
}

/** A classifier of masked sentences from its checkpoint directory. */
export function loadMaskedTextClassifier(dir: string): MaskedTextClassifier {
  const { config, network, params } = loadMaskedClassifier(dir);
  const net = configOf(config.model, maskedTransformerKind);
  if (!net?.attribute || !net.classNames)
    throw new DataError(`${dir} does not hold a classifier of masked text (a masked-text classifier run with attribute and class names)`);
  if (!isAttribute(net.attribute)) throw new DataError(`${dir}: unknown attribute "${net.attribute}"`);
  return { attribute: net.attribute, classNames: net.classNames, classifier: network, params };
}
