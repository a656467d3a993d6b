/**
 * Data sets by name: built-in 2-D sets, or a path to the user's CSV/JSON points or to a JSON
 * Gaussian mixture. Training and held-out points are disjoint: built-in sets and mixture files
 * draw them from independent streams of the seed, point files are split 90/10 by a seeded shuffle.
 */
import { Rng } from "../engine/index.js";
import { DataError } from "../errors.js";
import { readDataFile } from "./files.js";
import { defaultImageDir, isImageSet, readImages } from "./images.js";
import { sampleMixtureWithLabels } from "./mixtures.js";
import { type PointSet, subset } from "./sets.js";
import { isToy, toySplit, unknownDataset } from "./toy.js";

export { type GaussianMixture, mixtureMoments } from "../densities/mixture.js";
export * from "./browser.js";
export { defaultImageDir, imageNames, isImageSet } from "./images.js";
export { knownMixture } from "./known.js";

/** A data set's training and held-out test points (`loadSplit`). */
export interface Split {
  train: PointSet;
  test: PointSet;
}

/** Options of `loadSplit`: how many points of each part, where image sets live, and a CSV file's label column. */
export interface SplitOptions {
  /** training points drawn (built-in sets and mixture files) or images read at most (image sets, 0 = all); default 20000 */
  train?: number;
  /** held-out points drawn, or test images read at most (0 = all); default 2000 */
  test?: number;
  /** a CSV file's class-label column, by 0-based index or header name (default "": no labels) */
  labelColumn?: string;
  /** the directory of an image set's IDX files (default "": the full set in /usr/share/datasets/fashion-mnist when installed, else the bundled subset) */
  dataDir?: string;
}

/** The fewest points a data file may hold: 2 held out, and at least as many to train on. */
const MIN_FILE_POINTS = 4;

/**
 * Train and held-out points for `spec` (a built-in name, an image set, or a file path). Image
 * sets come from `dataDir` (default: `defaultImageDir()`), their own train/test files, at most
 * `train`/`test` images of each (0 = all). Built-in sets and mixture files draw `train` and
 * `test` points (labelled by component) from the streams `seed` and `seed ^ 0x5eed`. A file of
 * points (at least MIN_FILE_POINTS) is shuffled by `seed` and 10 % of it, at least 2, held out.
 */
export function loadSplit(spec: string, seed: number, options: SplitOptions = {}): Split {
  const { train = 20000, test = 2000, labelColumn = "", dataDir = "" } = options;
  if (isImageSet(spec)) {
    const dir = dataDir || defaultImageDir();
    return { train: readImages(dir, "train", train), test: readImages(dir, "t10k", test) };
  }
  const draw = (generate: (n: number, rng: Rng) => PointSet): Split => ({
    train: generate(train, new Rng(seed)),
    test: generate(test, new Rng(seed ^ 0x5eed)),
  });
  if (isToy(spec)) return toySplit(spec, seed, { train, test });
  if (!/\.(csv|json)$/.test(spec)) throw unknownDataset(spec);
  const data = readDataFile(spec, labelColumn);
  if ("weights" in data) return draw((n, rng) => sampleMixtureWithLabels(data, n, rng));
  // a held-out set of one point has no standard error (the report printed ± NaN)
  if (data.n < MIN_FILE_POINTS)
    throw new DataError(
      `${spec}: ${data.n} points are too few: at least ${MIN_FILE_POINTS} (10 % of them, at least 2, are held out for evaluation)`,
    );
  const order = Array.from({ length: data.n }, (_, i) => i);
  const u = new Rng(seed).uniform([data.n]).dataSync() as Float32Array;
  order.sort((a, b) => u[a]! - u[b]! || a - b);
  const nTest = Math.max(2, Math.round(data.n * 0.1));
  return { train: subset(data, order.slice(nTest)), test: subset(data, order.slice(0, nTest)) };
}
