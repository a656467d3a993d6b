/**
 * The table of network kinds: a run's config.json names its network as `{ kind, [kind]: config }`
 * (`ModelSpec`), and everything that builds, trains, loads or exports a network finds it here.
 * A new kind is a network file with its `NetworkKind` entry, and one line below.
 */

import { ConfigError } from "../errors.js";
import { autoencoderKind } from "./autoencoder.js";
import { cnnKind } from "./cnn.js";
import { hvaeKind } from "./hvae.js";
import type { NetworkKind } from "./kind.js";
import { maskedTransformerKind } from "./masked-transformer.js";
import { mlpKind } from "./mlp.js";
import { transformerKind } from "./transformer.js";
import { unetKind } from "./unet.js";

/**
 * Every network kind, by the name config.json gives it. The table is open: its type names no kind, so
 * a new entry changes nothing else (a kind's config is typed through its entry: `configOf(spec, mlpKind)`).
 */
export const networkKinds: Readonly<Record<string, NetworkKind<unknown>>> = {
  mlp: mlpKind,
  unet: unetKind,
  cnn: cnnKind,
  text: transformerKind,
  autoencoder: autoencoderKind,
  hvae: hvaeKind,
  "masked-text": maskedTransformerKind,
};

/** The names of the kinds, in the table's order. */
export const kindNames = Object.keys(networkKinds) as [string, ...string[]];

/** The network of a run, as config.json holds it: its kind's name and, under that name, the network's config. */
export type ModelSpec = { kind: string; [name: string]: unknown };

/** The kind entry of a model spec and the network's config. */
export function networkOf(spec: ModelSpec): { kind: NetworkKind<unknown>; config: unknown } {
  const kind = networkKinds[spec.kind];
  if (!kind) throw new ConfigError(`unknown network kind "${spec.kind}" (known: ${kindNames.join(", ")})`);
  return { kind, config: spec[spec.kind] };
}

/**
 * The architectures a user may name (`--net`), each a kind that makes its own config, or one of its
 * variants (the MLP's "ncsn"): those with a denoiser (or a hierarchical VAE, a generative model
 * of its own) for "denoiser", with a classifier for "classifier" (variants are denoisers).
 */
export function architectures(task: "denoiser" | "classifier"): string[] {
  return Object.entries(networkKinds).flatMap(([name, kind]) => {
    if (!kind.configure) return [];
    if (task === "classifier") return kind.classifier ? [name] : [];
    return kind.model || kind.hvae ? [name, ...Object.keys(kind.variants ?? {})] : [];
  });
}

/** The kind and variant (if any) an architecture names; undefined for an unknown name. */
export function architecture(name: string): { kind: string; variant?: string } | undefined {
  for (const [kind, entry] of Object.entries(networkKinds)) {
    if (kind === name && entry.configure) return { kind };
    if (entry.variants?.[name]) return { kind, variant: name };
  }
  return undefined;
}

/** The architecture of a model spec: its kind's name or the variant its config is; undefined for a kind a user does not name. */
export function architectureOf(spec: ModelSpec): string | undefined {
  const { kind, config } = networkOf(spec);
  if (!kind.configure) return undefined;
  const variant = Object.entries(kind.variants ?? {}).find(([, v]) => v.is(config));
  return variant ? variant[0] : spec.kind;
}

/** The config of a model spec's network when it is of `kind` (undefined for another kind). */
export function configOf<C>(spec: ModelSpec, kind: NetworkKind<C>): C | undefined {
  const net = networkOf(spec);
  return net.kind === kind ? (net.config as C) : undefined;
}
