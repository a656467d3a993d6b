/**
 * Diffusion-LM on the command line: `vdm train --data text:…` (`trainText`), `vdm sample --model M`
 * for a text model (`sampleText`) and `vdm eval-text` (this module's command).
 */
import { existsSync } from "node:fs";
import { extname, join } from "node:path";
import type { DiffusionProcess } from "../../diffusion/process.js";
import { Rng } from "../../engine/index.js";
import { writeFileAtomic } from "../../io/atomic.js";
import { onnxStepper } from "../../onnx/train.js";
import { samplerDefaults } from "../../sample/options.js";
import type { Sampler } from "../../sample/sampler.js";
import { isAttribute, loadTextClassifier, type TextClassifier, trainTextClassifier } from "../../text/classifier.js";
import { TEXT_CLASSIFIER_STEPS, textRunConfig, textRunDefaults } from "../../text/config.js";
import { loadTextCorpus, type TextCorpus, tokenPoints } from "../../text/data.js";
import { parseRate } from "../../text/eval.js";
import { evaluateText } from "../../text/evaluate.js";
import { type Attribute, attributeValue } from "../../text/grammar.js";
import { infillPattern, repeatRows } from "../../text/infill.js";
import type { TextParams } from "../../text/model.js";
import { loadTextLM, sampleSentences, type TextLM, textLM, textSamplerDefaults } from "../../text/sample.js";
import { Tokenizer } from "../../text/tokenizer.js";
import type { RunConfig } from "../../train/config.js";
import { trainAsync } from "../../train/trainer.js";
import { defineFlags, helpText, intFlag, num, parse, parseGiven, UsageError } from "../args.js";
import { backendFlags, parseBackend } from "../model.js";
import { formatSeconds, Progress } from "../progress.js";
import {
  checkOut,
  checkOutFile,
  earlierFacts,
  flagText,
  interrupted,
  kindIn,
  type ResumeFlag,
  resumeRun,
  runFlags,
  stopOnCtrlC,
  trainedSummary,
  trainingFacts,
  writeTrainingFacts,
} from "../runs.js";
import { makeSampler, samplerFlags } from "../samplers.js";

/** The sampler flags with the text default (textSamplerDefaults) for --sampler, and its number of levels. */
const textSamplerFlags = defineFlags(
  samplerFlags.title,
  {
    ...samplerFlags.specs,
    sampler: { ...samplerFlags.specs.sampler, default: textSamplerDefaults.sampler },
    "sample-steps": {
      ...samplerFlags.specs["sample-steps"],
      help: `the number of levels N (default: ${textSamplerDefaults.steps} for ${textSamplerDefaults.sampler}; other samplers as for 2-D and image models: ${samplerDefaults.steps} for the ODE samplers, the whole chain for ancestral and pc)`,
    },
  },
  samplerFlags.note,
);

/** What --out of a text model's samples may be: one sentence per line, or a JSON array. */
const TEXT_OUT = [".txt", ".json"];
/** The default classifier-guidance scale S and fluency weight λ (measured: see the README). */
export const DEFAULT_TEXT_SCALE = 3;
export const DEFAULT_TEXT_FLUENCY = 0;

/** `vdm train --data text:…`'s flags. */
export const textTrainFlags = defineFlags("Diffusion-LM training (--data text:restaurants or text:FILE, one sentence per line)", {
  data: { value: "text:NAME|text:FILE", help: "the sentences" },
  out: { value: "DIR", help: "where the run goes (required)" },
  steps: { default: String(textRunDefaults.steps), value: "N", help: "training steps" },
  batch: { default: String(textRunDefaults.batch), value: "B", help: "sentences per batch" },
  lr: { default: String(textRunDefaults.lr), value: "LR", help: "learning rate (warm-up, cosine decay to a tenth)" },
  "embed-dim": { default: String(textRunDefaults.embedDim), value: "D", help: "word-embedding dimension" },
  width: { default: String(textRunDefaults.width), value: "W", help: "transformer width" },
  layers: { default: String(textRunDefaults.layers), value: "N", help: "transformer layers" },
  heads: { default: String(textRunDefaults.heads), value: "H", help: "attention heads" },
  schedule: { default: textRunDefaults.schedule, value: "S", help: "noise schedule (sqrt: Diffusion-LM's; any of the library's)" },
  timesteps: { default: String(textRunDefaults.timesteps), value: "T", help: "diffusion steps (0 = continuous time)" },
  length: { value: "L", help: "tokens per sentence (default: the longest training sentence)" },
  classifiers: {
    value: "A,B",
    help: 'attributes to train guidance classifiers for, "" for none (default: food for text:restaurants; none for files except length)',
  },
  "classifier-steps": { default: String(TEXT_CLASSIFIER_STEPS), value: "N", help: "steps of each classifier" },
});

