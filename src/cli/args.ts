/**
 * The CLI's flags: one declarative table per concept (sampler, backend, model, …), from which both
 * the parser (defaults, types, short names) and the flag listing of each command's --help come.
 * Names are fixed across commands (see README).
 */
import { type ParseArgsConfig, parseArgs } from "node:util";
import { ConfigError } from "../errors.js";

/** One flag: a string (default "", meaning "unset") or an on/off switch (off by default). */
export interface FlagSpec {
  type?: "string" | "boolean";
  /** a string flag's default; a number is written as the flag would be */
  default?: string | number;
  /** the value's placeholder in the help, e.g. "N" */
  value?: string;
  help: string;
  short?: string;
  /** a string flag's value in its type (e.g. `int({ min: 1 })`): applied by `parse`, a bad value a usage error naming the flag */
  parse?: (raw: string, name: string) => unknown;
}

export type FlagSpecs = Record<string, FlagSpec>;

/** The flags of one concept, with a title and optional prose shown after them in the help. */
export interface FlagGroup<T extends FlagSpecs = FlagSpecs> {
  title: string;
  specs: T;
  note?: string;
}

/** The parsed values of `T`'s flags: what a flag's `parse` gives, else strings, or booleans for switches. */
export type FlagValues<T extends FlagSpecs> = {
  -readonly [K in keyof T]: T[K] extends { parse: (raw: string, name: string) => infer R }
    ? R
    : T[K] extends { type: "boolean" }
      ? boolean
      : string;
};

type GroupValues<G extends readonly FlagGroup[]> = G extends readonly [FlagGroup<infer T>, ...infer R extends readonly FlagGroup[]]
  ? FlagValues<T> & GroupValues<R>
  : unknown;

/** What `parse` returns for `groups`: their values and the common flags'. */
export type Parsed<G extends readonly FlagGroup[]> = GroupValues<G> & FlagValues<typeof commonFlags.specs>;

/** A table of flags; `note` is prose printed after them (what the values mean, how they combine). */
export function defineFlags<const T extends FlagSpecs>(title: string, specs: T, note?: string): FlagGroup<T> {
  return { title, specs, ...(note ? { note } : {}) };
}

/** `group` without some of its flags (for a command that decides them itself). */
export function omit<T extends FlagSpecs, K extends keyof T & string>(group: FlagGroup<T>, ...names: K[]): FlagGroup<Omit<T, K>> {
  const specs = Object.fromEntries(Object.entries(group.specs).filter(([name]) => !(names as string[]).includes(name)));
  return { ...group, specs: specs as Omit<T, K> };
}

/** What every command takes. */
export const commonFlags = defineFlags("Common flags", {
  seed: { default: "0", value: "S", help: "random seed", parse: (raw: string, name: string) => intFlag(name, raw, { min: 0 }) },
  json: { type: "boolean", help: "print the result as one line of JSON" },
  help: { type: "boolean", short: "h", help: "print this help" },
});

const defaultOf = (spec: FlagSpec): string => String(spec.default ?? "");

/**
 * The optimal-string-alignment distance between a and b: the fewest insertions, deletions,
 * substitutions and swaps of adjacent characters that turn one into the other (the usual
 * dynamic programme over prefixes, O(|a|·|b|)).
 */
export function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/** The candidate nearest to `word` in edit distance, if it is a plausible typo (at most a third of the word's characters off, at least one). */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.floor(word.length / 3)) + 1;
  for (const c of candidates) {
    const distance = editDistance(word, c);
    if (distance < bestDistance) [best, bestDistance] = [c, distance];
  }
  return best;
}

/** Parse `argv` strictly (unknown flags are errors, naming the nearest known flag) against `groups` and the common flags. */
export function parse<G extends readonly FlagGroup[]>(argv: string[], ...groups: G): Parsed<G> {
  return parseGiven(argv, ...groups).values;
}

/** Each flag as written on the command line (or its default), before its `parse`. */
export type RawValues = Record<string, string | boolean>;

/**
 * `parse`, and the names of the flags `argv` actually gives: what tells `--hidden 128` from a
 * default of 128 (e.g. which flags a resumed run must check against the run's own values), and
 * the flags as written (`raw`: what a resumed run compares with its own values and quotes).
 */
