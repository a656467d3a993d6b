/** IDX reading on good and malformed files: magic, type, truncation, size mismatch, gzip. */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import { encodeIdx, parseIdx, readIdxPair } from "./idx.js";

const images = Uint8Array.from({ length: 3 * 2 * 4 }, (_, i) => (i * 11) % 256);

describe("IDX", () => {
  it("reads a file written by hand (header bytes spelled out), raw or gzipped", () => {
    const header = [0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 4];
    const bytes = Uint8Array.from([...header, ...images]);
    for (const file of [bytes, gzipSync(bytes)]) {
      const a = parseIdx(file);
      assert.deepEqual(a.shape, [3, 2, 4]);
      assert.deepEqual([...a.data], [...images]);
    }
    assert.deepEqual([...encodeIdx([3, 2, 4], images)], [...bytes]);
  });

  it("names wrong magic, wrong type, truncation and size mismatch", () => {
    const good = encodeIdx([3, 2, 4], images);
    assert.throws(() => parseIdx(Uint8Array.from([1, 2, 3, 4, 5]), "f"), /f: wrong magic number/);
    const float = Uint8Array.from(good);
    float[2] = 0x0d;
    assert.throws(() => parseIdx(float, "f"), /f: element type 0xd is not unsigned bytes/);
    assert.throws(() => parseIdx(good.subarray(0, 9), "f"), /f: truncated header/);
    assert.throws(
      () => parseIdx(good.subarray(0, good.length - 5), "f"),
      /f: 19 data bytes, but the header's shape \[3, 2, 4\] needs 24 \(truncated\)/,
    );
    assert.throws(() => parseIdx(Uint8Array.from([...good, 1]), "f"), /f: 25 data bytes, but the header's shape \[3, 2, 4\] needs 24/);
    assert.throws(() => parseIdx(Uint8Array.from([0x1f, 0x8b, 1, 2, 3]), "f"), /f: corrupt gzip data/);
  });

  it("pairs images with labels from a directory and checks their counts", () => {
    const dir = mkdtempSync(join(tmpdir(), "vdm-idx-"));
    writeFileSync(join(dir, "t10k-images-idx3-ubyte.gz"), gzipSync(encodeIdx([3, 2, 4], images)));
    writeFileSync(join(dir, "t10k-labels-idx1-ubyte"), encodeIdx([3], Uint8Array.from([1, 0, 9])));
    const set = readIdxPair(dir, "t10k");
    assert.deepEqual([...set.labels], [1, 0, 9]);
    assert.throws(() => readIdxPair(dir, "train"), /no train-images-idx3-ubyte\[\.gz\] in/);
    writeFileSync(join(dir, "t10k-labels-idx1-ubyte"), encodeIdx([2], Uint8Array.from([1, 0])));
    assert.throws(() => readIdxPair(dir, "t10k"), /2 labels for 3 images/);
  });
});
