/** The .npy writer against a reader written here from the format's specification. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { npyBytes } from "./npy.js";

/** Parse .npy v1.0 bytes: magic, version, header dict, then the data as the dict says. */
function readNpy(bytes: Uint8Array): { descr: string; fortran: boolean; shape: number[]; values: number[] } {
  assert.deepEqual([...bytes.subarray(0, 6)], [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59], "magic");
  assert.deepEqual([...bytes.subarray(6, 8)], [1, 0], "version 1.0");
  const headerLength = bytes[8]! | (bytes[9]! << 8);
  assert.equal((10 + headerLength) % 64, 0, "data aligned to 64 bytes");
  const header = Buffer.from(bytes.subarray(10, 10 + headerLength)).toString("latin1");
  assert.ok(header.endsWith("\n"), "header ends in a newline");
  const descr = /'descr':\s*'([^']+)'/.exec(header)![1]!;
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)![1] === "True";
  const shape = /'shape':\s*\(([^)]*)\)/
    .exec(header)![1]!
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  const view = new DataView(bytes.buffer, bytes.byteOffset + 10 + headerLength);
  const count = shape.reduce((a, b) => a * b, 1);
  const size = { "<f4": 4, "<i4": 4, "|u1": 1 }[descr]!;
  assert.equal(view.byteLength, count * size, "data length");
  const values = Array.from({ length: count }, (_, i) =>
    descr === "<f4" ? view.getFloat32(4 * i, true) : descr === "<i4" ? view.getInt32(4 * i, true) : view.getUint8(i),
  );
  return { descr, fortran, shape, values };
}

describe(".npy writer", () => {
  it("round-trips float32 points, uint8 images and int32 labels (shape, dtype, values)", () => {
    const cases = [
      [Float32Array.from({ length: 6 }, (_, i) => i * 0.25 - 1.1), [3, 2], "<f4"],
      [Uint8Array.from({ length: 2 * 28 * 28 }, (_, i) => (i * 37) % 256), [2, 28, 28], "|u1"],
      [Int32Array.of(0, 9, 3, -1), [4], "<i4"],
    ] as const;
    for (const [data, shape, descr] of cases) {
      const got = readNpy(npyBytes(data, shape));
      assert.equal(got.descr, descr);
      assert.equal(got.fortran, false);
      assert.deepEqual(got.shape, shape);
      assert.deepEqual(got.values, Array.from(data));
    }
  });
  it("names a shape that does not fit the data", () => {
    assert.throws(() => npyBytes(new Float32Array(5), [2, 2]), /shape \[2, 2\] holds 4 values, the data 5/);
  });
});