/** --resume, --force and --no-report of `vdm train --data text:…` (a resumed run takes a new learning rate). */
const textRunFlags = runFlags(["lr"]);

const textNetOf = (c: RunConfig) => (c.model.kind === "text" ? c.model.text : undefined);

/** What a resumed Diffusion-LM run checks, flag by flag: the run's value, and for --lr the change. */
const textResumeFlags: Record<string, ResumeFlag> = {
  data: { of: (c) => c.data.spec },
  seed: { of: (c) => String(c.seed) },
  batch: { of: (c) => String(c.batch) },
  "embed-dim": { of: (c) => flagText(textNetOf(c)?.embedDim) },
  width: { of: (c) => flagText(textNetOf(c)?.width) },
  layers: { of: (c) => flagText(textNetOf(c)?.layers) },
  heads: { of: (c) => flagText(textNetOf(c)?.heads) },
  length: { of: (c) => flagText(textNetOf(c)?.length) },
  schedule: { of: (c) => c.schedule },
  timesteps: { of: (c) => String(c.timesteps) },
  lr: { of: (c) => String(c.adam.lr), apply: (c, raw) => ({ ...c, adam: { ...c.adam, lr: num("lr", raw) } }) },
};

/** `vdm sample`'s flags for a text model. */
export const textSampleFlags = defineFlags("Diffusion-LM sampling (--model DIR of a text run)", {
  model: { value: "DIR", help: "the text run" },
  n: { default: "20", value: "K", help: "the number of sentences" },
  control: {
    value: "ATTR=VALUE",
    help: "classifier guidance towards a value: food=Italian, price=cheap, area=riverside, rating=5, name=Cotto, length=12",
  },
  scale: { default: String(DEFAULT_TEXT_SCALE), value: "S", help: "the classifier-guidance scale" },
  fluency: {
    default: String(DEFAULT_TEXT_FLUENCY),
    value: "λ",
    help: "the fluency term's weight (the model's own log-probability of its rounding)",
  },
  infill: { value: "PATTERN", help: 'fixed words and blanks, e.g. "Cotto is an _ _ restaurant rated 5 out of 5." (_ = generate)' },
  "no-clamp": { type: "boolean", help: "do not snap x̂_0 to the nearest word embedding at each step" },
  out: { value: "FILE", help: "also write the sentences to FILE (.txt: one per line; .json)" },
});

/** The flag tables `vdm sample` of a text run parses. */
export const textSampleFlagTables = [textSampleFlags, textSamplerFlags] as const;

/** `vdm eval-text`'s own flags. */
const evalTextFlags = defineFlags("Flags", {
  model: { value: "DIR", help: "the text run (trained on text:restaurants)" },
  n: { default: "200", value: "K", help: "samples per measurement" },
  attribute: { default: "food", value: "A", help: "the controlled attribute (its classifier is DIR/classifier-A, trained if missing)" },
  scale: { default: String(DEFAULT_TEXT_SCALE), value: "S", help: "the classifier-guidance scale" },
  fluency: { default: String(DEFAULT_TEXT_FLUENCY), value: "λ", help: "the fluency term's weight" },
  "infill-keep": { default: "0.5", value: "P", help: "the share of held-out positions fixed for infilling (0: none)" },
  "no-clamp": { type: "boolean", help: "do not clamp" },
});

/** The flag tables `vdm eval-text` parses, in the order its help lists them. */
export const flagTables = [evalTextFlags, textSamplerFlags] as const;

/** One line for `vdm --help`. */
export const summary = "evaluate a Diffusion-LM run on the built-in grammar: parse rate, control, infilling, diversity";

