/** Shared CLI flags and their parsing. Names are fixed across commands (see README). */
import { parseArgs, type ParseArgsConfig } from "node:util";

export type Options = NonNullable<ParseArgsConfig["options"]>;

/**
 * Parse `argv` strictly (unknown flags are errors). `strings` maps each string flag to its
 * default; `booleans` lists on/off flags. Every command also takes --seed, --json and --help.
 */
export function parse<S extends string, B extends string = never>(
  argv: string[],
  strings: Record<S, string>,
  booleans: readonly B[] = [],
): Record<S | "seed", string> & Record<B | "json" | "help", boolean> {
  const options: Options = { seed: { type: "string", default: "0" }, json: { type: "boolean", default: false }, help: { type: "boolean", short: "h", default: false } };
  for (const [name, value] of Object.entries<string>(strings)) options[name] = { type: "string", default: value };
  for (const name of booleans) options[name] = { type: "boolean", default: false };
  const { values } = parseArgs({ args: argv, options, strict: true, allowPositionals: false });
  return values as Record<S | "seed", string> & Record<B | "json" | "help", boolean>;
}

/** An integer flag with bounds, with an error that names the flag. */
export function intFlag(name: string, raw: string | undefined, { min = -Infinity, max = Infinity } = {}): number {
  const n = Number(raw);
  if (raw === undefined || raw.trim() === "" || !Number.isInteger(n) || n < min || n > max) {
    const range = max === Infinity ? `>= ${min}` : `in [${min}, ${max}]`;
    throw new UsageError(`--${name} must be an integer ${range}, got "${raw}"`);
  }
  return n;
}

/** A comma-separated list of integers, e.g. `--timesteps 10,100,0`. */
export function intListFlag(name: string, raw: string | undefined, bounds: { min?: number; max?: number } = {}): number[] {
  if (raw === undefined) throw new UsageError(`--${name} is required`);
  return raw.split(",").map((part) => intFlag(name, part, bounds));
}

/** A mistake in how the command was called: printed without a stack trace. */
export class UsageError extends Error {}
