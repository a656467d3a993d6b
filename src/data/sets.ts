/** Point sets and helpers on them: shapes, labels, class counts and subsets (no file system). */
import { DataError } from "../errors.js";

/** A data set of n points (or flattened images) of dimension dim, with optional labels. */
export interface PointSet {
  /** row-major [n, dim] */
  points: Float32Array;
  n: number;
  dim: number;
  /** class index per point, where the set has natural classes */
  labels?: Int32Array;
  /** the shape of one example when it is not a flat vector (images: [rows, cols, channels]) */
  shape?: number[];
}

/** The shape of one example of `set`: its `shape`, or [dim]. */
export const exampleShape = (set: { dim: number; shape?: number[] }): number[] => set.shape ?? [set.dim];

/** The labels of a set, or an error naming the data set when it has none. */
export function requireLabels(set: PointSet, spec: string): Int32Array {
  if (!set.labels) {
    throw new DataError(
      `data set "${spec}" has no labels (built-in sets with classes: moons, eight-gaussians, checkerboard, circles, ncsn-gmm; CSV files: name a label column)`,
    );
  }
  return set.labels;
}

/** Number of classes of a labelled set: max label + 1. */
export function classCount(set: PointSet, spec: string): number {
  // a loop, not Math.max(...labels): spreading 130 000 labels overflows the stack
  return requireLabels(set, spec).reduce((m, y) => Math.max(m, y), -1) + 1;
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
