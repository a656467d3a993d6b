/**
 * `vdm train --data text:…` (and `vdm train --out DIR --resume` of a text run): a Diffusion-LM, its
 * guidance classifiers, and a report of 100 samples; with --process masked, masked diffusion, its
 * classifiers and its held-out bound (masked-train.ts).
 */
import { join } from "node:path";
import { Rng } from "../engine/index.js";
import { writeFileAtomic } from "../io/atomic.js";
import { configOf } from "../models/kinds.js";
import { type TextParams, transformerKind } from "../models/transformer.js";
import { onnxStepper } from "../onnx/train.js";
import { maskedRunDefaults, TEXT_CLASSIFIER_STEPS, textRunConfig, textRunDefaults } from "../text/config.js";
import { corpusOf, loadTextCorpus, type TextCorpus, tokenPoints } from "../text/data.js";
import { parseRate } from "../text/eval.js";
import { maskedPoints } from "../text/masked.js";
import { sampleSentences, textLM } from "../text/sample.js";
import { Tokenizer } from "../text/tokenizer.js";
import type { RunConfig } from "../train/config.js";
import { trainAsync } from "../train/trainer.js";
import {
  defineFlags,
  helpText,
  int,
  oneOf,
  optional,
  optionalInt,
  type Parsed,
  parse,
  parseGiven,
  positive,
  refuseGiven,
  UsageError,
} from "./args.js";
import { earlierFacts, trainedSummary, trainingFacts, writeTrainingFacts } from "./facts.js";
import { maskedAttribute, maskedBoundLine, maskedNetOf, maskedReport, maskedRunConfigOf, probabilityFlag } from "./masked-train.js";
import { backendFlags, parseBackend } from "./model.js";
import { Progress } from "./progress.js";
import { checkOut, flagText, interrupted, type ResumeFlag, resumeRun, runFlags, stopOnCtrlC } from "./runs.js";
import { attributeFlag, classifierFor, textSampler, textSamplerFlags } from "./text-sample.js";

/** `vdm train --data text:…`'s flags. */
export const textTrainFlags = defineFlags("Diffusion-LM training (--data text:restaurants or text:FILE, one sentence per line)", {
  data: { value: "text:NAME|text:FILE", help: "the sentences" },
  out: { value: "DIR", help: "where the run goes (required)" },
  steps: { default: textRunDefaults.steps, value: "N", help: "training steps", parse: int({ min: 1 }) },
  batch: { default: textRunDefaults.batch, value: "B", help: "sentences per batch", parse: int({ min: 1 }) },
  lr: { default: textRunDefaults.lr, value: "LR", help: "learning rate (warm-up, cosine decay to a tenth)", parse: positive },
  "embed-dim": { default: textRunDefaults.embedDim, value: "D", help: "word-embedding dimension", parse: int({ min: 1 }) },
  width: { default: textRunDefaults.width, value: "W", help: "transformer width", parse: int({ min: 1 }) },
  layers: { default: textRunDefaults.layers, value: "N", help: "transformer layers", parse: int({ min: 1 }) },
  heads: { default: textRunDefaults.heads, value: "H", help: "attention heads", parse: int({ min: 1 }) },
  schedule: {
    default: textRunDefaults.schedule,
    value: "S",
    help: `noise schedule (sqrt: Diffusion-LM's; any of the library's); masked: a masking schedule, linear or cosine (default ${maskedRunDefaults.schedule})`,
  },
  timesteps: { default: textRunDefaults.timesteps, value: "T", help: "diffusion steps (0 = continuous time)", parse: int({ min: 0 }) },
  length: { value: "L", help: "tokens per sentence (default: the longest training sentence)", parse: optionalInt({ min: 1 }) },
  classifiers: {
    value: "A,B",
    help: 'attributes to train guidance classifiers for, "" for none (default: food for text:restaurants; none for files except length)',
    parse: (raw: string) =>
      raw
        .split(",")
        .filter((a) => a !== "")
        .map(attributeFlag),
  },
  "classifier-steps": { default: TEXT_CLASSIFIER_STEPS, value: "N", help: "steps of each classifier", parse: int({ min: 1 }) },
  process: {
    default: "diffusion-lm",
    value: "P",
    help: "diffusion-lm (Gaussian noise on word embeddings) or masked (tokens replaced by [MASK]; --schedule linear or cosine, default linear)",
    parse: oneOf("diffusion-lm", "masked"),
  },
  conditional: {
    value: "ATTR",
    help: "masked: condition the denoiser on an attribute (classifier-free guidance), e.g. food",
    parse: optional(attributeFlag),
  },
  "cfg-dropout": {
    value: "P",
    help: `masked --conditional: probability of dropping a label to "no label" in training (default ${maskedRunDefaults.cfgDropout})`,
    parse: optional(probabilityFlag),
  },
});

