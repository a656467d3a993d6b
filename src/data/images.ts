/**
 * Image data sets in IDX form (MNIST layout): `fashion-mnist` read from a directory holding
 * train-/t10k-images-idx3-ubyte and -labels-idx1-ubyte (gzipped or not). The default directory
 * is Debian's full set (/usr/share/datasets/fashion-mnist, package dataset-fashion-mnist) when it
 * is installed, else the 2,000 + 500 image subset shipped in this repository.
 * Pixels stay 8-bit values 0..255 (as floats); the run's normalisation maps them to [−1, 1].
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { readIdxPair } from "./idx.js";
import type { PointSet } from "./sets.js";

/** Names of the built-in image data sets: "fashion-mnist". */
export const imageNames: readonly string[] = ["fashion-mnist"];

/** Whether `name` is an image set (`imageNames`). */
export const isImageSet = (name: string): boolean => imageNames.includes(name);

/** Fashion-MNIST's ten classes, by label 0..9 (Xiao, Rasul and Vollgraf 2017). */
export const fashionMnistClasses: readonly string[] = [
  "T-shirt/top",
  "Trouser",
  "Pullover",
  "Dress",
  "Coat",
  "Sandal",
  "Shirt",
  "Sneaker",
  "Bag",
  "Ankle boot",
];

/** The name of label `k` of data set `data`: a Fashion-MNIST garment, else "class k". */
export const className = (data: string, k: number): string =>
  (data === "fashion-mnist" ? fashionMnistClasses[k] : undefined) ?? `class ${k}`;

/** Debian's dataset-fashion-mnist installs the full set here. */
export const systemFashionMnist = "/usr/share/datasets/fashion-mnist";

/** The subset shipped with the package (first 2,000 training and 500 test images). */
export const bundledFashionMnist = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "data", "fashion-mnist");

/** Where image sets are read from by default: Debian's full Fashion-MNIST when installed, else the bundled subset. */
export function defaultImageDir(): string {
  return existsSync(join(systemFashionMnist, "train-images-idx3-ubyte.gz")) ||
    existsSync(join(systemFashionMnist, "train-images-idx3-ubyte"))
    ? systemFashionMnist
    : bundledFashionMnist;
}

/** The images of one IDX pair as [n, rows, cols, 1] pixels with labels; at most `limit` of them (0 = all). */
export function readImages(dir: string, prefix: "train" | "t10k", limit = 0): PointSet {
  const { images, labels } = readIdxPair(dir, prefix);
  const [count, rows, cols] = images.shape as [number, number, number];
  const n = limit > 0 ? Math.min(limit, count) : count;
  const dim = rows * cols;
  return {
    points: Float32Array.from(images.data.subarray(0, n * dim)),
    n,
    dim,
    shape: [rows, cols, 1],
    labels: Int32Array.from(labels.subarray(0, n)),
  };
}
