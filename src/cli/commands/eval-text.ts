/**
 * `vdm eval-text`: a text run on the built-in grammar, Diffusion-LM or masked diffusion alike: its
 * likelihood bound beside the grammar's exact entropy, parse rate, control, infilling, diversity,
 * copy rate and samples per second.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { diffusionLMBound } from "../../text/bound.js";
import { TEXT_CLASSIFIER_STEPS } from "../../text/config.js";
import { corpusOf, type TextCorpus } from "../../text/data.js";
import { bitsPerPosition, expectedCopyRate, grammarEntropy } from "../../text/entropy.js";
import { evaluateText, type TextSource, type TextSteering } from "../../text/evaluate.js";
import type { Attribute } from "../../text/grammar.js";
import { loadMaskedLM, maskedBound } from "../../text/masked.js";
import { maskedControlDefaults, maskedSource, maskedSteering, maskedTextSamplerDefaults } from "../../text/masked-sample.js";
import { classifierSteering, diffusionLMSource, loadTextLM, textControlDefaults, textSamplerDefaults } from "../../text/sample.js";
import { defineFlags, helpText, int, nonNegative, parseGiven, UsageError } from "../args.js";
import { isMaskedRun, maskedControlOf, maskedSamplerOf } from "../masked-sample.js";
import { maskedAttribute } from "../masked-train.js";
import { formatSeconds } from "../progress.js";
import { isTextRun } from "../runs.js";
import { attributeFlag, classifierFor, textSampler, textSamplerFlags } from "../text-sample.js";

/** `vdm eval-text`'s own flags. */
const evalTextFlags = defineFlags("Flags", {
  model: { value: "DIR", help: "the text run (trained on text:restaurants)" },
  n: { default: "200", value: "K", help: "samples per measurement", parse: int({ min: 1 }) },
  attribute: { default: "food", value: "A", help: "the controlled attribute (its classifier is DIR/classifier-A, trained if missing)" },
  scale: {
    default: textControlDefaults.scale,
    value: "S",
    help: `the classifier-guidance scale (masked runs: default ${maskedControlDefaults.scale})`,
    parse: nonNegative,
  },
  cfg: {
    default: maskedControlDefaults.weight,
    value: "w",
    help: "masked runs conditional on the attribute: the classifier-free guidance weight (measured beside classifier guidance)",
    parse: nonNegative,
  },
  fluency: { default: textControlDefaults.fluency, value: "λ", help: "Diffusion-LM: the fluency term's weight", parse: nonNegative },
  "infill-keep": { default: "0.5", value: "P", help: "the share of held-out positions fixed for infilling (0: none)", parse: nonNegative },
  "no-clamp": { type: "boolean", help: "Diffusion-LM: do not clamp" },
  draws: { default: "8", value: "K", help: "draws per held-out sentence in the likelihood bound", parse: int({ min: 1 }) },
  "bound-timesteps": {
    default: "0",
    value: "T,T",
    help: "masked runs: also the discrete-time bound with these T (0 = continuous time only)",
    parse: (raw: string) => raw.split(",").map((t) => Number(t)),
  },
});

/** The flag tables `vdm eval-text` parses, in the order its help lists them. */
export const flagTables = [evalTextFlags, textSamplerFlags] as const;

/** One line for `vdm --help`. */
export const summary = "evaluate a text run on the built-in grammar: bound vs exact entropy, parse rate, control, infilling, diversity";

export const help = helpText(
  `vdm eval-text --model DIR [--n K] [--attribute food] [--scale S] [--cfg w] [--sampler NAME ...]`,
  `Evaluates a text run (Diffusion-LM or masked diffusion) under the built-in grammar: its likelihood
bound on the held-out sentences in bits per token (of the padded length) beside the grammar's exact
entropy; and from samples (Diffusion-LM: ${textSamplerDefaults.sampler} on ${textSamplerDefaults.steps} levels with clamping; masked: ${maskedTextSamplerDefaults.sampler} on ${maskedTextSamplerDefaults.steps}
steps, with caching), under the exact parser: the share that parse, distinct-1/2/3, the share copied
verbatim from the training sentences (beside what a perfect model would copy), samples per second,
control success (the share that parse and state the target value; targets cycle over the
attribute's values) unguided and with each way of steering (classifier guidance; for a masked run
conditional on the attribute, classifier-free guidance too), and infilling of held-out sentences
with a share of their positions fixed (success: parses and keeps every fixed word).`,
  ...flagTables,
);

