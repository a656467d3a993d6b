/**
 * The IDX format of MNIST-style data sets (optionally gzipped): two zero bytes, a type byte
 * (0x08 = unsigned byte, the only one these sets use), the number of dimensions n, n big-endian
 * 32-bit sizes, then the values row-major. Errors are `DataError`s naming the file and the problem.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { DataError } from "../errors.js";
import { decodeIdx, type IdxArray } from "./idx-format.js";

export type { IdxArray } from "./idx-format.js";

/** The most bytes a gzipped IDX file may inflate to (the full Fashion-MNIST training images are 47 MB). */
export const maxIdxBytes = 2 ** 30;

/**
 * Parse IDX bytes (gzipped or not; at most `maxBytes` once inflated). The header's sizes are
 * checked against the bytes present before anything is allocated by them.
 */
export function parseIdx(bytes: Uint8Array, source = "IDX", { maxBytes = maxIdxBytes } = {}): IdxArray {
  let raw = bytes;
  if (raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      raw = gunzipSync(raw, { maxOutputLength: maxBytes });
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code === "ERR_BUFFER_TOO_LARGE")
        throw new DataError(`${source}: the gzip data inflate to more than ${maxBytes} bytes`, { cause: err });
      throw new DataError(`${source}: corrupt gzip data (${e.message})`, { cause: err });
    }
  }
  return decodeIdx(raw, source);
}

export interface ImageSet {
  /** [n, rows, cols] unsigned bytes */
  images: IdxArray;
  labels: Uint8Array;
}

/** Read `{prefix}-images-idx3-ubyte[.gz]` and `{prefix}-labels-idx1-ubyte[.gz]` from a directory. */
export function readIdxPair(dir: string, prefix: "train" | "t10k"): ImageSet {
  const find = (kind: string) => {
    for (const name of [`${prefix}-${kind}`, `${prefix}-${kind}.gz`]) if (existsSync(join(dir, name))) return join(dir, name);
    throw new DataError(`no ${prefix}-${kind}[.gz] in ${dir}${existsSync(dir) ? "" : " (no such directory)"}`);
  };
  const imagesPath = find("images-idx3-ubyte");
  const labelsPath = find("labels-idx1-ubyte");
  const images = parseIdx(readBytes(imagesPath), imagesPath);
  const labels = parseIdx(readBytes(labelsPath), labelsPath);
  if (images.shape.length !== 3) throw new DataError(`${imagesPath}: expected [n, rows, cols], got [${images.shape.join(", ")}]`);
  if (images.shape.includes(0)) throw new DataError(`${imagesPath}: no pixels in images of shape [${images.shape.join(", ")}]`);
  if (labels.shape.length !== 1 || labels.shape[0] !== images.shape[0]) {
    throw new DataError(
      labels.shape.length !== 1
        ? `${labelsPath}: expected [n] labels, got [${labels.shape.join(", ")}]`
        : `${labelsPath}: ${labels.shape[0]} labels for ${images.shape[0]} images`,
    );
  }
  return { images, labels: labels.data };
}

function readBytes(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new DataError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
}

/** Encode unsigned bytes of `shape` as IDX (for shipping subsets and for tests). */
export function encodeIdx(shape: number[], data: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * shape.length + data.length);
  out.set([0, 0, 0x08, shape.length]);
  const view = new DataView(out.buffer);
  shape.forEach((s, k) => view.setUint32(4 + 4 * k, s, false));
  out.set(data, 4 + 4 * shape.length);
  return out;
}
