/**
 * Fuzzing every reader of outside input: the safetensors decoder, the IDX reader, the CSV and
 * JSON points readers, the Gaussian-mixture reader and the run-config validator each get 1,000
 * seeded random corruptions of a valid input (truncation, flipped and random bytes, huge declared
 * sizes, wrong JSON types, missing fields, NaN/Infinity, deep nesting, very long values). Every
 * case must end in the reader's typed error (a `VdmError` subclass, never a TypeError, RangeError or
 * SyntaxError leaking out) or in a well-formed result, quickly, and without allocating by a huge
 * declared size. Each case has its own PRNG (mulberry32 of the suite's seed and the case index), so
 * a failure names the seed and case to replay.
 */
import assert from "node:assert/strict";
import { describe, it, type TestContext } from "node:test";
import { gzipSync } from "node:zlib";
import { jsonPoints, parseCsv, parseJson, parseJsonPoints } from "../data/files.js";
import { encodeIdx, parseIdx } from "../data/idx.js";
import { mixtureFromJson } from "../data/mixture-file.js";
import { mulberry32 } from "../data/mulberry32.js";
import type { PointSet } from "../data/toy.js";
import { CheckpointError, ConfigError, DataError, type VdmError } from "../errors.js";
import type { GaussianMixture } from "../models/mixture.js";
import { dataShape, labelClasses } from "../train/build.js";
import { type RunConfig, validateRunConfig } from "../train/config.js";
import { makeRunConfig } from "../train/defaults.js";
import { decodeSafetensors, encodeSafetensors } from "./safetensors.js";

const CASES = 1000;
/** the slowest a single case may be (a case over it is timed again, to forgive a GC pause) */
const CASE_MS = 100;
/** the most all cases of one reader may take together */
const TOTAL_MS = 5000;
/** the most a case may grow ArrayBuffer memory: every valid input here is a few kilobytes */
const MAX_GROWTH = 64 * 2 ** 20;

