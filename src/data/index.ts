/**
 * Data sets by name: built-in 2-D sets, or a path to the user's CSV/JSON points or to a JSON
 * Gaussian mixture. Training and held-out points are disjoint: built-in sets and mixture files
 * draw them from independent streams of the seed, point files are split 90/10 by a seeded shuffle.
 */
import { Rng } from "../engine/index.js";
import { DataError } from "../errors.js";
import { readDataFile } from "./files.js";
import { defaultImageDir, isImageSet, readImages } from "./images.js";
import { sampleMixtureWithLabels } from "./known.js";
import { isToy, toyData, unknownDataset, type PointSet } from "./toy.js";

export type { PointSet };
export { toyNames, isToy, exampleShape } from "./toy.js";
export { imageNames, isImageSet, defaultImageDir, pixelNormalization } from "./images.js";
export { knownDensityNames, knownMixture, sampleMixture } from "./known.js";
export { mixtureMoments, type GaussianMixture } from "../models/mixture.js";

/** A data set's training and held-out test points (`loadSplit`). */
export interface Split {
  train: PointSet;
  test: PointSet;
}

/** The labels of a set, or an error naming the data set when it has none. */
export function requireLabels(set: PointSet, spec: string): Int32Array {
  if (!set.labels) {
    throw new DataError(`data set "${spec}" has no labels (built-in sets with classes: moons, eight-gaussians, checkerboard, circles, ncsn-gmm; CSV files: name a label column)`);
  }
  return set.labels;
}

/** Number of classes of a labelled set: max label + 1. */
export function classCount(set: PointSet, spec: string): number {
  return Math.max(...requireLabels(set, spec)) + 1;
}

/** The points of row indices `idx`. */
export function subset(set: PointSet, idx: ArrayLike<number>): PointSet {
  const points = new Float32Array(idx.length * set.dim);
  const labels = set.labels ? new Int32Array(idx.length) : undefined;
  for (let i = 0; i < idx.length; i++) {
    const r = idx[i]!;
    points.set(set.points.subarray(r * set.dim, (r + 1) * set.dim), i * set.dim);
    if (labels) labels[i] = set.labels![r]!;
  }
  return { points, n: idx.length, dim: set.dim, ...(labels ? { labels } : {}), ...(set.shape ? { shape: set.shape } : {}) };
}

/**
 * Train and held-out points for `spec` (a built-in name, an image set, or a file path). Image
 * sets come from `dataDir` (default: `defaultImageDir()`), their own train/test files, at most
 * `train`/`test` images of each (0 = all). Built-in sets and mixture files draw `train` and
 * `test` points (labelled by component) from the streams `seed` and `seed ^ 0x5eed`.
 */
export function loadSplit(spec: string, seed: number, { train = 20000, test = 2000, labelColumn = "", dataDir = "" } = {}): Split {
  if (isImageSet(spec)) {
    const dir = dataDir || defaultImageDir();
    return { train: readImages(dir, "train", train), test: readImages(dir, "t10k", test) };
  }
  const draw = (generate: (n: number, rng: Rng) => PointSet): Split => ({ train: generate(train, new Rng(seed)), test: generate(test, new Rng(seed ^ 0x5eed)) });
  if (isToy(spec)) return draw((n, rng) => toyData(spec, n, rng));
  if (!/\.(csv|json)$/.test(spec)) throw unknownDataset(spec);
  const data = readDataFile(spec, labelColumn);
  if ("weights" in data) return draw((n, rng) => sampleMixtureWithLabels(data, n, rng));
  const order = Array.from({ length: data.n }, (_, i) => i);
  const u = new Rng(seed).uniform([data.n]).dataSync() as Float32Array;
  order.sort((a, b) => u[a]! - u[b]! || a - b);
  const nTest = Math.max(1, Math.round(data.n * 0.1));
  return { train: subset(data, order.slice(nTest)), test: subset(data, order.slice(0, nTest)) };
}
