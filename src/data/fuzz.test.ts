/**
 * Fuzzing the readers of data files: the IDX reader (raw and gzipped), the CSV and JSON points readers
 * and the Gaussian-mixture reader each get 1,000 seeded random corruptions of a valid input (the
 * harness: testing/fuzz.ts); every case ends in the reader's typed error or a well-formed result, quickly.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import { DataError } from "../errors.js";
import { corruptBytes, corruptJson, corruptText, fuzz, isCount, type Json, LONG, NASTY_NUMBERS, NASTY_STRINGS } from "../testing/fuzz.js";
import { CORRELATED_MIXTURE } from "../testing/mixture-file.js";
import { jsonPoints, parseCsv, parseJson, parseJsonPoints } from "./files.js";
import { encodeIdx, parseIdx } from "./idx.js";
import { mixtureFromJson } from "./mixture-file.js";

/** A points reader's result. */
type PointSet = ReturnType<typeof parseCsv>;
/** The mixture reader's result. */
type GaussianMixture = ReturnType<typeof mixtureFromJson>;

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

describe("fuzzing the data files' readers: typed errors or well-formed results, quickly", () => {
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
      means: CORRELATED_MIXTURE.means,
      stds: [
        [1, 0.5],
        [0.3, 0.3],
      ],
    };
    const full: Json = CORRELATED_MIXTURE;
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
});