class Random {
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
const NASTY_NUMBERS = [
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
const NASTY_STRINGS = ["", "NaN", "Infinity", "-Infinity", "1e999", "0x10", "__proto__", "constructor", "toString", "\u0000", "é", "🙂"];
const LONG = 100_000;

/** A corrupted copy of `bytes`. `fields`: offsets of 4-byte big-endian (be) or 8-byte little-endian (le) sizes worth overwriting with huge values. */
function corruptBytes(r: Random, bytes: Uint8Array, fields: { offset: number; width: 4 | 8; be: boolean }[] = []): Uint8Array {
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

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

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
function corruptJson(r: Random, valid: Json, text: boolean): { value?: unknown; text?: string } {
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

function corruptText(r: Random, s: string): string {
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
function fuzz<I, O>(
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

const isCount = (x: number) => Number.isSafeInteger(x) && x >= 0;

function checkPoints(set: PointSet): void {
  assert.ok(set.n >= 2 && set.dim >= 1, `n ${set.n}, dim ${set.dim}`);
  assert.ok(set.points instanceof Float32Array);
  assert.equal(set.points.length, set.n * set.dim);
  assert.ok(set.points.every(Number.isFinite), "a non-finite coordinate");
  if (set.labels) {
    assert.equal(set.labels.length, set.n);
    assert.ok(
      set.labels.every((y) => y >= 0),
      "a negative label",
    );
  }
}

function checkMixture(m: GaussianMixture): void {
  const K = m.weights.length;
  assert.ok(K >= 1);
  const D = m.means[0]!.length;
  assert.ok(D >= 1);
  assert.ok(
    m.weights.every((w) => w > 0 && Number.isFinite(w)),
    "weights positive",
  );
  assert.ok(Math.abs(m.weights.reduce((a, b) => a + b, 0) - 1) < 1e-9, "weights sum to 1");
  assert.equal(m.means.length, K);
  assert.equal(m.variances.length, K);
  for (let k = 0; k < K; k++) {
    assert.ok(m.means[k]!.length === D && m.means[k]!.every(Number.isFinite), `means[${k}]`);
    assert.ok(m.variances[k]!.length === D && m.variances[k]!.every((v) => v > 0 && Number.isFinite(v)), `variances[${k}]`);
    const c = m.covariances?.[k];
    if (c)
      assert.ok(
        c.length === D && c.every((row, d) => row.length === D && row.every(Number.isFinite) && row[d] === m.variances[k]![d]),
        `covariances[${k}]`,
      );
  }
}

// ---------------------------------------------------------------------------------------------
// the readers

describe("fuzzing the readers: typed errors or well-formed results, quickly", () => {
  it("safetensors decoder", (t) => {
    const valid = encodeSafetensors(
      {
        "params.w": { shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) },
        "params.b": { shape: [3], data: Float64Array.from([0.5, -1, 2]) },
        rng: { shape: [2], data: Uint32Array.from([7, 4294967295]) },
        count: { shape: [], data: Int32Array.from([-3]) },
        empty: { shape: [0, 4], data: new Float32Array(0) },
      },
      { step: "12", format: "vdm-1" },
    );
    const n = Number(new DataView(valid.buffer).getBigUint64(0, true));
    const header = JSON.parse(Buffer.from(valid.subarray(8, 8 + n)).toString()) as Json;
    const body = valid.subarray(8 + n);
    /** the file with its header replaced by `text` (and the length field made to fit, mostly) */
    const withHeader = (r: Random, text: string) => {
      const h = Buffer.from(text, "utf8");
      const out = new Uint8Array(8 + h.length + body.length);
      new DataView(out.buffer).setBigUint64(0, BigInt(r.chance(0.9) ? h.length : r.int(h.length + 64)), true);
      out.set(h, 8);
      out.set(body, 8 + h.length);
      return out;
    };
    fuzz(
      t,
      "safetensors",
      0x5afe,
      (r) =>
        r.chance(0.5) ? corruptBytes(r, valid, [{ offset: 0, width: 8, be: false }]) : withHeader(r, corruptJson(r, header, true).text!),
      (bytes) => decodeSafetensors(bytes, "fuzz.safetensors"),
      ({ tensors, metadata }) => {
        for (const [name, tensor] of Object.entries(tensors)) {
          assert.ok(["F32", "F64", "I32", "U32"].includes(tensor.dtype), `${name}: dtype ${tensor.dtype}`);
          assert.ok(tensor.shape.every(isCount), `${name}: shape [${tensor.shape}]`);
          assert.equal(
            tensor.data.length,
            tensor.shape.reduce((a, b) => a * b, 1),
            `${name}: ${tensor.data.length} values for shape [${tensor.shape}]`,
          );
          const array = { F32: Float32Array, F64: Float64Array, I32: Int32Array, U32: Uint32Array }[tensor.dtype];
          assert.ok(tensor.data instanceof array, `${name}: data is not a ${array.name}`);
        }
        assert.ok(
          Object.values(metadata).every((v) => typeof v === "string"),
          "metadata of strings",
        );
      },
      CheckpointError,
      "fuzz.safetensors: ",
    );
  });

  it("IDX reader, raw and gzipped", (t) => {
    const images = Uint8Array.from({ length: 5 * 3 * 4 }, (_, i) => (i * 37) % 256);
    const raw = encodeIdx([5, 3, 4], images);
    const gz = gzipSync(raw);
    const sizes = [4, 8, 12].map((offset) => ({ offset, width: 4 as const, be: true }));
    fuzz(
      t,
      "IDX",
      0x1d8,
      (r) => {
        const pick = r.int(4);
        if (pick === 0) return corruptBytes(r, gz); // corrupt gzip streams
        if (pick === 1) return gzipSync(corruptBytes(r, raw, sizes)); // a valid stream of a corrupt file
        const bytes = corruptBytes(r, raw, sizes);
        if (r.chance(0.2) && bytes.length > 3) bytes[3] = r.pick([0, 1, 2, 4, 64, 255]); // the number of dimensions
        return bytes;
      },
      (bytes) => parseIdx(bytes, "fuzz.idx"),
      ({ shape, data }) => {
        assert.ok(shape.length >= 1 && shape.every(isCount), `shape [${shape}]`);
        assert.ok(data instanceof Uint8Array);
        assert.equal(
          data.length,
          shape.reduce((a, b) => a * b, 1),
        );
      },
      DataError,
      "fuzz.idx: ",
    );
  });

  it("IDX reader: a gzip bomb stops at the inflated-size limit", () => {
    const bomb = gzipSync(new Uint8Array(2 ** 22)); // 4 MiB of zeros in ~4 kB
    assert.ok(bomb.length < 10_000);
    assert.throws(
      () => parseIdx(bomb, "bomb.gz", { maxBytes: 2 ** 20 }),
      (err: Error) => err instanceof DataError && /bomb.gz: the gzip data inflate to more than 1048576 bytes/.test(err.message),
    );
  });

  it("CSV points reader", (t) => {
    const lines = ["x,y,label", "0.5,-1,0", "1e3,2.25,1", "-3,4,1", "# a comment", "", "7,8e-3,0"];
    const valid = lines.join("\n");
    fuzz(
      t,
      "CSV",
      0xc5e,
      (r) => {
        const labelColumn = r.pick(["", "", "", "2", "label", "0", "9", "x"]);
        let text: string;
        switch (r.int(4)) {
          case 0:
            text = Buffer.from(corruptBytes(r, Buffer.from(valid))).toString("utf8");
            break;
          case 1:
            text = corruptText(r, valid);
            break;
          case 2: {
            // one field replaced by something nasty
            const rows = lines.map((l) => l.split(","));
            const row = rows[r.int(rows.length)]!;
            row[r.int(row.length)] = r.pick([...NASTY_STRINGS, ...NASTY_NUMBERS.map(String), "x".repeat(LONG), " ", "1,2"]);
            text = rows.map((f) => f.join(",")).join(r.pick(["\n", "\r\n"]));
            break;
          }
          default:
            // very many or very long lines
            text = r.chance(0.5) ? `x,y\n${"1,2\n".repeat(5000)}` : `${"1,".repeat(5000)}1\n${"2,".repeat(5000 + r.int(2) - 1)}2`;
        }
        return { text, labelColumn };
      },
      ({ text, labelColumn }) => parseCsv(text, "fuzz.csv", labelColumn),
      (set) => checkPoints(set),
      DataError,
      "fuzz.csv",
    );
  });

  it("JSON points reader", (t) => {
    const valid: Json = [
      [0.5, -1],
      [1000, 2.25],
      [-3, 4],
      [7, 0.008],
    ];
    fuzz(
      t,
      "JSON points",
      0x15,
      (r) => (r.chance(0.5) ? corruptJson(r, valid, true) : corruptJson(r, valid, false)),
      ({ text, value }) => (text !== undefined ? parseJsonPoints(text, "fuzz.json") : jsonPoints(value, "fuzz.json")),
      (set) => checkPoints(set),
      DataError,
      "fuzz.json: ",
    );
  });

  it("Gaussian-mixture reader", (t) => {
    const diagonal: Json = {
      weights: [0.25, 0.75],
      means: [
        [0, 1],
        [2, -1],
      ],
      stds: [
        [1, 0.5],
        [0.3, 0.3],
      ],
    };
    const full: Json = {
      weights: [0.4, 0.6],
      means: [
        [0, 1],
        [2, -1],
      ],
      covariances: [
        [
          [1, 0.5],
          [0.5, 2],
        ],
        [
          [0.5, 0.3],
          [0.3, 0.4],
        ],
      ],
    };
    fuzz(
      t,
      "mixture",
      0x313,
      (r) => corruptJson(r, r.pick([diagonal, full]), r.chance(0.5)),
      ({ text, value }) => mixtureFromJson(text !== undefined ? parseJson(text, "fuzz-mixture.json") : value, "fuzz-mixture.json"),
      (m) => checkMixture(m),
      DataError,
      "fuzz-mixture.json: ",
    );
  });

  it("run-config validator", (t) => {
    const points = { spec: "moons", dim: 2, mean: [0.5, 0.25], std: [0.87, 0.5], train: 20000, test: 2000 };
    const image = { spec: "fashion-mnist", dim: 784, mean: [127.5], std: [127.5], train: 2000, test: 500, shape: [28, 28, 1] };
    const valid: RunConfig[] = [
      makeRunConfig(points, {}),
      makeRunConfig(points, { schedule: "learned", timesteps: 0, lrDecay: "cosine", classes: 8 }),
      makeRunConfig(image, { classes: 10 }),
      makeRunConfig(image, { architecture: "cnn", classifierClasses: 10 }),
      makeRunConfig(points, { classifierClasses: 2, schedule: "linear" }),
    ];
    fuzz(
      t,
      "config",
      0xc0f,
      (r) => {
        const base = r.pick(valid) as unknown as Json;
        const { text, value } = corruptJson(r, base, r.chance(0.3));
        if (text === undefined) return value;
        try {
          return JSON.parse(text) as unknown;
        } catch {
          return text; // a string is not a config either
        }
      },
      (value) => validateRunConfig(value, "fuzz config.json"),
      (config, input) => {
        assert.equal(config, input, "the validated config is the value given");
        assert.ok(Number.isSafeInteger(config.steps) && config.steps >= 1, `steps ${config.steps}`);
        assert.ok(Number.isSafeInteger(config.data.dim) && config.data.dim >= 1, `dim ${config.data.dim}`);
        assert.equal(
          dataShape(config).reduce((a, b) => a * b, 1),
          config.data.dim,
          "the example shape holds dim values",
        );
        assert.ok(isCount(labelClasses(config)), "label classes");
        assert.ok(
          config.data.std.every((s) => s > 0 && Number.isFinite(s)),
          "std",
        );
      },
      ConfigError,
      "fuzz config.json: ",
    );
  });
});
