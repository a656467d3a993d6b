/** The number of classes of a labelled set, and the split of a small points file. */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { DataError } from "../errors.js";
import { loadSplit } from "./index.js";
import { classCount } from "./sets.js";

describe("classCount", () => {
  it("is the largest label + 1 for a set of 200 000 points (spreading the labels into Math.max overflowed the stack)", () => {
    const n = 200_000;
    const labels = Int32Array.from({ length: n }, (_, i) => i % 3);
    assert.equal(classCount({ points: new Float32Array(2 * n), n, dim: 2, labels }, "big.csv"), 3);
  });
});

describe("loadSplit of a small points file", () => {
  const dir = mkdtempSync(join(tmpdir(), "vdm-split-"));
  it("holds out at least 2 points (one gave a held-out ELBO of ± NaN)", () => {
    const file = join(dir, "five.csv");
    writeFileSync(file, "x,y\n1,2\n3,4\n5,6\n7,8\n1,1\n");
    const { train, test } = loadSplit(file, 0);
    assert.equal(test.n, 2);
    assert.equal(train.n, 3);
  });
  it("refuses fewer than 4 points, naming the file", () => {
    const file = join(dir, "three.json");
    writeFileSync(file, "[[1,2],[3,4],[5,6]]");
    assert.throws(
      () => loadSplit(file, 0),
      (e: Error) => e instanceof DataError && /three\.json: 3 points are too few: at least 4/.test(e.message),
    );
  });
});
