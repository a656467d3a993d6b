/** A Diffusion-LM run's config (`RunConfig` with a "text" model), a masked-diffusion run's ("masked-text"), and their noise-aware classifiers'. */

import { ConfigError } from "../errors.js";
import { configOf } from "../models/kinds.js";
import { maskedTransformerKind } from "../models/masked-transformer.js";
import type { TextNetConfig } from "../models/transformer.js";
import { transformerKind } from "../models/transformer.js";
import { defaultAdam } from "../train/adam.js";
import { type RunConfig, validateRunConfig } from "../train/config.js";
import type { TextCorpus } from "./data.js";
import { type Attribute, attributeClasses } from "./grammar.js";
import { longestSentence, type Tokenizer } from "./tokenizer.js";

/**
 * The defaults of {@link TextRunOptions}, in one place (the CLI's flag table reads them too). 10,000
 * steps: on text:restaurants the parse rate of 200 samples was 55.5 % after 6,000 steps and 75 % after
 * 10,000.
 */
export const textRunDefaults = {
  steps: 10000,
  batch: 64,
  lr: 3e-3,
  embedDim: 16,
  width: 128,
  layers: 3,
  heads: 4,
  schedule: "sqrt",
  timesteps: 0,
  emaDecay: 0.995,
} as const;

/** What a user may set for a Diffusion-LM run (the rest are defaults: {@link textRunDefaults}). */
export interface TextRunOptions {
  /** training steps (default 10000) */
  steps?: number;
  /** sentences per batch (default 64) */
  batch?: number;
  /** learning rate (default 3e-3, warm-up over 100 steps, cosine decay to a tenth) */
  lr?: number;
  /** word-embedding dimension d (default 16) */
  embedDim?: number;
  /** transformer width (default 128) */
  width?: number;
  /** transformer layers (default 3) */
  layers?: number;
  /** attention heads (default 4) */
  heads?: number;
  /** noise schedule (default "sqrt", Diffusion-LM's) */
  schedule?: string;
  /** T, the chain's steps (default 0: continuous time) */
  timesteps?: number;
  /** tokens per sequence (default: the longest training sentence) */
  length?: number;
  /** the run's seed: initial parameters, batches and noise (default 0) */
  seed?: number;
  /** EMA decay of the parameters (default 0.995) */
  emaDecay?: number;
}

/** A language model run's batch, steps, seed, optimiser (warm-up over min(100, steps/20), cosine decay to a tenth) and checkpoints. */
function lmTraining(o: TextRunOptions): Pick<RunConfig, "batch" | "steps" | "seed" | "adam" | "checkpointEvery"> {
  const steps = o.steps ?? textRunDefaults.steps;
  return {
    batch: o.batch ?? textRunDefaults.batch,
    steps,
    seed: o.seed ?? 0,
    adam: {
      ...defaultAdam,
      lr: o.lr ?? textRunDefaults.lr,
      warmup: Math.min(100, Math.ceil(steps / 20)),
      decay: { kind: "cosine", steps, final: 0.1 },
      emaDecay: o.emaDecay ?? textRunDefaults.emaDecay,
    },
    checkpointEvery: Math.max(100, Math.ceil(steps / 10)),
  };
}

/** The config of a Diffusion-LM run on `corpus` with vocabulary `tokenizer` (target x_0; validated). */
export function textRunConfig(corpus: TextCorpus, tokenizer: Tokenizer, o: TextRunOptions = {}): RunConfig {
  const length = o.length ?? longestSentence(corpus.train);
  if (length < 1) throw new ConfigError("the training sentences are empty");
  const text: TextNetConfig = {
    words: [...tokenizer.words],
    length,
    embedDim: o.embedDim ?? textRunDefaults.embedDim,
    width: o.width ?? textRunDefaults.width,
    layers: o.layers ?? textRunDefaults.layers,
    heads: o.heads ?? textRunDefaults.heads,
    timeEmbedding: 64,
  };
  return validateRunConfig(
    {
      format: "vdm-run-1",
      data: { spec: corpus.spec, dim: length, mean: [0], std: [1], train: corpus.train.length, test: corpus.test.length },
      model: { kind: "text", text },
      target: "x0",
      loss: "simple",
      schedule: o.schedule ?? textRunDefaults.schedule,
      timesteps: o.timesteps ?? textRunDefaults.timesteps,
      ...lmTraining(o),
    } satisfies RunConfig,
    "text run options",
  );
}

