import assert from "node:assert/strict";
import { test } from "node:test";
import { Rng } from "../engine/index.js";
import { numpy as np } from "../engine/jax.js";
import { entropyOf, oracleDenoiser, type SequenceDistribution } from "../testing/masked-oracle.js";
import { maskedNelbo } from "./process.js";
import { getMaskingSchedule } from "./schedule.js";

/** A small distribution over 3-token sequences of 4 words, with dependent positions. */
const small: SequenceDistribution = {
  vocabulary: 4,
  length: 3,
  sequences: [
    [0, 1, 2],
    [0, 2, 1],
    [3, 1, 1],
    [3, 3, 0],
    [1, 1, 2],
  ].map((s) => Int32Array.from(s)),
  probabilities: [0.3, 0.1, 0.25, 0.15, 0.2],
};

/** Mean and standard error of the bound over `n` draws of x ~ d (x, z_t and t all random). */
function bound(d: SequenceDistribution, schedule: string, T: number, n: number, seed: number): { mean: number; se: number } {
  const rng = new Rng(seed);
  const pick = rng.uniform([n]).dataSync() as Float32Array;
  const ids = new Float32Array(n * d.length);
  for (let b = 0; b < n; b++) {
    let k = 0;
    for (let acc = d.probabilities[0]!; acc < pick[b]! && k < d.sequences.length - 1; acc += d.probabilities[++k]!);
    ids.set(d.sequences[k]!, b * d.length);
  }
  const oracle = oracleDenoiser(d);
  const values = maskedNelbo(
    (z) => oracle.logits({}, z),
    getMaskingSchedule(schedule),
    d.vocabulary,
    np.array(ids).reshape([n, d.length]),
    rng.uniform([n, d.length]),
    rng.uniform([n]),
    T,
  ).dataSync() as Float32Array;
  const mean = values.reduce((a, v) => a + v, 0) / n;
  const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1);
  return { mean, se: Math.sqrt(variance / n) };
}

test("the continuous-time bound of the exact denoiser equals the entropy, for two schedules", () => {
  const H = entropyOf(small);
  for (const schedule of ["linear", "cosine"]) {
    const { mean, se } = bound(small, schedule, 0, 20000, 1);
    assert.ok(Math.abs(mean - H) < 4 * se, `${schedule}: ${mean} ± ${se} vs H = ${H}`);
  }
});

test("the discrete-T bound of the exact denoiser lies above the entropy and falls to it as T grows", () => {
  const H = entropyOf(small);
  const one = bound(small, "linear", 1, 20000, 2);
  const four = bound(small, "linear", 4, 20000, 3);
  const many = bound(small, "linear", 200, 20000, 4);
  assert.ok(one.mean - H > 10 * one.se, `T = 1: ${one.mean} vs ${H}`);
  assert.ok(four.mean - H > 4 * four.se && four.mean < one.mean - 4 * one.se, `T = 4: ${four.mean}`);
  assert.ok(Math.abs(many.mean - H) < 4 * many.se + 0.01, `T = 200: ${many.mean} ± ${many.se} vs ${H}`);
});
