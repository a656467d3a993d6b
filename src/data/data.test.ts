/** Built-in sets and user files: shapes, labels, reproducibility, and errors that name the line. */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { Rng } from "../engine/index.js";
import { useEngine } from "../testing/helpers.js";
import { parseCsv, parseJsonPoints } from "./files.js";
import { loadSplit, toyNames } from "./index.js";
import { toyData } from "./toy.js";

useEngine("wasm");

describe("built-in 2-D sets", () => {
  it("have n points of dimension 2, finite, reproducible from the seed, with labels where natural", () => {
    for (const name of toyNames) {
      const a = toyData(name, 500, new Rng(3));
      const b = toyData(name, 500, new Rng(3));
      assert.equal(a.n, 500);
      assert.equal(a.points.length, 1000);
      assert.ok(a.points.every(Number.isFinite), name);
      assert.deepEqual(a.points, b.points, `${name} reproducible`);
      if (a.labels)
        assert.ok(
          a.labels.every((l) => l >= 0 && l < 8),
          name,
        );
    }
    assert.equal(toyData("swiss-roll", 10, new Rng(0)).labels, undefined);
    assert.deepEqual(new Set(toyData("eight-gaussians", 2000, new Rng(0)).labels), new Set([0, 1, 2, 3, 4, 5, 6, 7]));
  });

  it("moons: both moons, each within 0.5 of its half circle", () => {
    const { points, labels, n } = toyData("moons", 2000, new Rng(1));
    for (let i = 0; i < n; i++) {
      const [x, y] = [points[2 * i]!, points[2 * i + 1]!];
      const r = labels![i] === 0 ? Math.hypot(x, y) : Math.hypot(x - 1, y - 0.5);
      assert.ok(Math.abs(r - 1) < 0.5, `point ${i} (${x}, ${y}) label ${labels![i]}`);
    }
  });

  it("unknown names list the built-in sets", () => {
    assert.throws(() => loadSplit("spiral", 0), /unknown dataset "spiral" \(built in: moons, .*; or a path to a \.csv or \.json file\)/);
  });
});

describe("user files", () => {
  it("CSV with a header, comments and blank lines", () => {
    const set = parseCsv("x,y\n# comment\n1,2\n\n3.5, -4\n");
    assert.equal(set.n, 2);
    assert.deepEqual(Array.from(set.points), [1, 2, 3.5, -4]);
  });

  it("malformed CSV and JSON errors name the line or point and the problem", () => {
    assert.throws(() => parseCsv("1,2\n3\n", "p.csv"), /p.csv line 2: expected 2 values, got 1/);
    assert.throws(() => parseCsv("1,2\n3,abc\n", "p.csv"), /p.csv line 2: field 2 \("abc"\) is not a finite number/);
    assert.throws(() => parseCsv("x,y\n", "p.csv"), /p.csv: needs at least 2 points/);
    assert.throws(() => parseJsonPoints("[[1,2],[3]]", "p.json"), /p.json: point 1 has 1 values, expected 2/);
    assert.throws(() => parseJsonPoints("[[1,2],[3,null]]", "p.json"), /p.json: point 1, value 1 \(null\) is not a finite number/);
    assert.throws(() => parseJsonPoints("{", "p.json"), /p.json: not valid JSON/);
  });

  it("a file is split 90/10 into disjoint train and held-out points", () => {
    const dir = mkdtempSync(join(tmpdir(), "vdm-data-"));
    const path = join(dir, "pts.json");
    writeFileSync(path, JSON.stringify(Array.from({ length: 50 }, (_, i) => [i, -i])));
    const { train, test } = loadSplit(path, 0);
    assert.equal(train.n, 45);
    assert.equal(test.n, 5);
    const seen = new Set([...train.points.filter((_, i) => i % 2 === 0), ...test.points.filter((_, i) => i % 2 === 0)]);
    assert.equal(seen.size, 50);
    assert.throws(() => loadSplit(join(dir, "nope.csv"), 0), /cannot read data file .*nope.csv: ENOENT/);
  });
});
