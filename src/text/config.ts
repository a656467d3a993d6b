/** A Diffusion-LM run's config (`RunConfig` with a "text" model), and its noise-aware classifiers'. */

import { ConfigError } from "../errors.js";
import { configOf } from "../models/kinds.js";
import type { TextNetConfig } from "../models/transformer.js";
import { transformerKind } from "../models/transformer.js";
import { defaultAdam } from "../train/adam.js";
import { type RunConfig, validateRunConfig } from "../train/config.js";
import type { TextCorpus } from "./data.js";
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

/** The config of a Diffusion-LM run on `corpus` with vocabulary `tokenizer` (target x_0; validated). */
export function textRunConfig(corpus: TextCorpus, tokenizer: Tokenizer, o: TextRunOptions = {}): RunConfig {
  const length = o.length ?? longestSentence(corpus.train);
  if (length < 1) throw new ConfigError("the training sentences are empty");
  const steps = o.steps ?? textRunDefaults.steps;
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
  const steps = o.steps ?? TEXT_CLASSIFIER_STEPS;
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
    } satisfies RunConfig,
    "text classifier options",
  );
}
