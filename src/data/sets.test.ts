/** The number of classes of a labelled set. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { classCount } from "./sets.js";

describe("classCount", () => {
  it("is the largest label + 1 for a set of 200 000 points (spreading the labels into Math.max overflowed the stack)", () => {
    const n = 200_000;
    const labels = Int32Array.from({ length: n }, (_, i) => i % 3);
    assert.equal(classCount({ points: new Float32Array(2 * n), n, dim: 2, labels }, "big.csv"), 3);
  });
});