/** --resume, --force and --no-report of `vdm train --data text:…` (a resumed run takes a new learning rate). */
const textRunFlags = runFlags(["lr"]);

const textNetOf = (c: RunConfig) => configOf(c.model, transformerKind);
/** The network of a Diffusion-LM or masked-diffusion run. */
const lmNetOf = (c: RunConfig) => textNetOf(c) ?? maskedNetOf(c);

/** What a resumed Diffusion-LM run checks, flag by flag: the run's value, and for --lr the change. */
const textResumeFlags: Record<string, ResumeFlag<TextTrainFlags>> = {
  data: { of: (c) => c.data.spec },
  seed: { of: (c) => String(c.seed) },
  batch: { of: (c) => String(c.batch) },
  "embed-dim": { of: (c) => flagText(textNetOf(c)?.embedDim) },
  width: { of: (c) => flagText(lmNetOf(c)?.width) },
  layers: { of: (c) => flagText(lmNetOf(c)?.layers) },
  heads: { of: (c) => flagText(lmNetOf(c)?.heads) },
  length: { of: (c) => flagText(lmNetOf(c)?.length) },
  schedule: { of: (c) => c.schedule },
  timesteps: { of: (c) => String(c.timesteps) },
  process: { of: (c) => (maskedNetOf(c) ? "masked" : "diffusion-lm") },
  conditional: { of: (c) => maskedNetOf(c)?.attribute },
  "cfg-dropout": { of: (c) => (c.cfgDropout === undefined ? undefined : String(c.cfgDropout)) },
  lr: { of: (c) => String(c.adam.lr), apply: (c, f) => ({ ...c, adam: { ...c.adam, lr: f.lr } }) },
};

type TextTrainFlags = Parsed<[typeof textTrainFlags, typeof textRunFlags, typeof backendFlags]>;