type Flags = ReturnType<typeof parseGiven<typeof flagTables>>["values"];

/** A run as eval-text measures it: how it samples and steers, and its bound (nats per sentence, with SE, and extra facts). */
interface Measured {
  process: "diffusion-lm" | "masked";
  corpus: TextCorpus;
  length: number;
  source: TextSource;
  steering: TextSteering[];
  sampler: string;
  bound: () => { nats: number; se: number; extra: Record<string, unknown> };
}

function diffusionLM(flags: Flags, attribute: Attribute): Measured {
  const lm = loadTextLM(flags.model);
  const corpus = corpusOf(lm.config);
  const samplers = textSampler(flags, lm.process);
  const clamp = !flags["no-clamp"];
  const clf = classifierFor(flags.model, lm, attribute, TEXT_CLASSIFIER_STEPS, flags.json);
  const control = { classifier: clf.classifier, params: clf.params, scale: flags.scale, fluency: flags.fluency };
  return {
    process: "diffusion-lm",
    corpus,
    length: lm.net.length,
    source: diffusionLMSource(lm, samplers, clamp),
    steering: [classifierSteering(lm, samplers, control, clamp)],
    sampler: `${flags.sampler}${clamp ? ", clamped" : ""}`,
    bound: () => {
      const b = diffusionLMBound(lm, corpus.test, { draws: flags.draws, seed: flags.seed, batch: 100 });
      return { nats: b.nats.mean, se: b.nats.se, extra: { terms: b.terms } };
    },
  };
}

function masked(flags: Flags, given: ReadonlySet<string>, attribute: Attribute): Measured {
  if (given.has("fluency") || given.has("no-clamp")) throw new UsageError("--fluency and --no-clamp apply to Diffusion-LM runs");
  const lm = loadMaskedLM(flags.model);
  const choice = maskedSamplerOf(flags, given);
  const ways = maskedAttribute(lm.net) === attribute ? (["cfg", "classifier"] as const) : (["classifier"] as const);
  const steering = ways.map((guidance) =>
    maskedSteering(
      lm,
      maskedControlOf(flags.model, lm, attribute, { guidance, cfg: flags.cfg, scale: flags.scale, quiet: flags.json }, given),
      choice,
    ),
  );
  const corpus = corpusOf(lm.config);
  const draws = flags.draws;
  return {
    process: "masked",
    corpus,
    length: lm.net.length,
    source: maskedSource(lm, choice),
    steering,
    sampler: `${choice.sampler}, ${choice.steps} steps`,
    bound: () => {
      const b = maskedBound(lm, corpus.test, { draws, seed: flags.seed });
      const discrete = flags["bound-timesteps"]
        .filter((T) => T > 0)
        .map((T) => {
          const d = maskedBound(lm, corpus.test, { draws, seed: flags.seed, timesteps: T });
          return { timesteps: T, bitsPerToken: d.bitsPerToken, seBitsPerToken: d.seBitsPerToken };
        });
      return { nats: b.mean, se: b.se, extra: { schedule: lm.schedule.name, discrete } };
    },
  };
}

