/**
 * Sampling a Diffusion-LM on the command line: `vdm sample --model M` of a text run (`sampleText`), and
 * what `vdm train --data text:…` and `vdm eval-text` share with it (the text sampler flags, the corpus
 * of a run, its guidance classifiers).
 */
import { extname } from "node:path";
import type { DiffusionProcess } from "../diffusion/process.js";
import { Rng } from "../engine/index.js";
import { writeFileAtomic } from "../io/atomic.js";
import { samplerDefaults } from "../sample/options.js";
import type { Sampler } from "../sample/sampler.js";
import { isAttribute, loadTextClassifier, type TextClassifier, trainTextClassifier } from "../text/classifier.js";
import { TEXT_CLASSIFIER_STEPS } from "../text/config.js";
import { corpusOf } from "../text/data.js";
import { type Attribute, attributeValue } from "../text/grammar.js";
import { infillPattern, repeatRows } from "../text/infill.js";
import { maskedControlDefaults } from "../text/masked-sample.js";
import { loadTextLM, sampleSentences, type TextControl, type TextLM, textControlDefaults, textSamplerDefaults } from "../text/sample.js";
import { defineFlags, helpText, int, nonNegative, type parse, parseGiven, UsageError } from "./args.js";
import { isMaskedRun, sampleMaskedSentences } from "./masked-sample.js";
import { checkOutFile } from "./runs.js";
import { makeSampler, samplerFlags } from "./samplers.js";
import { loadOrTrainClassifier } from "./text-classifiers.js";

/** The sampler flags with the text default (textSamplerDefaults) for --sampler, and its number of levels. */
export const textSamplerFlags = defineFlags(
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

/** `vdm sample`'s flags for a text model. */
export const textSampleFlags = defineFlags("Diffusion-LM sampling (--model DIR of a text run)", {
  model: { value: "DIR", help: "the text run" },
  n: { default: "20", value: "K", help: "the number of sentences", parse: int({ min: 1 }) },
  control: {
    value: "ATTR=VALUE",
    help: "classifier guidance towards a value: food=Italian, price=cheap, area=riverside, rating=5, name=Cotto, length=12",
  },
  scale: {
    default: textControlDefaults.scale,
    value: "S",
    help: `the classifier-guidance scale (masked runs: default ${maskedControlDefaults.scale})`,
    parse: nonNegative,
  },
  guidance: {
    value: "cfg|classifier",
    help: "masked runs: how --control steers, classifier-free guidance (--cfg w) or the noise-aware classifier (--scale S) (default: cfg when the run is --conditional on the attribute, else classifier)",
  },
  cfg: {
    default: maskedControlDefaults.weight,
    value: "w",
    help: "masked runs: the classifier-free guidance weight w, (1 + w) log p(x|z, y) − w log p(x|z)",
    parse: nonNegative,
  },
  fluency: {
    default: textControlDefaults.fluency,
    value: "λ",
    help: "the fluency term's weight (the model's own log-probability of its rounding)",
    parse: nonNegative,
  },
  infill: { value: "PATTERN", help: 'fixed words and blanks, e.g. "Cotto is an _ _ restaurant rated 5 out of 5." (_ = generate)' },
  "no-clamp": { type: "boolean", help: "do not snap x̂_0 to the nearest word embedding at each step" },
  out: { value: "FILE", help: "also write the sentences to FILE (.txt: one per line; .json)" },
});

/** The flag tables `vdm sample` of a text run parses. */
export const textSampleFlagTables = [textSampleFlags, textSamplerFlags] as const;

type SamplerFlagValues = Parameters<typeof makeSampler>[0];

/**
 * The samplers of a text model as textSamplerFlags ask (textSamplerDefaults.steps levels for
 * textSamplerDefaults.sampler unless --sample-steps says otherwise). One is built at once, so that a bad
 * flag fails before any work.
 */
export function textSampler(flags: SamplerFlagValues, process: DiffusionProcess): () => Sampler {
  const steps = flags["sample-steps"] || (flags.sampler === textSamplerDefaults.sampler ? String(textSamplerDefaults.steps) : "");
  const make = () => makeSampler({ ...flags, "sample-steps": steps }, { process, normalization: { mean: [0], std: [1] } });
  make();
  return make;
}

/** DIR/classifier-ATTR of a Diffusion-LM, loaded, or trained (and saved) when missing. */
export function classifierFor(dir: string, lm: TextLM, attribute: Attribute, steps: number, quiet: boolean): TextClassifier {
  const corpus = corpusOf(lm.config);
  return loadOrTrainClassifier(dir, corpus, attribute, steps, quiet, loadTextClassifier, (o) =>
    trainTextClassifier(lm, corpus.train, attribute, { ...o, seed: lm.config.seed }),
  );
}

/** --attribute (or --control's ATTR): one of the grammar's attributes. */
export function attributeFlag(raw: string): Attribute {
  if (!isAttribute(raw)) throw new UsageError(`unknown attribute "${raw}" (known: food, price, area, rating, name, length)`);
  return raw;
}

/** `vdm sample --model DIR` for a text run: sentences on stdout (one per line, or JSON). */
export function sampleText(argv: string[]): void {
  const { values: flags, given } = parseGiven(argv, ...textSampleFlagTables);
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
  const sentences = isMaskedRun(flags.model)
    ? sampleMaskedSentences(flags, given, (lm) => (flags.control ? controlTarget(flags.control, lm.net.length) : undefined))
    : diffusionLMSentences(flags);
  if (flags.out) writeFileAtomic(flags.out, format === ".json" ? `${JSON.stringify(sentences)}\n` : `${sentences.join("\n")}\n`);
  if (flags.json) return void console.log(JSON.stringify({ samples: sentences }));
  for (const s of sentences) console.log(s);
}

/** --control ATTR=VALUE: the attribute and the class of the value. */
function controlTarget(raw: string, length: number): { attribute: Attribute; label: number } {
  const [name, value] = raw.split("=");
  if (!name || value === undefined) throw new UsageError(`--control must be ATTR=VALUE, got "${raw}"`);
  const attribute = attributeFlag(name);
  try {
    return { attribute, label: attributeValue(attribute, value, length) };
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** Sentences of a Diffusion-LM run (`vdm sample --model DIR`). */
function diffusionLMSentences(flags: ReturnType<typeof parse<typeof textSampleFlagTables>>): string[] {
  if (flags.guidance) throw new UsageError("--guidance applies to masked runs; a Diffusion-LM is steered by its classifier");
  const lm = loadTextLM(flags.model);
  const { n } = flags;
  const seed = flags.seed;
  const { scale, fluency } = flags;
  const sampler = textSampler(flags, lm.process)();
  const infill = flags.infill ? repeatRows(infillPattern(lm.tokenizer, flags.infill, lm.net.length), n) : undefined;
  let control: TextControl | undefined;
  if (flags.control) {
    const { attribute, label } = controlTarget(flags.control, lm.net.length);
    const clf = classifierFor(flags.model, lm, attribute, TEXT_CLASSIFIER_STEPS, flags.json);
    control = { classifier: clf.classifier, params: clf.params, label, scale, fluency };
  }
  return sampleSentences(lm, n, {
    rng: new Rng(seed),
    sampler,
    clamp: !flags["no-clamp"],
    ...(control ? { control } : {}),
    ...(infill ? { infill } : {}),
  });
}