/** `vdm train --data text:…` (and `vdm train --out DIR --resume` of a text run). */
export async function trainText(argv: string[]): Promise<void> {
  const { values: flags, given, raw } = parseGiven(argv, textTrainFlags, textRunFlags, backendFlags);
  if (flags.help)
    return void console.log(
      helpText(
        "vdm train --data text:restaurants|text:FILE --out DIR [flags]",
        "Trains a Diffusion-LM (continuous diffusion on learned word embeddings, a transformer predicting x_0, the rounding loss) and, for the built-in corpus, a noise-aware classifier per --classifiers attribute, then samples 100 sentences into DIR/samples.txt and metrics.json (--no-report: neither classifiers nor samples). --process masked trains masked diffusion instead (tokens replaced by [MASK], the same transformer on one-hot tokens, optionally --conditional on an attribute) and its report is the held-out bound in metrics.json with the classifiers. The training step runs in ONNX Runtime when it loads (--backend).",
        textTrainFlags,
        textRunFlags,
        backendFlags,
      ),
    );
  if (!flags.out) throw new UsageError("--out DIR is required");
  const claim = checkOut(flags.out, { resume: flags.resume, force: flags.force, kind: "text" });
  let config: RunConfig;
  let corpus: TextCorpus;
  let firstStep = 0;
  const masked = flags.process === "masked";
  // (a resumed run's own process decides: its flag table compares them)
  if (!masked && !flags.resume) refuseGiven(given, ["conditional", "cfg-dropout"], "apply to --process masked only");
  if (flags.resume) {
    const resumed = resumeRun(flags.out, "text", { values: flags, raw }, given, textResumeFlags);
    if (resumed.nothingLeft) return;
    ({ config, done: firstStep } = resumed);
    corpus = corpusOf(config);
  } else {
    const { seed } = flags;
    corpus = loadTextCorpus(flags.data, seed);
    const tokenizer = Tokenizer.fromSentences(corpus.train);
    config = masked
      ? maskedRunConfigOf(flags, given, corpus, tokenizer)
      : textRunConfig(corpus, tokenizer, {
          steps: flags.steps,
          batch: flags.batch,
          lr: flags.lr,
          embedDim: flags["embed-dim"],
          width: flags.width,
          layers: flags.layers,
          heads: flags.heads,
          schedule: flags.schedule,
          timesteps: flags.timesteps,
          ...(flags.length ? { length: flags.length } : {}),
          seed,
        });
  }
  const net = lmNetOf(config);
  if (!net) throw new UsageError(`${flags.out} is not a text run`);
  const isMasked = maskedNetOf(config) !== undefined;
  const tokenizer = new Tokenizer(net.words);
  const wanted = flags["no-report"] ? [] : given.has("classifiers") ? flags.classifiers : corpus.builtin ? (["food"] as const) : [];
  const classifierSteps = flags["classifier-steps"];
  let progress: Progress | undefined; // made at the first step, which a resumed run knows only then
  const backend = parseBackend(flags);
  const earlier = flags.resume ? earlierFacts(flags.out) : {};
  claim();
  const started = performance.now();
  const result = await stopOnCtrlC((signal) =>
    trainAsync(
      config,
      isMasked ? maskedPoints(tokenizer, corpus.train, net.length, maskedAttribute(net)) : tokenPoints(tokenizer, corpus.train, net.length),
      {
        checkpointDir: flags.out,
        resume: flags.resume,
        signal,
        onProgress: (p) => {
          progress ??= new Progress("train", p.steps, p.firstStep, process.stderr, flags.json);
          progress.update(p.step, p.loss);
        },
        ...(backend.onnx ? { makeStepper: onnxStepper(backend.session) } : {}),
      },
    ),
  );
  const seconds = (performance.now() - started) / 1000;
  const facts = trainingFacts(result.state, firstStep, seconds, result.stepsPerSecond, earlier);
  const trained = `trained ${isMasked ? "masked diffusion" : "Diffusion-LM"} on ${config.data.spec} (${corpus.train.length} sentences, ${net.words.length} tokens, length ${net.length}): ${trainedSummary(facts, firstStep, seconds)}`;
  writeTrainingFacts(flags.out, config.data.spec, facts); // kept if the report is skipped or stopped
  if (!result.completed || flags["no-report"]) {
    if (!result.completed) throw interrupted("text", flags.out, result.state.step, config.steps);
    if (flags.json) return void console.log(JSON.stringify({ data: config.data.spec, ...facts }));
    console.log(trained);
    return void console.log(`wrote ${flags.out} (no report: --no-report)`);
  }
  if (isMasked) {
    const metrics = maskedReport(
      flags.out,
      config,
      result.state.ema,
      corpus,
      { ...facts },
      { classifiers: wanted, classifierSteps, quiet: flags.json },
    );
    if (flags.json) return void console.log(JSON.stringify(metrics));
    console.log(trained);
    console.log(maskedBoundLine(metrics.bound));
    return void console.log(`wrote ${flags.out}`);
  }
  const lm = textLM(config, result.state.ema as TextParams);
  const classifierSeconds: Record<string, number> = {};
  for (const a of wanted) {
    const t0 = performance.now();
    classifierFor(flags.out, lm, a, classifierSteps, flags.json);
    classifierSeconds[a] = (performance.now() - t0) / 1000;
  }
  const sentences = sampleSentences(lm, 100, {
    rng: new Rng(config.seed + 1),
    sampler: textSampler(parse([], textSamplerFlags), lm.process)(),
  });
  const metrics = {
    data: config.data.spec,
    vocabulary: net.words.length,
    length: net.length,
    ...facts,
    classifierSeconds,
    ...(corpus.builtin ? { parseRate: parseRate(sentences) } : {}),
    samples: sentences.slice(0, 12),
  };
  writeFileAtomic(join(flags.out, "metrics.json"), `${JSON.stringify(metrics, null, 2)}\n`);
  writeFileAtomic(join(flags.out, "samples.txt"), `${sentences.join("\n")}\n`);
  if (flags.json) return void console.log(JSON.stringify(metrics));
  console.log(trained);
  if (metrics.parseRate !== undefined)
    console.log(`parse rate of 100 samples (DDIM, 50 levels, clamping): ${metrics.parseRate.toFixed(2)}`);
  for (const s of sentences.slice(0, 5)) console.log(`  ${s}`);
  console.log(`wrote ${flags.out}`);
}