export function parseGiven<G extends readonly FlagGroup[]>(
  argv: string[],
  ...groups: G
): { values: Parsed<G>; given: Set<string>; raw: RawValues } {
  const options: NonNullable<ParseArgsConfig["options"]> = {};
  for (const { specs } of [...groups, commonFlags]) {
    for (const [name, spec] of Object.entries<FlagSpec>(specs)) {
      if (name in options) throw new Error(`flag --${name} is defined twice`);
      const short = spec.short ? { short: spec.short } : {};
      options[name] =
        spec.type === "boolean" ? { type: "boolean", default: false, ...short } : { type: "string", default: defaultOf(spec), ...short };
    }
  }
  try {
    const { values, tokens } = parseArgs({
      args: withNegativeValues(argv, options),
      options,
      strict: true,
      allowPositionals: false,
      tokens: true,
    });
    const raw = { ...values } as RawValues;
    // each flag's value in its type, in the order the help lists them (--help prints the help whatever the values)
    if (!values.help)
      for (const { specs } of [...groups, commonFlags])
        for (const [name, spec] of Object.entries<FlagSpec>(specs))
          if (spec.parse) values[name] = spec.parse(values[name] as string, name) as string;
    return { values: values as Parsed<G>, given: new Set(tokens.flatMap((t) => (t.kind === "option" ? [t.name] : []))), raw };
  } catch (err) {
    const e = err as Error & { code?: string };
    if (e.code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
      // a value-taking flag at the end of the line, or followed by another flag
      const name = /--([\w-]+)/.exec(e.message)?.[1];
      const spec = name === undefined ? undefined : groupsSpec([...groups, commonFlags], name);
      if (name !== undefined && spec !== undefined && spec.type !== "boolean")
        throw new UsageError(
          `--${name} needs a value (--${name} ${spec.value ?? "VALUE"}; one that starts with "-" is written --${name}=-...)`,
        );
    }
    const flag = e.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" ? /'(-[^']*)'/.exec(e.message)?.[1] : undefined;
    if (flag === undefined) throw err;
    const name = flag.replace(/^--?/, "");
    const near = closest(name, Object.keys(options));
    throw new UsageError(`unknown flag ${flag}${near ? `; did you mean --${near}?` : " (--help lists the flags)"}`);
  }
}

/** The spec of flag --`name` in `groups`. */
function groupsSpec(groups: readonly FlagGroup[], name: string): FlagSpec | undefined {
  return groups.map(({ specs }) => (specs as Record<string, FlagSpec>)[name]).find((spec) => spec !== undefined);
}

/**
 * `argv` with a negative number after a value-taking flag joined to it (`--seed -1` → `--seed=-1`),
 * so that the flag's own check names the problem instead of the parser calling the value a flag.
 */
function withNegativeValues(argv: string[], options: NonNullable<ParseArgsConfig["options"]>): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const name = /^--?([\w-]+)$/.exec(argv[i]!)?.[1];
    const option =
      name === undefined ? undefined : argv[i]!.startsWith("--") ? options[name] : Object.values(options).find((o) => o.short === name);
    const next = argv[i + 1];
    if (option?.type === "string" && next !== undefined && /^-(\d|\.\d|inf|nan)/i.test(next)) {
      out.push(`${argv[i]}=${next}`);
      i++;
    } else out.push(argv[i]!);
  }
  return out;
}

/** Width of a help line, and the widest flag column before the help moves to its own line. */
const LINE = 100;
const COLUMN = 26;

/** `text` in lines of at most `width` characters (a longer word gets a line of its own). */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return [...lines, line];
}

/**
 * A command's --help: its usage line(s) and description, then each group's flags as aligned
 * "--flag VALUE   help (default: X)" lines followed by the group's note, then the common flags.
 */
export function helpText(usage: string, description: string, ...groups: readonly FlagGroup[]): string {
  const all = [...groups, commonFlags];
  const label = (name: string, spec: FlagSpec) => `${spec.short ? `-${spec.short}, ` : ""}--${name}${spec.value ? ` ${spec.value}` : ""}`;
  const labels = all.flatMap((g) => Object.entries<FlagSpec>(g.specs).map(([name, spec]) => label(name, spec).length));
  const column = Math.min(COLUMN, Math.max(...labels));
  const indent = " ".repeat(column + 4);
  const entry = (name: string, spec: FlagSpec) => {
    const text = spec.help + (defaultOf(spec) === "" ? "" : ` (default: ${defaultOf(spec)})`);
    const [first, ...rest] = wrap(text, LINE - indent.length);
    const head = label(name, spec);
    const lines = head.length > column ? [`  ${head}`, indent + first] : [`  ${head.padEnd(column)}  ${first}`];
    return [...lines, ...rest.map((l) => indent + l)].join("\n");
  };
  const sections = all.map((g) =>
    [`${g.title}:`, ...Object.entries<FlagSpec>(g.specs).map(([name, spec]) => entry(name, spec)), ...(g.note ? [g.note] : [])].join("\n"),
  );
  return [usage, description, ...sections].filter((s) => s !== "").join("\n\n");
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

/** A number flag: positive (or, with positive = false, non-negative), with a usage error naming it. */
export function num(name: string, raw: string, positive = true): number {
  const v = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(v) || (positive ? v <= 0 : v < 0)) {
    throw new UsageError(`--${name} must be a ${positive ? "positive" : "non-negative"} number, got "${raw}"`);
  }
  return v;
}

