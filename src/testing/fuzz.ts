/**
 * The fuzzing harness of the readers of outside input (io/fuzz.test.ts, data/fuzz.test.ts): seeded
 * random corruptions of a valid input (truncation, flipped and random bytes, huge declared sizes,
 * wrong JSON types, missing fields, NaN/Infinity, deep nesting, very long values), and `fuzz`, which
 * runs 1,000 of them through a reader. Every case must end in the reader's typed error (a `VdmError`
 * subclass, never a TypeError, RangeError or SyntaxError leaking out) or in a well-formed result,
 * quickly, and without allocating by a huge declared size. Each case has its own PRNG (mulberry32 of
 * the suite's seed and the case index), so a failure names the seed and case to replay.
 */
import assert from "node:assert/strict";
import type { TestContext } from "node:test";
import { mulberry32 } from "../data/mulberry32.js";
import type { VdmError } from "../errors.js";

export const CASES = 1000;
/** the slowest a single case may be (a case over it is timed again, to forgive a GC pause) */
const CASE_MS = 100;
/** the most all cases of one reader may take together */
const TOTAL_MS = 5000;
/** the most a case may grow ArrayBuffer memory: every valid input here is a few kilobytes */
const MAX_GROWTH = 64 * 2 ** 20;

export class Random {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  /** an integer in [0, n) */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

// ---------------------------------------------------------------------------------------------
// corruptions

/** Sizes and numbers that break readers: negative, fractional, overflowing, non-finite. */
export const NASTY_NUMBERS = [
  0,
  -1,
  -0,
  0.5,
  1e-320,
  2 ** 31,
  2 ** 32,
  2 ** 32 + 4,
  2 ** 53,
  2 ** 53 + 2,
  1e15,
  1e39,
  1e308,
  -1e308,
  Number.MAX_VALUE,
  NaN,
  Infinity,
  -Infinity,
];
export const NASTY_STRINGS = [
  "",
  "NaN",
  "Infinity",
  "-Infinity",
  "1e999",
  "0x10",
  "__proto__",
  "constructor",
  "toString",
  "\u0000",
  "é",
  "🙂",
];
export const LONG = 100_000;

/** A corrupted copy of `bytes`. `fields`: offsets of 4-byte big-endian (be) or 8-byte little-endian (le) sizes worth overwriting with huge values. */
export function corruptBytes(r: Random, bytes: Uint8Array, fields: { offset: number; width: 4 | 8; be: boolean }[] = []): Uint8Array {
  const out = Uint8Array.from(bytes);
  switch (r.int(8)) {
    case 0: // truncation at a random length
      return out.subarray(0, r.int(out.length));
    case 1: {
      // flipped bits
      for (let k = 1 + r.int(8); k > 0; k--) out[r.int(out.length)]! ^= 1 << r.int(8);
      return out;
    }
    case 2: {
      // random bytes
      for (let k = 1 + r.int(16); k > 0; k--) out[r.int(out.length)] = r.int(256);
      return out;
    }
    case 3: {
      // bytes inserted or removed in the middle
      const at = r.int(out.length);
      const junk = Uint8Array.from({ length: 1 + r.int(32) }, () => r.int(256));
      return r.chance(0.5)
        ? Uint8Array.from([...out.subarray(0, at), ...junk, ...out.subarray(at)])
        : Uint8Array.from([...out.subarray(0, at), ...out.subarray(at + 1 + r.int(32))]);
    }
    case 4: // garbage appended
      return Uint8Array.from([...out, ...Array.from({ length: 1 + r.int(64) }, () => r.int(256))]);
    case 5: {
      // a huge declared size in a header field
      if (fields.length === 0) return out.subarray(0, r.int(out.length));
      const { offset, width, be } = r.pick(fields);
      if (offset + width > out.length) return out;
      const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
      if (width === 4) view.setUint32(offset, r.pick([0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0x10000, r.int(2 ** 32)]), !be);
      else view.setBigUint64(offset, r.pick([0n, 2n ** 63n, 2n ** 64n - 1n, 2n ** 53n, 2n ** 32n, BigInt(r.int(2 ** 32))]), !be);
      return out;
    }
    case 6: // empty or tiny
      return out.subarray(0, r.int(9));
    default:
      // a run of one byte value
      out.fill(r.pick([0, 0xff, 0x7f]), r.int(out.length), r.int(out.length + 1));
      return out;
  }
}

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A marker replaced in the serialised text by deep nesting (JSON.stringify would recurse on it). */
const DEEP = "\u0001deep\u0001";

type Slot = [Record<string, unknown> | unknown[], string | number];

/** Every [container, key] of the JSON tree under holder.root, the root's own slot first. */
function slots(holder: Record<string, unknown>): Slot[] {
  const out: Slot[] = [];
  const walk = (parent: Record<string, unknown> | unknown[], key: string | number) => {
    out.push([parent, key]);
    const v = (parent as Record<string | number, unknown>)[key];
    if (Array.isArray(v)) v.forEach((_, i) => walk(v, i));
    else if (v && typeof v === "object") for (const k of Object.keys(v)) walk(v as Record<string, unknown>, k);
  };
  walk(holder, "root");
  return out;
}

const get = ([parent, key]: Slot): unknown => (parent as Record<string | number, unknown>)[key];

/** structuredClone, or null where the value is too deep to clone */
function clone(v: unknown): unknown {
  try {
    return structuredClone(v);
  } catch {
    return null;
  }
}

/**
 * A corrupted copy of the JSON value `valid` as a JS value (`text` false: may hold NaN and
 * undefined) or as JSON text (then also with deep nesting, duplicate keys and bad syntax).
 */
export function corruptJson(r: Random, valid: Json, text: boolean): { value?: unknown; text?: string } {
  const holder: Record<string, unknown> = { root: structuredClone(valid) };
  const all = slots(holder);
  const edits = 1 + (r.chance(0.3) ? r.int(4) : 0);
  for (let e = 0; e < edits; e++) {
    const slot = r.pick(all);
    const [parent, key] = slot;
    const current = get(slot);
    const set = (v: unknown) => ((parent as Record<string | number, unknown>)[key] = v);
    switch (r.int(10)) {
      case 0: // a missing field or entry
        if (Array.isArray(parent)) parent.splice(key as number, 1);
        else delete parent[key as string];
        break;
      case 1: // a wrong type
        set(r.pick<unknown>([null, true, false, "1", {}, [], [[]], 0, { a: 1 }, [1, "2"]]));
        break;
      case 2: // a nasty number
        set(r.pick(NASTY_NUMBERS));
        break;
      case 3: // a nasty string
        set(r.pick(NASTY_STRINGS));
        break;
      case 4: // a very long value
        set(
          r.pick<() => unknown>([
            () => "x".repeat(LONG),
            () => Array.from({ length: LONG }, (_, i) => i % 7),
            () => Array.from({ length: 2000 }, () => [1, 2]),
          ])(),
        );
        break;
      case 5: // deep nesting
        set(text ? DEEP : nest(r.pick([100, 1000, 10000])));
        break;
      case 6: // an unknown field
        if (current && typeof current === "object" && !Array.isArray(current)) {
          Object.defineProperty(current, r.pick(["extra", "__proto__", "constructor", "x".repeat(1000)]), {
            value: r.pick<Json>([1, "a", null]),
            enumerable: true,
            writable: true,
            configurable: true,
          });
        } else set(r.pick(NASTY_NUMBERS));
        break;
      case 7: // a number nudged off its value
        if (typeof current === "number") set(current * r.pick([-1, 0, 1.5, 1e6, 1e-6, 1 + 1e-12]));
        else set(undefined);
        break;
      case 8: // an array grown or emptied
        if (Array.isArray(current)) set(r.chance(0.5) ? [] : [...current, ...current]);
        else set([current]);
        break;
      default: // a value from elsewhere in the tree
        set(clone(get(r.pick(all))) ?? null);
    }
  }
  if (!text) return { value: holder.root };
  let s = JSON.stringify(holder.root) ?? "null";
  const depth = r.pick([1000, 100000]);
  s = s.replaceAll(JSON.stringify(DEEP), "[".repeat(depth) + "]".repeat(depth));
  if (r.chance(0.2)) s = corruptText(r, s);
  return { text: s };
}

/** depth nested arrays, built without recursion */
function nest(depth: number): unknown {
  let v: unknown[] = [];
  for (let d = 0; d < depth; d++) v = [v];
  return v;
}

export function corruptText(r: Random, s: string): string {
  const at = r.int(s.length + 1);
  switch (r.int(4)) {
    case 0:
      return s.slice(0, at);
    case 1:
      return s.slice(0, at) + r.pick(["{", "}", "[", "]", ",", ":", '"', "NaN", "Infinity", "-", "1e999", "\\", "\u0000"]) + s.slice(at);
    case 2:
      return s.slice(0, at) + s.slice(at + 1 + r.int(8));
    default:
      return s.replace(/\d/g, (d) => (r.chance(0.1) ? r.pick(["9e999", "-1", "0.5", "1e39", d + d]) : d));
  }
}

// ---------------------------------------------------------------------------------------------
// the harness

/**
 * Run `cases` corruptions: `make(r)` builds the input of case i from its own PRNG, `read` parses it
 * and `check` asserts that a successful result is well formed. A thrown error must be an
 * `expected` class (a `VdmError`) with a message naming `source`.
 */
export function fuzz<I, O>(
  t: TestContext,
  name: string,
  seed: number,
  make: (r: Random) => I,
  read: (input: I) => O,
  check: (out: O, input: I) => void,
  expected: new (...args: never[]) => VdmError,
  source: string,
) {
  const tally = { ok: 0, typed: 0 };
  let total = 0;
  let slowest = 0;
  const first = new Map<string, string>();
  const start = performance.now();
  for (let i = 0; i < CASES; i++) {
    const where = `${name}: seed ${seed}, case ${i}`;
    const input = make(new Random((seed ^ Math.imul(i + 1, 0x9e3779b9)) >>> 0));
    const attempt = () => {
      const before = process.memoryUsage().arrayBuffers;
      const t0 = performance.now();
      let result: { out: O } | { err: unknown };
      try {
        result = { out: read(input) };
      } catch (err) {
        result = { err };
      }
      const ms = performance.now() - t0;
      const growth = process.memoryUsage().arrayBuffers - before;
      return { result, ms, growth };
    };
    let { result, ms, growth } = attempt();
    if (ms > CASE_MS) ({ result, ms, growth } = attempt()); // forgive one GC pause or scheduling hiccup
    total += ms;
    slowest = Math.max(slowest, ms);
    assert.ok(ms <= CASE_MS, `${where}: took ${ms.toFixed(1)} ms (twice over ${CASE_MS} ms)`);
    assert.ok(growth <= MAX_GROWTH, `${where}: ArrayBuffer memory grew by ${growth} bytes`);
    if ("err" in result) {
      const err = result.err as Error;
      if (!(err instanceof expected)) assert.fail(`${where}: ${err?.name ?? typeof err} leaked: ${err?.message}\n${err?.stack}`);
      assert.ok(err.message.startsWith(source), `${where}: the message does not name ${source}: ${err.message}`);
      assert.ok(err.message.length < 1000, `${where}: a ${err.message.length}-character message: ${err.message.slice(0, 200)}…`);
      assert.doesNotMatch(err.message, /(^|\s)--[a-z]/, `${where}: a command-line flag in a library message: ${err.message}`);
      tally.typed++;
      const kind = err.message
        .slice(source.length)
        .replace(/-?\d[\d.e+-]*/g, "#")
        .slice(0, 60);
      if (!first.has(kind)) first.set(kind, `case ${i}`);
    } else {
      try {
        check(result.out, input);
      } catch (err) {
        assert.fail(`${where}: parsed, but the result is malformed: ${(err as Error).message}`);
      }
      tally.ok++;
    }
  }
  const wall = performance.now() - start;
  t.diagnostic(
    `${name}: ${CASES} cases (${tally.typed} ${expected.name}s of ${first.size} kinds, ${tally.ok} parsed) in ${wall.toFixed(0)} ms (reading ${total.toFixed(0)} ms), slowest ${slowest.toFixed(1)} ms`,
  );
  assert.ok(total <= TOTAL_MS, `${name}: ${CASES} cases took ${total.toFixed(0)} ms of reading, over ${TOTAL_MS} ms`);
  assert.ok(tally.typed > CASES / 10 && tally.ok + tally.typed === CASES, `${name}: too few corruptions were caught (${tally.typed})`);
}

/** Whether `x` is a count: a safe integer, at least 0. */
export const isCount = (x: number) => Number.isSafeInteger(x) && x >= 0;