/** The training steps of a text classifier run unless {@link TextClassifierOptions} says otherwise. */
export const TEXT_CLASSIFIER_STEPS = 1500;

/** Options of a text classifier run. */
export interface TextClassifierOptions {
  /** training steps (default {@link TEXT_CLASSIFIER_STEPS}) */
  steps?: number;
  /** examples per training step (default 64) */
  batch?: number;
  /** Adam's peak learning rate (default 1e−3) */
  lr?: number;
  /** the transformer's width (default 64) */
  width?: number;
  /** transformer layers (default 2) */
  layers?: number;
  /** the run's seed: initial parameters and batches (default 0) */
  seed?: number;
}

/** What a text classifier run classifies (`textClassifierConfig`): the attribute, its classes and how many training examples there are. */
export interface TextClassifierTask {
  /** the attribute classified, e.g. "food" */
  attribute: string;
  /** the classes' names, in label order */
  classNames: string[];
  /** the number of training examples (recorded in the config's data) */
  train: number;
}

/** A text classifier run's batch, steps, seed, optimiser (warm-up, cosine decay to a tenth, EMA 0.99) and checkpoints. */
function classifierTraining(o: TextClassifierOptions): Pick<RunConfig, "batch" | "steps" | "seed" | "adam" | "checkpointEvery"> {
  const steps = o.steps ?? TEXT_CLASSIFIER_STEPS;
  return {
    batch: o.batch ?? 64,
    steps,
    seed: o.seed ?? 0,
    adam: {
      ...defaultAdam,
      lr: o.lr ?? 1e-3,
      warmup: Math.min(100, Math.ceil(steps / 20)),
      decay: { kind: "cosine", steps, final: 0.1 },
      emaDecay: 0.99,
    },
    checkpointEvery: Math.max(100, Math.ceil(steps / 5)),
  };
}

/**
 * The config of a noise-aware classifier p_φ(y | x_t, t) for `task.attribute` (classes
 * `task.classNames`) of the language model `lm`: the same schedule and timesteps, data = the sentences'
 * embeddings under the LM's (frozen) E, [length, embedDim] per example.
 */
export function textClassifierConfig(lm: RunConfig, task: TextClassifierTask, o: TextClassifierOptions = {}): RunConfig {
  const { attribute, classNames, train } = task;
  const lmNet = configOf(lm.model, transformerKind);
  if (!lmNet || lm.task === "classifier")
    throw new ConfigError("a text classifier is trained for a Diffusion-LM language model (a text denoiser run)");
  const { length, embedDim, words } = lmNet;
  const text: TextNetConfig = {
    words,
    length,
    embedDim,
    width: o.width ?? 64,
    layers: o.layers ?? 2,
    heads: 4,
    timeEmbedding: 64,
    outputs: classNames.length,
    attribute,
    classNames,
  };
  return validateRunConfig(
    {
      format: "vdm-run-1",
      task: "classifier",
      data: { spec: lm.data.spec, dim: length * embedDim, shape: [length, embedDim], mean: [0], std: [1], train, test: 0 },
      model: { kind: "text", text },
      target: "x0",
      loss: "simple",
      schedule: lm.schedule,
      timesteps: lm.timesteps,
      ...classifierTraining(o),
    } satisfies RunConfig,
    "text classifier options",
  );
}

/** The defaults of a masked-diffusion run: Diffusion-LM's size and training ({@link textRunDefaults}), the linear masking schedule, continuous time, label dropout 0.1. */
export const maskedRunDefaults = {
  steps: textRunDefaults.steps,
  batch: textRunDefaults.batch,
  lr: textRunDefaults.lr,
  width: textRunDefaults.width,
  layers: textRunDefaults.layers,
  heads: textRunDefaults.heads,
  schedule: "linear",
  timesteps: 0,
  emaDecay: textRunDefaults.emaDecay,
  cfgDropout: 0.1,
} as const;