export function run(argv: string[]): void {
  const { values: flags, given } = parseGiven(argv, ...flagTables);
  if (flags.help) return void console.log(help);
  if (!flags.model) throw new UsageError("--model DIR is required");
  if (existsSync(join(flags.model, "config.json")) && !isTextRun(flags.model))
    throw new UsageError(
      `${flags.model} is not a text run; eval-text measures text runs (vdm train --data text:restaurants). For 2-D and image models: vdm eval --model ${flags.model}`,
    );
  const attribute = attributeFlag(flags.attribute);
  const { n, "infill-keep": infillKeep, seed } = flags;
  if (infillKeep > 1) throw new UsageError(`--infill-keep is a share of the positions, in [0, 1], got "${flags["infill-keep"]}"`);
  if (flags["bound-timesteps"].some((T) => !Number.isInteger(T) || T < 0))
    throw new UsageError(`--bound-timesteps must list integers >= 0, got "${flags["bound-timesteps"].join(",")}"`);
  const measured = isMaskedRun(flags.model) ? masked(flags, given, attribute) : diffusionLM(flags, attribute);
  const { corpus } = measured;
  if (!corpus.builtin)
    throw new UsageError(`eval-text measures parse rates with the built-in grammar; ${flags.model} was trained on ${corpus.spec}`);
  const started = performance.now();
  const b = measured.bound();
  const boundSeconds = (performance.now() - started) / 1000;
  const L = measured.length;
  const perToken = 1 / (L * Math.LN2);
  const entropy = grammarEntropy();
  const bound = {
    natsPerSentence: b.nats,
    seNats: b.se,
    bitsPerSentence: b.nats / Math.LN2,
    bitsPerToken: b.nats * perToken,
    seBitsPerToken: b.se * perToken,
    overEntropy: b.nats / entropy.nats - 1,
    draws: flags.draws,
    sentences: corpus.test.length,
    seconds: boundSeconds,
    ...b.extra,
  };
  const exact = { bitsPerSentence: entropy.bits, bitsPerToken: bitsPerPosition(entropy, L), bitsPerWord: entropy.bitsPerToken, length: L };
  const report = evaluateText(measured.source, corpus, { n, seed, control: { attribute, steering: measured.steering }, infillKeep });
  const seconds = (performance.now() - started) / 1000;
  const copyRateOfGrammar = expectedCopyRate(corpus.train);
  if (flags.json)
    return void console.log(
      JSON.stringify({
        process: measured.process,
        sampler: measured.sampler,
        bound,
        entropy: exact,
        copyRateOfGrammar,
        ...report,
        seconds,
      }),
    );
  const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
  console.log(`${flags.model} (${measured.process === "masked" ? "masked diffusion" : "Diffusion-LM"}; ${formatSeconds(seconds)}):`);
  console.log(
    `  bound on ${bound.sentences} held-out sentences: ${bound.bitsPerToken.toFixed(4)} ± ${bound.seBitsPerToken.toFixed(4)} bits/token (${bound.bitsPerSentence.toFixed(2)} bits/sentence, L = ${L}); exact entropy ${exact.bitsPerToken.toFixed(4)} bits/token (${exact.bitsPerSentence.toFixed(2)} bits/sentence): ${pct(bound.overEntropy)} above`,
  );
  for (const d of (bound as { discrete?: { timesteps: number; bitsPerToken: number; seBitsPerToken: number }[] }).discrete ?? [])
    console.log(`    discrete time, T = ${d.timesteps}: ${d.bitsPerToken.toFixed(4)} ± ${d.seBitsPerToken.toFixed(4)} bits/token`);
  console.log(`  ${n} samples (${measured.sampler}, ${report.samplesPerSecond.toFixed(1)} samples/s):`);
  console.log(
    `  parse rate ${pct(report.parseRate)}; distinct-1/2/3 ${report.distinct[1].toFixed(3)}/${report.distinct[2].toFixed(3)}/${report.distinct[3].toFixed(3)}; copied from training ${pct(report.copyRate)} (the grammar itself: ${pct(copyRateOfGrammar)})`,
  );
  if (report.control) {
    const c = report.control;
    console.log(`  control ${c.attribute}: ${pct(c.unguided)} unguided`);
    for (const way of c.steered) console.log(`    ${pct(way.success)} with ${way.name} (parse rate ${pct(way.parseRate)})`);
  }
  if (report.infill)
    console.log(
      `  infilling (${pct(report.infill.keep)} of positions fixed): ${pct(report.infill.success)} parse and keep every fixed word`,
    );
  for (const s of report.examples) console.log(`    ${s}`);
}
