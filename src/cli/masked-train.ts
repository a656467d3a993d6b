/**
 * `vdm train --data text:… --process masked`: what the text training command does differently for
 * masked diffusion (text-train.ts runs it): the run's config from the flags, and the report, the
 * held-out bound in metrics.json and the guidance classifiers (DIR/classifier-ATTR).
 */
import { join } from "node:path";
import { type Array, type JsTree, tree } from "../engine/jax.js";
import { writeFileAtomic } from "../io/atomic.js";
import { configOf } from "../models/kinds.js";
import { maskedTransformerKind } from "../models/masked-transformer.js";
import type { TextNetConfig } from "../models/transformer.js";
import { isAttribute } from "../text/classifier.js";
import { maskedRunConfig, maskedRunDefaults } from "../text/config.js";
import type { TextCorpus } from "../text/data.js";
import type { Attribute } from "../text/grammar.js";
import { type MaskedBound, type MaskedLM, maskedBound, maskedLM } from "../text/masked.js";
import { loadMaskedTextClassifier, type MaskedTextClassifier, trainMaskedClassifier } from "../text/masked-classifier.js";
import type { Tokenizer } from "../text/tokenizer.js";
import type { RunConfig } from "../train/config.js";
import { asUsage, refuseGiven, UsageError } from "./args.js";
import type { TrainingFacts } from "./facts.js";
import { loadOrTrainClassifier } from "./text-classifiers.js";

/** Draws of (t, z_t) per held-out sentence in the report's bound. */
export const MASKED_BOUND_DRAWS = 4;

/** The masked-diffusion network of a run (undefined for another). */
export const maskedNetOf = (c: RunConfig) => configOf(c.model, maskedTransformerKind);

/** The attribute a conditional masked LM is conditioned on (undefined: unconditional). */
export function maskedAttribute(net: TextNetConfig): Attribute | undefined {
  return net.attribute !== undefined && isAttribute(net.attribute) && net.classes ? net.attribute : undefined;
}

/** `parse` of a probability flag, a number in [0, 1]. */
export function probabilityFlag(raw: string, name: string): number {
  const p = Number(raw);
  if (raw.trim() === "" || !(p >= 0 && p <= 1)) throw new UsageError(`--${name} must be a probability in [0, 1], got "${raw}"`);
  return p;
}

/** The flags of `vdm train --data text:…` that a masked run reads. */
export interface MaskedTrainFlags {
  steps: number;
  batch: number;
  lr: number;
  width: number;
  layers: number;
  heads: number;
  schedule: string;
  timesteps: number;
  length?: number | undefined;
  seed: number;
  conditional?: Attribute | undefined;
  "cfg-dropout"?: number | undefined;
}

/** A new masked run's config from `vdm train`'s flags (--schedule defaults to "linear" here). */
export function maskedRunConfigOf(
  flags: MaskedTrainFlags,
  given: ReadonlySet<string>,
  corpus: TextCorpus,
  tokenizer: Tokenizer,
): RunConfig {
  refuseGiven(given, ["embed-dim"], "does not apply to --process masked (its tokens enter one-hot; --width sets their embedding)");
  if (flags.conditional && !corpus.builtin && flags.conditional !== "length")
    throw new UsageError(
      `--conditional ${flags.conditional} needs the built-in grammar's parser; a text file's run can be conditioned on length only`,
    );
  const cfgDropout = flags["cfg-dropout"];
  if (cfgDropout !== undefined && !flags.conditional) throw new UsageError("--cfg-dropout applies to a --conditional run only");
  return asUsage(() =>
    maskedRunConfig(corpus, tokenizer, {
      steps: flags.steps,
      batch: flags.batch,
      lr: flags.lr,
      width: flags.width,
      layers: flags.layers,
      heads: flags.heads,
      schedule: given.has("schedule") ? flags.schedule : maskedRunDefaults.schedule,
      timesteps: flags.timesteps,
      ...(flags.length ? { length: flags.length } : {}),
      seed: flags.seed,
      ...(flags.conditional ? { conditional: flags.conditional } : {}),
      ...(cfgDropout !== undefined ? { cfgDropout } : {}),
    }),
  );
}

