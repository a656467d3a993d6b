/**
 * The zod rules of config fields, each with the message a `ConfigError` prints: "is missing
 * (what)" for an absent value, "must be what" for a wrong one. The run config's schema
 * (train/config.ts) and each network kind's (mlp.ts, unet.ts, cnn.ts, transformer.ts) are built from them.
 */
import { z } from "zod";

/** Generous bounds on sizes, far above any real run, that stop a corrupt config before it sizes an allocation. */
export const MAX_DIM = 2 ** 24;
export const MAX_WIDTH = 2 ** 16;

/** The error of a rule expecting `what`: "is missing (what)" when the value is absent, else "must be what". */
export function expecting(what: string) {
  return { error: (issue: { input?: unknown }) => (issue.input === undefined ? `is missing (${what})` : `must be ${what}`) };
}

/** A finite number in [min, max] (open at min where `above`, at max where `below`), an integer where `integer`. */
export function number(rule: { min?: number; max?: number; above?: boolean; below?: boolean; integer?: boolean; what: string }) {
  const e = expecting(rule.what);
  let n = rule.integer ? z.number(e).int(e) : z.number(e);
  if (rule.min !== undefined) n = rule.above ? n.gt(rule.min, e) : n.gte(rule.min, e);
  if (rule.max !== undefined) n = rule.below ? n.lt(rule.max, e) : n.lte(rule.max, e);
  return n;
}

/** A positive integer, at most `max`. */
export function count(max = Number.MAX_SAFE_INTEGER) {
  return number({
    min: 1,
    max,
    integer: true,
    what: max < Number.MAX_SAFE_INTEGER ? `a positive integer (at most ${max})` : "a positive integer",
  });
}

/** One of `values`. */
export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, expecting(`one of ${values.join(", ")}`));
}

const stringError = {
  error: (issue: { input?: unknown }) => (issue.input === undefined ? "is missing (a string)" : "must be a non-empty string"),
};

/** A non-empty string. */
export function text() {
  return z.string(stringError).min(1, stringError);
}

/** Any string, or none. */
export function optionalText() {
  return z.string(stringError).optional();
}

/**
 * A list of finite numbers each passing `check`: `what` names them in the plural ("positive
 * integers"); `length` entries, or at least one (none where `empty`) and at most `maxLength`.
 * Checked in that order, stopping at the first bad entry (a corrupt list may be millions long).
 */
export function list(what: string, check: (x: number) => boolean, rule: { length?: number; maxLength?: number; empty?: boolean } = {}) {
  return z
    .custom<number[]>((v) => Array.isArray(v), expecting(`a list of ${what}`))
    .superRefine((v, ctx) => {
      const issue = (message: string, path: number[], input: unknown) =>
        ctx.addIssue({ code: "custom", continue: false, path, message, input });
      if (rule.length !== undefined && v.length !== rule.length) return issue(`must have ${rule.length} entries`, [], v);
      if (v.length === 0 && !rule.empty) return issue("must not be empty", [], v);
      if (rule.maxLength !== undefined && v.length > rule.maxLength) return issue(`must have at most ${rule.maxLength} entries`, [], v);
      const i = v.findIndex((x) => typeof x !== "number" || !Number.isFinite(x) || !check(x));
      if (i >= 0) issue(`must be a ${what.replace(/s$/, "")}`, [i], v[i]);
    });
}

/** Whether x is an integer in [1, max]. */
export const positiveInt = (max: number) => (x: number) => Number.isSafeInteger(x) && x >= 1 && x <= max;

/** An image's shape [rows, cols, channels]. */
export function imageShape() {
  return list("positive integers", positiveInt(MAX_DIM), { length: 3 }) as unknown as z.ZodType<[number, number, number]>;
}

/** The label heads of a network: `classes` of a conditional denoiser, `outputs` of a classifier. */
export const heads = {
  /** classes of a conditional model: a learned label embedding (last row: "no label") */
  classes: count(MAX_WIDTH).optional(),
  /** a classifier over this many classes instead of a denoiser */
  outputs: count(MAX_WIDTH).optional(),
};

/** The size of a sinusoidal time embedding: a positive even integer. */
export const evenWidth = () => count(MAX_WIDTH).refine((e) => e % 2 === 0, { error: "must be even" });
