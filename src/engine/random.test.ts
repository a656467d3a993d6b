/**
 * The host's random numbers (random.ts) against jax-js's own `random` on the wasm device, bit for
 * bit: keys, uniform and normal draws, and an `Rng` stream against the same stream in jax-js.
 */

import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { initEngine, Rng } from "./index.js";
import { type Array, numpy as np, random } from "./jax.js";
import { normal, splitKey, uniform } from "./random.js";

const bitsOf = (x: Float32Array) => new Uint32Array(x.buffer, x.byteOffset, x.length);

/** The first index where a and b differ in their bits, with both values, or null. */
function firstDifference(a: Float32Array, b: Float32Array): string | null {
  assert.equal(a.length, b.length);
  const [ba, bb] = [bitsOf(a), bitsOf(b)];
  for (let i = 0; i < a.length; i++) if (ba[i] !== bb[i]) return `index ${i}: host ${a[i]} vs jax-js ${b[i]}`;
  return null;
}

const jaxKey = (k: Uint32Array): Array => np.array(k, { dtype: np.uint32 });
const keys = [Uint32Array.of(0, 0), Uint32Array.of(0, 42), Uint32Array.of(0xdeadbeef, 0x01234567), Uint32Array.of(0xffffffff, 0xffffffff)];

describe("host random numbers equal jax-js's on wasm", () => {
  before(async () => {
    await initEngine("wasm");
  });

  it("split: both keys, for keys with every bit pattern above", () => {
    for (const k of keys) {
      const theirs = random.split(jaxKey(k), 2).dataSync() as Uint32Array;
      assert.deepEqual([...splitKey(k).flatMap((x) => [...x])], [...theirs]);
    }
  });

  it("uniform: 100,000 draws per key, every bit", () => {
    for (const k of keys) {
      const theirs = random.uniform(jaxKey(k), [100_000]).dataSync() as Float32Array;
      assert.equal(firstDifference(uniform(k, 100_000), theirs), null);
    }
  });

  it("normal: 200,000 draws per key (both branches of log1p, every quadrant of cos), every bit", () => {
    for (const k of keys) {
      const theirs = random.normal(jaxKey(k), [200_000]).dataSync() as Float32Array;
      const ours = normal(k, 200_000);
      assert.equal(firstDifference(ours, theirs), null);
      // and they are standard normal: mean and variance within 5 standard errors
      const n = ours.length;
      const mean = ours.reduce((s, v) => s + v, 0) / n;
      const variance = ours.reduce((s, v) => s + (v - mean) ** 2, 0) / n;
      assert.ok(Math.abs(mean) < 5 / Math.sqrt(n), `mean ${mean}`);
      assert.ok(Math.abs(variance - 1) < 5 * Math.sqrt(2 / n), `variance ${variance}`);
    }
  });

  it("an Rng stream equals the same splits and draws made by jax-js, on either side of the host limit", () => {
    const rng = new Rng(7);
    let key = random.key(7);
    for (const [kind, shape] of [
      ["normal", [256, 2]],
      ["uniform", [256]],
      ["normal", [100, 100]],
      ["uniform", [3]],
      ["normal", [1]],
    ] as const) {
      const both = random.split(key, 2).dataSync() as Uint32Array;
      key = np.array(both.slice(0, 2), { dtype: np.uint32 });
      const subKey = np.array(both.slice(2, 4), { dtype: np.uint32 });
      const theirs = (
        kind === "normal" ? random.normal(subKey, [...shape]) : random.uniform(subKey, [...shape])
      ).dataSync() as Float32Array;
      const ours = (kind === "normal" ? rng.normal([...shape]) : rng.uniform([...shape])).dataSync() as Float32Array;
      assert.equal(firstDifference(ours, theirs), null, `${kind} ${shape}`);
    }
    assert.deepEqual([...rng.state()], [...(key.dataSync() as Uint32Array)]);
  });
});