export const help = helpText(
  `vdm eval-text --model DIR [--n K] [--attribute food] [--scale S] [--fluency λ] [--sampler NAME ...]`,
  `Samples a text run (default: ${textSamplerDefaults.sampler} on ${textSamplerDefaults.steps} levels, with clamping) and reports, under the built-in grammar's
exact parser: the share of samples that parse, distinct-1/2/3, the share copied verbatim from the
training sentences, control success (the share that parse and state the target value; targets cycle
over the attribute's values) without and with classifier guidance, and infilling of held-out
sentences with a share of their positions fixed (success: parses and keeps every fixed word).`,
  ...flagTables,
);

type SamplerFlagValues = Parameters<typeof makeSampler>[0];

/**
 * The samplers of a text model as textSamplerFlags ask (textSamplerDefaults.steps levels for
 * textSamplerDefaults.sampler unless --sample-steps says otherwise). One is built at once, so that a bad
 * flag fails before any work.
 */
function textSampler(flags: SamplerFlagValues, process: DiffusionProcess): () => Sampler {
  const steps = flags["sample-steps"] || (flags.sampler === textSamplerDefaults.sampler ? String(textSamplerDefaults.steps) : "");
  const make = () => makeSampler({ ...flags, "sample-steps": steps }, { process, normalization: { mean: [0], std: [1] } });
  make();
  return make;
}

/** The corpus a text run was trained on (regenerated from its config). */
function corpusOf(config: RunConfig): TextCorpus {
  return loadTextCorpus(config.data.spec, config.seed, { train: config.data.train, test: config.data.test });
}

/** DIR/classifier-ATTR, loaded, or trained (and saved) when missing. */
function classifierFor(dir: string, lm: TextLM, attribute: Attribute, steps: number, quiet: boolean): TextClassifier {
  const path = join(dir, `classifier-${attribute}`);
  if (existsSync(join(path, "config.json"))) return loadTextClassifier(path);
  const corpus = corpusOf(lm.config);
  if (!corpus.builtin && attribute !== "length")
    throw new UsageError(`the ${attribute} attribute needs the built-in grammar's parser; a text file's run can be steered by length only`);
  if (!quiet)
    console.error(
      `steering by ${attribute} needs a noise-aware ${attribute} classifier, which ${dir} does not have yet: training one now (${steps} steps; kept in ${path} for later runs)`,
    );
  const progress = new Progress(`classifier ${attribute}`, steps, 0, process.stderr, quiet);
  const started = performance.now();
  const clf = trainTextClassifier(lm, corpus.train, attribute, {
    steps,
    seed: lm.config.seed,
    checkpointDir: path,
    onProgress: (p) => progress.update(p.step, p.loss),
  });
  if (!quiet) console.error(`trained the ${attribute} classifier in ${formatSeconds((performance.now() - started) / 1000)} → ${path}`);
  return clf;
}

function attributeFlag(raw: string): Attribute {
  if (!isAttribute(raw)) throw new UsageError(`unknown attribute "${raw}" (known: food, price, area, rating, name, length)`);
  return raw;
}

