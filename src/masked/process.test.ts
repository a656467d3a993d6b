import assert from "node:assert/strict";
import { test } from "node:test";
import { entropyOf, oracleBound, small } from "../testing/masked-oracle.js";

test("the continuous-time bound of the exact denoiser equals the entropy, for two schedules", () => {
  const H = entropyOf(small);
  for (const schedule of ["linear", "cosine"]) {
    const { mean, se } = oracleBound(small, schedule, 0, 20000, 1);
    assert.ok(Math.abs(mean - H) < 4 * se, `${schedule}: ${mean} ± ${se} vs H = ${H}`);
  }
});

test("the discrete-T bound of the exact denoiser lies above the entropy and falls to it as T grows", () => {
  const H = entropyOf(small);
  const one = oracleBound(small, "linear", 1, 20000, 2);
  const four = oracleBound(small, "linear", 4, 20000, 3);
  const many = oracleBound(small, "linear", 200, 20000, 4);
  assert.ok(one.mean - H > 10 * one.se, `T = 1: ${one.mean} vs ${H}`);
  assert.ok(four.mean - H > 4 * four.se && four.mean < one.mean - 4 * one.se, `T = 4: ${four.mean}`);
  assert.ok(Math.abs(many.mean - H) < 4 * many.se + 0.01, `T = 200: ${many.mean} ± ${many.se} vs ${H}`);
});