/** What a user may set for a masked-diffusion run (the rest are defaults: {@link maskedRunDefaults}). */
export interface MaskedRunOptions extends Omit<TextRunOptions, "embedDim"> {
  /** masking schedule (default "linear": 1 − α = t) */
  schedule?: string;
  /** condition the denoiser on an attribute of the built-in grammar (classifier-free guidance), e.g. "food" (default: none, unconditional) */
  conditional?: Attribute;
  /** probability of dropping a label to "no label" in training (default 0.1; conditional runs only) */
  cfgDropout?: number;
}

/**
 * The config of a masked-diffusion run on `corpus` with vocabulary `tokenizer` (validated): a
 * "masked-text" network of Diffusion-LM's size; a conditional one records its attribute and class
 * names (`attributeClasses`), its labels being each sentence's `attributeClass`.
 */
export function maskedRunConfig(corpus: TextCorpus, tokenizer: Tokenizer, o: MaskedRunOptions = {}): RunConfig {
  const length = o.length ?? longestSentence(corpus.train);
  if (length < 1) throw new ConfigError("the training sentences are empty");
  if (o.cfgDropout !== undefined && !o.conditional) throw new ConfigError("cfgDropout applies to a conditional masked run only");
  const width = o.width ?? maskedRunDefaults.width;
  const classNames = o.conditional ? attributeClasses(o.conditional, length) : undefined;
  const net: TextNetConfig = {
    words: [...tokenizer.words],
    length,
    embedDim: width,
    width,
    layers: o.layers ?? maskedRunDefaults.layers,
    heads: o.heads ?? maskedRunDefaults.heads,
    timeEmbedding: 2,
    ...(o.conditional && classNames ? { classes: classNames.length, attribute: o.conditional, classNames } : {}),
  };
  return validateRunConfig(
    {
      format: "vdm-run-1",
      data: { spec: corpus.spec, dim: length, mean: [0], std: [1], train: corpus.train.length, test: corpus.test.length },
      model: { kind: "masked-text", "masked-text": net },
      target: "x0",
      loss: "elbo",
      schedule: o.schedule ?? maskedRunDefaults.schedule,
      timesteps: o.timesteps ?? maskedRunDefaults.timesteps,
      ...(o.conditional ? { cfgDropout: o.cfgDropout ?? maskedRunDefaults.cfgDropout } : {}),
      ...lmTraining(o),
    } satisfies RunConfig,
    "masked run options",
  );
}

/**
 * The config of a noise-aware classifier p_φ(y | z_t) of `task.attribute` for the masked language
 * model `lm`: the same vocabulary, length and masking schedule; data = the sentences' token ids.
 */
export function maskedClassifierConfig(lm: RunConfig, task: TextClassifierTask, o: TextClassifierOptions = {}): RunConfig {
  const { attribute, classNames, train } = task;
  const lmNet = configOf(lm.model, maskedTransformerKind);
  if (!lmNet || lm.task === "classifier")
    throw new ConfigError("a masked classifier is trained for a masked language model (a masked-text denoiser run)");
  const { length, words } = lmNet;
  const width = o.width ?? 64;
  const net: TextNetConfig = {
    words,
    length,
    embedDim: width,
    width,
    layers: o.layers ?? 2,
    heads: 4,
    timeEmbedding: 2,
    outputs: classNames.length,
    attribute,
    classNames,
  };
  return validateRunConfig(
    {
      format: "vdm-run-1",
      task: "classifier",
      data: { spec: lm.data.spec, dim: length, mean: [0], std: [1], train, test: 0 },
      model: { kind: "masked-text", "masked-text": net },
      target: "x0",
      loss: "elbo",
      schedule: lm.schedule,
      timesteps: lm.timesteps,
      ...classifierTraining(o),
    } satisfies RunConfig,
    "masked classifier options",
  );
}
