/** safetensors, PNG and atomic writes, checked by independent decoders and byte surgery. */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { inflateSync } from "node:zlib";
import { writeFileAtomic } from "./atomic.js";
import { encodePng } from "./png.js";
import { decodeSafetensors, encodeSafetensors } from "./safetensors.js";

describe("safetensors", () => {
  const tensors = {
    a: { shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) },
    key: { shape: [2], data: Uint32Array.from([7, 4294967295]) },
    d: { shape: [1], data: Float64Array.from([Math.PI]) },
  };

  it("round-trips tensors and metadata; the header follows the format (8-byte length, JSON, aligned)", () => {
    const bytes = encodeSafetensors(tensors, { step: "12" });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    assert.equal((8 + n) % 8, 0);
    const header = JSON.parse(Buffer.from(bytes.subarray(8, 8 + n)).toString());
    assert.deepEqual(header.a, { dtype: "F32", shape: [2, 3], data_offsets: [0, 24] });
    const { tensors: back, metadata } = decodeSafetensors(Buffer.from(bytes)); // a Buffer, as readFileSync gives
    assert.deepEqual(metadata, { step: "12" });
    assert.deepEqual(Array.from(back.a!.data), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(Array.from(back.key!.data), [7, 4294967295]);
    assert.equal(back.d!.data[0], Math.PI);
  });

  it("names truncation and corruption", () => {
    const bytes = encodeSafetensors(tensors);
    assert.throws(() => decodeSafetensors(bytes.subarray(0, 5), "f"), /f: truncated: 5 bytes, no header/);
    assert.throws(() => decodeSafetensors(bytes.subarray(0, 40), "f"), /f: truncated or corrupt: header of/);
    assert.throws(() => decodeSafetensors(bytes.subarray(0, bytes.length - 4), "f"), /f: truncated: tensor d ends at byte/);
    const garbled = Uint8Array.from(bytes);
    garbled[9] = 0x7b; // "{{" is not JSON
    assert.throws(() => decodeSafetensors(garbled, "f"), /f: corrupt header \(not JSON\)/);
    const extra = new Uint8Array(bytes.length + 3);
    extra.set(bytes);
    assert.throws(() => decodeSafetensors(extra, "f"), /f: corrupt: 3 bytes after the last tensor/);
  });
});

describe("PNG", () => {
  it("has a valid signature, IHDR, CRCs, and scanlines that inflate back to the pixels", () => {
    const w = 3,
      h = 2;
    const rgba = Uint8Array.from({ length: w * h * 4 }, (_, i) => (i * 37) % 256);
    const png = Buffer.from(encodePng(w, h, rgba));
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    let pos = 8;
    const chunks: Record<string, Buffer> = {};
    while (pos < png.length) {
      const len = png.readUInt32BE(pos);
      const type = png.subarray(pos + 4, pos + 8).toString("ascii");
      const data = png.subarray(pos + 8, pos + 8 + len);
      // CRC-32 over type + data, computed bit by bit here
      let c = 0xffffffff;
      for (const b of png.subarray(pos + 4, pos + 8 + len)) {
        c ^= b;
        for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
      }
      assert.equal(png.readUInt32BE(pos + 8 + len), (c ^ 0xffffffff) >>> 0, `${type} CRC`);
      chunks[type] = data;
      pos += 12 + len;
    }
    assert.equal(chunks.IHDR!.readUInt32BE(0), w);
    assert.equal(chunks.IHDR!.readUInt32BE(4), h);
    const raw = inflateSync(chunks.IDAT!);
    for (let y = 0; y < h; y++) {
      assert.equal(raw[y * (w * 4 + 1)], 0, "filter type 0");
      assert.deepEqual([...raw.subarray(y * (w * 4 + 1) + 1, (y + 1) * (w * 4 + 1))], [...rgba.subarray(y * w * 4, (y + 1) * w * 4)]);
    }
    assert.ok("IEND" in chunks);
  });
});

describe("atomic writes", () => {
  it("replace the file whole and leave no temporary file", () => {
    const dir = mkdtempSync(join(tmpdir(), "vdm-atomic-"));
    const path = join(dir, "f.json");
    writeFileAtomic(path, "one");
    writeFileAtomic(path, "two");
    assert.equal(readFileSync(path, "utf8"), "two");
    assert.deepEqual(readdirSync(dir), ["f.json"]);
    assert.throws(() => writeFileAtomic(join(dir, "missing", "f"), "x"), /ENOENT/);
    assert.ok(!existsSync(join(dir, "missing")));
  });
});
