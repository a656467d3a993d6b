/**
 * `vdm sample --model DIR` of a masked-diffusion run (text-sample.ts hands it over), and what
 * `vdm eval-text` shares with it: which masked sampler the text sampler flags name, and how the
 * run is steered towards a value (classifier-free guidance when it is conditional on the attribute,
 * its noise-aware classifier otherwise or when asked).
 */
import { Rng } from "../engine/index.js";
import { readCheckpointConfig } from "../io/checkpoint.js";
import { maskedSamplerNames } from "../masked/samplers.js";
import { TEXT_CLASSIFIER_STEPS } from "../text/config.js";
import { corpusOf } from "../text/data.js";
import type { Attribute } from "../text/grammar.js";
import { infillPattern, repeatRows } from "../text/infill.js";
import { loadMaskedLM, type MaskedLM } from "../text/masked.js";
import { type MaskedControl, maskedControlDefaults, maskedTextSamplerDefaults, sampleMaskedIds } from "../text/masked-sample.js";
import { validateRunConfig } from "../train/config.js";
import { UsageError } from "./args.js";
import { maskedAttribute, maskedClassifierFor, maskedNetOf } from "./masked-train.js";

/** Whether `dir` holds a masked-diffusion run (false when it holds another or none). */
export function isMaskedRun(dir: string): boolean {
  try {
    return maskedNetOf(readCheckpointConfig(dir, validateRunConfig)) !== undefined;
  } catch {
    return false;
  }
}

/** The text sampler flags as a masked run reads them: --sampler (a masked sampler's name, when given) and --sample-steps. */
export interface MaskedSamplerChoice {
  sampler: string;
  steps: number;
}

/** The masked sampler that --sampler and --sample-steps name (`given`: the flags given), the defaults otherwise. */
export function maskedSamplerOf(flags: { sampler: string; "sample-steps": string }, given: ReadonlySet<string>): MaskedSamplerChoice {
  const sampler = given.has("sampler") ? flags.sampler : maskedTextSamplerDefaults.sampler;
  if (!maskedSamplerNames.includes(sampler))
    throw new UsageError(`--sampler ${sampler} is not a masked sampler (known for masked runs: ${maskedSamplerNames.join(", ")})`);
  const raw = flags["sample-steps"];
  const steps = raw ? Number(raw) : maskedTextSamplerDefaults.steps;
  if (!Number.isInteger(steps) || steps < 1) throw new UsageError(`--sample-steps must be an integer >= 1, got "${raw}"`);
  return { sampler, steps };
}

/** The ways `--guidance` names (as for image models): classifier-free guidance "cfg" (a run conditional on the attribute) or the attribute's classifier. */
export const maskedGuidances = ["cfg", "classifier"] as const;

/**
 * How a masked LM is steered towards a value of `attribute`: `guidance` (default classifier-free
 * when the run is conditional on the attribute, else classifier) with weight `cfg` or scale `scale`
 * (`maskedControlDefaults` for those not in `given`); the classifier is DIR/classifier-ATTR, trained if missing.
 */
export function maskedControlOf(
  dir: string,
  lm: MaskedLM,
  attribute: Attribute,
  o: { guidance: string; cfg: number; scale: number; quiet: boolean },
  given: ReadonlySet<string>,
): MaskedControl {
  const conditional = maskedAttribute(lm.net) === attribute;
  const guidance = o.guidance || (conditional ? "cfg" : "classifier");
  if (!(maskedGuidances as readonly string[]).includes(guidance))
    throw new UsageError(`--guidance must be ${maskedGuidances.join(" or ")}, got "${guidance}"`);
  if (guidance === "cfg") {
    if (!conditional)
      throw new UsageError(
        `classifier-free guidance needs a run conditional on ${attribute} (vdm train --process masked --conditional ${attribute}); ${dir} is not`,
      );
    return { guidance: "classifier-free", weight: given.has("cfg") ? o.cfg : maskedControlDefaults.weight };
  }
  const classifier = maskedClassifierFor(dir, lm, corpusOf(lm.config), attribute, TEXT_CLASSIFIER_STEPS, o.quiet);
  return { guidance: "classifier", classifier, scale: given.has("scale") ? o.scale : maskedControlDefaults.scale };
}

/** What `vdm sample` of a masked run reads (text-sample.ts parses them). */
export interface MaskedSampleFlags {
  model: string;
  n: number;
  seed: number;
  json: boolean;
  control: string;
  guidance: string;
  cfg: number;
  scale: number;
  infill: string;
  sampler: string;
  "sample-steps": string;
}

/** Sentences of a masked run (`vdm sample --model DIR`): unguided, steered by --control, or infilling --infill. */
export function sampleMaskedSentences(
  flags: MaskedSampleFlags,
  given: ReadonlySet<string>,
  target: (lm: MaskedLM) => { attribute: Attribute; label: number } | undefined,
): string[] {
  if (given.has("fluency") || given.has("no-clamp"))
    throw new UsageError("--fluency and --no-clamp apply to Diffusion-LM runs; a masked run samples tokens, not embeddings");
  const lm = loadMaskedLM(flags.model);
  const { n } = flags;
  const L = lm.net.length;
  const { sampler, steps } = maskedSamplerOf(flags, given);
  const wanted = target(lm);
  const control = wanted
    ? {
        targets: new Int32Array(n).fill(wanted.label),
        ...maskedControlOf(
          flags.model,
          lm,
          wanted.attribute,
          {
            guidance: flags.guidance,
            cfg: flags.cfg,
            scale: flags.scale,
            quiet: flags.json,
          },
          given,
        ),
      }
    : undefined;
  const infill = flags.infill ? repeatRows(infillPattern(lm.tokenizer, flags.infill, L), n) : undefined;
  const { ids } = sampleMaskedIds(lm, n, {
    sampler,
    steps,
    rng: new Rng(flags.seed),
    ...(control ? { control } : {}),
    ...(infill ? { infill } : {}),
  });
  return Array.from({ length: n }, (_, k) => lm.tokenizer.decode(ids.subarray(k * L, (k + 1) * L)));
}
