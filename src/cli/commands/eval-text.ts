/** `vdm eval-text`: parse rate, control and infilling of a Diffusion-LM run on the built-in grammar. */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { TEXT_CLASSIFIER_STEPS } from "../../text/config.js";
import { evaluateText } from "../../text/evaluate.js";
import { classifierSteering, diffusionLMSource, loadTextLM, textControlDefaults, textSamplerDefaults } from "../../text/sample.js";
import { defineFlags, helpText, int, nonNegative, parse, UsageError } from "../args.js";
import { formatSeconds } from "../progress.js";
import { isTextRun } from "../runs.js";
import { attributeFlag, classifierFor, corpusOf, textSampler, textSamplerFlags } from "../text-sample.js";

/** `vdm eval-text`'s own flags. */
const evalTextFlags = defineFlags("Flags", {
  model: { value: "DIR", help: "the text run (trained on text:restaurants)" },
  n: { default: "200", value: "K", help: "samples per measurement", parse: int({ min: 1 }) },
  attribute: { default: "food", value: "A", help: "the controlled attribute (its classifier is DIR/classifier-A, trained if missing)" },
  scale: { default: textControlDefaults.scale, value: "S", help: "the classifier-guidance scale", parse: nonNegative },
  fluency: { default: textControlDefaults.fluency, value: "λ", help: "the fluency term's weight", parse: nonNegative },
  "infill-keep": { default: "0.5", value: "P", help: "the share of held-out positions fixed for infilling (0: none)", parse: nonNegative },
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
  const { n, scale, fluency, "infill-keep": infillKeep } = flags;
  const seed = flags.seed;
  if (infillKeep > 1) throw new UsageError(`--infill-keep is a share of the positions, in [0, 1], got "${flags["infill-keep"]}"`);
  const samplers = textSampler(flags, lm.process);
  const classifier = classifierFor(flags.model, lm, attribute, TEXT_CLASSIFIER_STEPS, flags.json);
  const started = performance.now();
  const clamp = !flags["no-clamp"];
  const steering = classifierSteering(
    lm,
    samplers,
    { classifier: classifier.classifier, params: classifier.params, scale, fluency },
    clamp,
  );
  const report = evaluateText(diffusionLMSource(lm, samplers, clamp), corpus, {
    n,
    seed,
    control: { attribute, steering: [steering] },
    infillKeep,
  });
  const seconds = (performance.now() - started) / 1000;
  if (flags.json) return void console.log(JSON.stringify({ ...report, seconds }));
  const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
  console.log(`${report.n} samples of ${flags.model} (${formatSeconds(seconds)}):`);
  console.log(
    `  parse rate ${pct(report.parseRate)}; distinct-1/2/3 ${report.distinct[1].toFixed(3)}/${report.distinct[2].toFixed(3)}/${report.distinct[3].toFixed(3)}; copied from training ${pct(report.copyRate)}; ${report.samplesPerSecond.toFixed(1)} samples/s`,
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
