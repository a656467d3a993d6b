/**
 * NumPy's .npy format, version 1.0 (numpy.lib.format): the magic "\x93NUMPY", version 1.0, a
 * little-endian uint16 header length, an ASCII header dict {'descr', 'fortran_order', 'shape'}
 * padded with spaces to end in "\n" so that the data start at a multiple of 64 bytes, then the
 * array in C order, little-endian.
 */
import { ShapeError } from "../errors.js";

/** The typed arrays we write, with their NumPy type strings. */
export type NpyData = Float32Array | Int32Array | Uint8Array;

function descr(data: NpyData): string {
  if (data instanceof Float32Array) return "<f4";
  if (data instanceof Int32Array) return "<i4";
  return "|u1";
}

/** The .npy bytes of `data` with `shape` (whose product must be data.length). */
export function npyBytes(data: NpyData, shape: readonly number[]): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) throw new ShapeError(`npy: shape [${shape.join(", ")}] holds ${count} values, the data ${data.length}`);
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  let header = `{'descr': '${descr(data)}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const preamble = 10; // magic (6) + version (2) + header length (2)
  header += `${" ".repeat(64 - ((preamble + header.length + 1) % 64 || 64))}\n`;
  const out = new Uint8Array(preamble + header.length + data.byteLength);
  out.set([0x93, ...Buffer.from("NUMPY", "latin1"), 1, 0]);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(Buffer.from(header, "latin1"), preamble);
  // typed arrays are little-endian on every platform Node runs on (x86, ARM)
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), preamble + header.length);
  return out;
}