/** `parse` of an integer flag with bounds. */
export const int =
  (bounds: { min?: number; max?: number } = {}) =>
  (raw: string, name: string): number =>
    intFlag(name, raw, bounds);

/** `parse` of an integer flag with bounds that may be left unset (""): undefined then. */
export const optionalInt =
  (bounds: { min?: number; max?: number } = {}) =>
  (raw: string, name: string): number | undefined =>
    raw === "" ? undefined : intFlag(name, raw, bounds);

/** `parse` of a positive number flag. */
export const positive = (raw: string, name: string): number => num(name, raw);

/** `parse` of a flag that takes one of `values`, a usage error naming them. */
export const oneOf =
  <const V extends readonly string[]>(...values: V) =>
  (raw: string, name: string): V[number] => {
    if (!values.includes(raw))
      throw new UsageError(`--${name} must be ${values.slice(0, -1).join(", ")} or ${values.at(-1)}, got "${raw}"`);
    return raw;
  };

/** `parse` of a flag that may be left unset (""): undefined then, else `p`'s value. */
export const optional =
  <T>(p: (raw: string, name: string) => T) =>
  (raw: string, name: string): T | undefined =>
    raw === "" ? undefined : p(raw, name);

/** `parse` of a non-negative number flag. */
export const nonNegative = (raw: string, name: string): number => num(name, raw, false);

/** `parse` of a comma-separated list of integers with bounds. */
export const intList =
  (bounds: { min?: number; max?: number } = {}) =>
  (raw: string, name: string): number[] =>
    intListFlag(name, raw, bounds);

/** `parse` of a comma-separated list of numbers >= `min`. */
export const numberList =
  (bounds: { min?: number } = {}) =>
  (raw: string, name: string): number[] =>
    numberListFlag(name, raw, bounds);

/** `parse` of a comma-separated list of numbers >= `min` that may be left unset (""): undefined then. */
export const optionalNumberList =
  (bounds: { min?: number } = {}) =>
  (raw: string, name: string): number[] | undefined =>
    raw === "" ? undefined : numberListFlag(name, raw, bounds);

/** A comma-separated list of integers, e.g. `--timesteps 10,100,0`. */
export function intListFlag(name: string, raw: string | undefined, bounds: { min?: number; max?: number } = {}): number[] {
  if (raw === undefined) throw new UsageError(`--${name} is required`);
  return raw.split(",").map((part) => intFlag(name, part, bounds));
}

/** A comma-separated list of numbers >= `min`, e.g. `--scales 0,1,3`. */
export function numberListFlag(name: string, raw: string, { min = -Infinity } = {}): number[] {
  const values = raw.split(",").map((part) => (part.trim() === "" ? NaN : Number(part)));
  if (values.some((v) => !Number.isFinite(v) || v < min))
    throw new UsageError(`--${name} must be a comma-separated list of numbers${min === -Infinity ? "" : ` >= ${min}`}, got "${raw}"`);
  return values;
}

/**
 * f(), with a ConfigError it throws (a value or combination of options the library refuses)
 * reported as the usage mistake it is, the options having come from the command line; `about`
 * (e.g. "--class 9") goes before the library's message.
 */
export function asUsage<T>(f: () => T, about?: string): T {
  try {
    return f();
  } catch (e) {
    throw e instanceof ConfigError ? new UsageError(about ? `${about}: ${e.message}` : e.message) : e;
  }
}

/** Refuse the flags among `names` that the command line gave (`given`, from parseGiven): where they do not apply, `why` says so. */
export function refuseGiven(given: ReadonlySet<string>, names: Iterable<string>, why: string): void {
  const wrong = [...names].filter((name) => given.has(name));
  if (wrong.length > 0) throw new UsageError(`${wrong.map((name) => `--${name}`).join(", ")}: ${why}`);
}

/** The value of `--name V` or `--name=V` in argv (undefined when absent): how a command sees which kind of run it has before parsing its flags. */
export function flagValue(argv: readonly string[], name: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === `--${name}`) return argv[i + 1];
    if (a.startsWith(`--${name}=`)) return a.slice(name.length + 3);
  }
  return undefined;
}

/** A mistake in how the command was called: printed without a stack trace. */
export class UsageError extends Error {}

/** Work stopped by Ctrl-C (SIGINT), its message saying what was kept: the command exits with 130 (128 + SIGINT). */
export class Interrupted extends Error {}
