/**
 * The masked samplers chosen by name: one table for the CLI's `--sampler` (with `--process masked`)
 * and its help. Each entry declares its name, a title, a one-line summary with its cost in network
 * evaluations (NFE) for N steps, and the sampler. Adding a sampler: its file, and one entry here.
 */

import { ConfigError } from "../errors.js";
import { ancestralSampler } from "./ancestral.js";
import { confidenceSampler } from "./confidence.js";
import type { MaskedSampler } from "./sampler.js";

/** One masked sampler chosen by name. */
export interface MaskedSamplerEntry {
  readonly name: string;
  readonly title: string;
  readonly summary: string;
  readonly sampler: MaskedSampler;
}

/** The masked samplers, in the order the CLI lists them. */
export const maskedSamplerTable: readonly MaskedSamplerEntry[] = [
  {
    name: "ancestral",
    title: "ancestral (MDLM)",
    summary: "each [MASK] unmasked with probability 1 − (1−α_s)/(1−α_t), its word drawn from p_θ; NFE ≤ min(N, L + 1) with caching",
    sampler: ancestralSampler,
  },
  {
    name: "confidence",
    title: "confidence-ordered (MaskGIT)",
    summary: "the schedule's count of tokens per step, the most confident drawn words first; NFE ≤ N",
    sampler: confidenceSampler,
  },
];

/** The names of `maskedSamplerTable`, in its order. */
export const maskedSamplerNames: readonly string[] = maskedSamplerTable.map((entry) => entry.name);

/** The masked sampler called `name`; an unknown name is a ConfigError listing the known ones. */
export function maskedSamplerByName(name: string): MaskedSampler {
  const entry = maskedSamplerTable.find((e) => e.name === name);
  if (!entry)
    throw new ConfigError(`unknown masked sampler "${name}" (known: ${maskedSamplerNames.join(", ")})`, {
      unknown: { name, known: maskedSamplerNames },
    });
  return entry.sampler;
}
