/**
 * The IDX format of MNIST-style data sets: two zero bytes, a type byte (0x08 = unsigned byte, the
 * only one these sets use), the number of dimensions n, n big-endian 32-bit sizes, then the values
 * row-major. Decoding needs no file system (a page inflates gzipped files with DecompressionStream);
 * ./idx.ts reads files. Errors are `DataError`s naming the source and the problem.
 */
import { DataError } from "../errors.js";

/** An IDX file's values and shape. */
export interface IdxArray {
  shape: number[];
  data: Uint8Array;
}

/** Decode IDX bytes (not gzipped); the header's sizes are checked against the bytes present before anything is allocated by them. */
export function decodeIdx(raw: Uint8Array, source = "IDX"): IdxArray {
  if (raw.length < 4 || raw[0] !== 0 || raw[1] !== 0) throw new DataError(`${source}: wrong magic number (not an IDX file)`);
  if (raw[2] !== 0x08) throw new DataError(`${source}: element type 0x${raw[2]!.toString(16)} is not unsigned bytes (0x08)`);
  const ndim = raw[3]!;
  if (ndim < 1) throw new DataError(`${source}: the header declares 0 dimensions`);
  if (raw.length < 4 + 4 * ndim) throw new DataError(`${source}: truncated header (${ndim} dimensions)`);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const shape = Array.from({ length: ndim }, (_, k) => view.getUint32(4 + 4 * k, false));
  const count = shape.reduce((a, b) => a * b, 1);
  const start = 4 + 4 * ndim;
  if (raw.length - start !== count) {
    throw new DataError(
      `${source}: ${raw.length - start} data bytes, but the header's shape [${shape.join(", ")}] needs ${count}${raw.length - start < count ? " (truncated)" : ""}`,
    );
  }
  return { shape, data: raw.slice(start) };
}