/** DIR/classifier-ATTR of a masked LM, loaded, or trained (and saved) when missing. */
export function maskedClassifierFor(
  dir: string,
  lm: MaskedLM,
  corpus: TextCorpus,
  attribute: Attribute,
  steps: number,
  quiet: boolean,
): MaskedTextClassifier {
  return loadOrTrainClassifier(dir, corpus, attribute, steps, quiet, loadMaskedTextClassifier, (o) =>
    trainMaskedClassifier(lm, corpus.train, attribute, { ...o, seed: lm.config.seed }),
  );
}

/** The held-out bound as metrics.json records it. */
export interface MaskedBoundFacts {
  natsPerSentence: number;
  seNats: number;
  bitsPerToken: number;
  seBitsPerToken: number;
  length: number;
  sentences: number;
  draws: number;
  timesteps: number;
}

/** What the report of a masked run writes in metrics.json. */
export interface MaskedMetrics extends TrainingFacts {
  data: string;
  process: "masked";
  schedule: string;
  vocabulary: number;
  length: number;
  conditional?: { attribute: string; classNames: string[] };
  bound: MaskedBoundFacts;
  classifierSeconds: Record<string, number>;
}

/**
 * The report of a trained masked run: the bound of its EMA parameters (`ema`, borrowed) on the
 * corpus's held-out sentences (`MASKED_BOUND_DRAWS` draws each, continuous time or the run's T),
 * and a noise-aware classifier per attribute of `classifiers`; writes DIR/metrics.json, returns it.
 */
export function maskedReport(
  out: string,
  config: RunConfig,
  ema: JsTree<Array>,
  corpus: TextCorpus,
  facts: TrainingFacts,
  o: { classifiers: readonly Attribute[]; classifierSteps: number; quiet: boolean },
): MaskedMetrics {
  const lm = maskedLM(config, ema);
  const { net } = lm;
  const bound: MaskedBound = maskedBound(lm, corpus.test, {
    draws: MASKED_BOUND_DRAWS,
    seed: config.seed + 1,
    timesteps: config.timesteps,
  });
  const classifierSeconds: Record<string, number> = {};
  for (const a of o.classifiers) {
    const t0 = performance.now();
    const clf = maskedClassifierFor(out, lm, corpus, a, o.classifierSteps, o.quiet);
    tree.dispose(clf.params);
    classifierSeconds[a] = (performance.now() - t0) / 1000;
  }
  const attribute = maskedAttribute(net);
  const metrics: MaskedMetrics = {
    data: config.data.spec,
    process: "masked",
    schedule: config.schedule,
    vocabulary: net.words.length,
    length: net.length,
    ...(attribute && net.classNames ? { conditional: { attribute, classNames: net.classNames } } : {}),
    ...facts,
    bound: {
      natsPerSentence: bound.mean,
      seNats: bound.se,
      bitsPerToken: bound.bitsPerToken,
      seBitsPerToken: bound.seBitsPerToken,
      length: bound.length,
      sentences: bound.nats.length,
      draws: MASKED_BOUND_DRAWS,
      timesteps: config.timesteps,
    },
    classifierSeconds,
  };
  writeFileAtomic(join(out, "metrics.json"), `${JSON.stringify(metrics, null, 2)}\n`);
  return metrics;
}

/** The bound as one line of the command's output. */
export function maskedBoundLine(b: MaskedBoundFacts): string {
  const time = b.timesteps === 0 ? "continuous time" : `T = ${b.timesteps}`;
  return `held-out bound (${b.sentences} sentences × ${b.draws} draws, ${time}): ${b.natsPerSentence.toFixed(3)} ± ${b.seNats.toFixed(3)} nats/sentence, ${b.bitsPerToken.toFixed(4)} ± ${b.seBitsPerToken.toFixed(4)} bits/token (L = ${b.length})`;
}