/** `vdm train --data text:…` (and `vdm train --out DIR --resume` of a text run). */
export async function trainText(argv: string[]): Promise<void> {
  const { values: flags, given } = parseGiven(argv, textTrainFlags, textRunFlags, backendFlags);
  if (flags.help)
    return void console.log(
      helpText(
        "vdm train --data text:restaurants|text:FILE --out DIR [flags]",
        "Trains a Diffusion-LM (continuous diffusion on learned word embeddings, a transformer predicting x_0, the rounding loss) and, for the built-in corpus, a noise-aware classifier per --classifiers attribute, then samples 100 sentences into DIR/samples.txt and metrics.json (--no-report: neither classifiers nor samples). The training step runs in ONNX Runtime when it loads (--backend).",
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
  if (flags.resume) {
    const resumed = resumeRun(flags.out, "text", flags, given, textResumeFlags);
    if (resumed.nothingLeft) return;
    ({ config, done: firstStep } = resumed);
    corpus = corpusOf(config);
  } else {
    const seed = intFlag("seed", flags.seed, { min: 0 });
    corpus = loadTextCorpus(flags.data, seed);
    const tokenizer = Tokenizer.fromSentences(corpus.train);
    config = textRunConfig(corpus, tokenizer, {
      steps: intFlag("steps", flags.steps, { min: 1 }),
      batch: intFlag("batch", flags.batch, { min: 1 }),
      lr: num("lr", flags.lr),
      embedDim: intFlag("embed-dim", flags["embed-dim"], { min: 1 }),
      width: intFlag("width", flags.width, { min: 1 }),
      layers: intFlag("layers", flags.layers, { min: 1 }),
      heads: intFlag("heads", flags.heads, { min: 1 }),
      schedule: flags.schedule,
      timesteps: intFlag("timesteps", flags.timesteps, { min: 0 }),
      ...(flags.length ? { length: intFlag("length", flags.length, { min: 1 }) } : {}),
      seed,
    });
  }
  if (config.model.kind !== "text") throw new UsageError(`${flags.out} is not a text run`);
  const net = config.model.text;
  const tokenizer = new Tokenizer(net.words);
  const wanted = flags["no-report"]
    ? []
    : given.has("classifiers")
      ? flags.classifiers
          .split(",")
          .filter((a) => a !== "")
          .map(attributeFlag)
      : corpus.builtin
        ? (["food"] as const)
        : [];
  const classifierSteps = intFlag("classifier-steps", flags["classifier-steps"], { min: 1 });
  let progress: Progress | undefined; // made at the first step, which a resumed run knows only then
  const backend = parseBackend(flags);
  const earlier = flags.resume ? earlierFacts(flags.out) : {};
  claim();
  const started = performance.now();
  const result = await stopOnCtrlC((signal) =>
    trainAsync(config, tokenPoints(tokenizer, corpus.train, net.length), {
      checkpointDir: flags.out,
      resume: flags.resume,
      signal,
      onProgress: (p) => {
        progress ??= new Progress("train", p.steps, p.firstStep, process.stderr, flags.json);
        progress.update(p.step, p.loss);
      },
      ...(backend.onnx ? { makeStepper: onnxStepper(backend.session) } : {}),
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const facts = trainingFacts(result.state, firstStep, seconds, result.stepsPerSecond, earlier);
  const trained = `trained Diffusion-LM on ${config.data.spec} (${corpus.train.length} sentences, ${net.words.length} tokens, length ${net.length}): ${trainedSummary(facts, firstStep, seconds)}`;
  writeTrainingFacts(flags.out, config.data.spec, facts); // kept if the report is skipped or stopped
  if (!result.completed || flags["no-report"]) {
    if (!result.completed) throw interrupted("text", flags.out, result.state.step, config.steps);
    if (flags.json) return void console.log(JSON.stringify({ data: config.data.spec, ...facts }));
    console.log(trained);
    return void console.log(`wrote ${flags.out} (no report: --no-report)`);
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

/** Whether a checkpoint directory holds a text run. */
export function isTextRun(dir: string): boolean {
  return kindIn(dir) === "text";
}

/** `vdm sample --model DIR` for a text run: sentences on stdout (one per line, or JSON). */
export function sampleText(argv: string[]): void {
  const flags = parse(argv, ...textSampleFlagTables);
  if (flags.help)
    return void console.log(
      helpText(
        "vdm sample --model DIR [--n K] [--control ATTR=VALUE --scale S --fluency λ] [--infill PATTERN] [--sampler NAME ...] [--out FILE.txt|FILE.json]",
        "Sentences from a Diffusion-LM run.",
        textSampleFlags,
        textSamplerFlags,
      ),
    );
  if (!flags.model) throw new UsageError("--model DIR is required");
  const format = extname(flags.out).toLowerCase();
  if (flags.out && !TEXT_OUT.includes(format))
    throw new UsageError(
      `--out of a text run's samples must end in ${TEXT_OUT.join(" or ")} (sentences, not pictures or arrays), got "${flags.out}"`,
    );
  if (flags.out) checkOutFile(flags.out);
  const lm = loadTextLM(flags.model);
  const n = intFlag("n", flags.n, { min: 1 });
  const seed = intFlag("seed", flags.seed, { min: 0 });
  const scale = num("scale", flags.scale, false);
  const fluency = num("fluency", flags.fluency, false);
  const sampler = textSampler(flags, lm.process)();
  const infill = flags.infill ? repeatRows(infillPattern(lm.tokenizer, flags.infill, lm.net.length), n) : undefined;
  let control;
  if (flags.control) {
    const [name, value] = flags.control.split("=");
    if (!name || value === undefined) throw new UsageError(`--control must be ATTR=VALUE, got "${flags.control}"`);
    const attribute = attributeFlag(name);
    let label: number;
    try {
      label = attributeValue(attribute, value, lm.net.length);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const clf = classifierFor(flags.model, lm, attribute, TEXT_CLASSIFIER_STEPS, flags.json);
    control = { classifier: clf.classifier, params: clf.params, label, scale, fluency };
  }
  const sentences = sampleSentences(lm, n, {
    rng: new Rng(seed),
    sampler,
    clamp: !flags["no-clamp"],
    ...(control ? { control } : {}),
    ...(infill ? { infill } : {}),
  });
  if (flags.out) writeFileAtomic(flags.out, format === ".json" ? `${JSON.stringify(sentences)}\n` : `${sentences.join("\n")}\n`);
  if (flags.json) return void console.log(JSON.stringify({ samples: sentences }));
  for (const s of sentences) console.log(s);
}

export function run(argv: string[]): void {
  const flags = parse(argv, ...flagTables);
  if (flags.help) return void console.log(help);
  if (!flags.model) throw new UsageError("--model DIR is required");
  if (existsSync(join(flags.model, "config.json")) && !isTextRun(flags.model))
    throw new UsageError(
      `${flags.model} is not a Diffusion-LM (text) run; eval-text measures text runs (vdm train --data text:restaurants). For 2-D and image models: vdm eval --model ${flags.model}`,
    );
  const lm = loadTextLM(flags.model);
  const corpus = corpusOf(lm.config);
  if (!corpus.builtin)
    throw new UsageError(`eval-text measures parse rates with the built-in grammar; ${flags.model} was trained on ${lm.config.data.spec}`);
  const attribute = attributeFlag(flags.attribute);
  const n = intFlag("n", flags.n, { min: 1 });
  const seed = intFlag("seed", flags.seed, { min: 0 });
  const scale = num("scale", flags.scale, false);
  const fluency = num("fluency", flags.fluency, false);
  const infillKeep = num("infill-keep", flags["infill-keep"], false);
  if (infillKeep > 1) throw new UsageError(`--infill-keep is a share of the positions, in [0, 1], got "${flags["infill-keep"]}"`);
  const samplers = textSampler(flags, lm.process);
  const classifier = classifierFor(flags.model, lm, attribute, TEXT_CLASSIFIER_STEPS, flags.json);
  const started = performance.now();
  const report = evaluateText(lm, corpus, samplers, {
    n,
    seed,
    clamp: !flags["no-clamp"],
    control: { classifier, scale, fluency },
    infillKeep,
  });
  const seconds = (performance.now() - started) / 1000;
  if (flags.json) return void console.log(JSON.stringify({ ...report, seconds }));
  const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
  console.log(`${report.n} samples of ${flags.model} (${formatSeconds(seconds)}):`);
  console.log(
    `  parse rate ${pct(report.parseRate)}; distinct-1/2/3 ${report.distinct[1].toFixed(3)}/${report.distinct[2].toFixed(3)}/${report.distinct[3].toFixed(3)}; copied from training ${pct(report.copyRate)}`,
  );
  if (report.control) {
    const c = report.control;
    console.log(
      `  control ${c.attribute}: ${pct(c.unguided)} unguided, ${pct(c.guided)} guided (scale ${c.scale}, fluency ${c.fluency}; guided parse rate ${pct(c.guidedParseRate)})`,
    );
  }
  if (report.infill)
    console.log(
      `  infilling (${pct(report.infill.keep)} of positions fixed): ${pct(report.infill.success)} parse and keep every fixed word`,
    );
  for (const s of report.examples) console.log(`    ${s}`);
}

/** The value of `--name V` or `--name=V` in argv (undefined when absent): how train/sample see a text run before parsing their own flags. */
export function flagValue(argv: readonly string[], name: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === `--${name}`) return argv[i + 1];
    if (a.startsWith(`--${name}=`)) return a.slice(name.length + 3);
  }
  return undefined;
}
