/**
 * Built-in 2-D data sets, generated from a seed. Each yields points [n, 2] and, where natural, a
 * class label per point. Sets with a closed-form density (`gaussian`, `eight-gaussians`,
 * `ncsn-gmm`) also expose it as a Gaussian mixture (see `known.ts`).
 */
import { Rng } from "../engine/index.js";
import { DataError } from "../errors.js";
import { builtinMixture, sampleMixtureWithLabels } from "./mixtures.js";
import type { PointSet } from "./sets.js";

type Generator = (n: number, rng: Rng) => PointSet;

const uniform = (rng: Rng, n: number) => rng.uniform([n]).dataSync() as Float32Array;
const normal = (rng: Rng, n: number) => rng.normal([n]).dataSync() as Float32Array;

/** Build a set from per-point (x, y, label) given uniforms u, v, w and normals a, b. */
function fromUniforms(
  n: number,
  rng: Rng,
  f: (u: number, v: number, w: number, a: number, b: number) => [number, number, number],
): PointSet {
  const [u, v, w, a, b] = [uniform(rng, n), uniform(rng, n), uniform(rng, n), normal(rng, n), normal(rng, n)];
  const points = new Float32Array(2 * n);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const [x, y, label] = f(u[i]!, v[i]!, w[i]!, a[i]!, b[i]!);
    points[2 * i] = x;
    points[2 * i + 1] = y;
    labels[i] = label;
  }
  return { points, n, dim: 2, labels };
}

const GENERATORS: Record<string, Generator> = {
  /** Two interleaving half circles (as scikit-learn's make_moons), noise std 0.1; label = moon. */
  moons: (n, rng) =>
    fromUniforms(n, rng, (u, _v, w, a, b) => {
      const theta = Math.PI * u;
      const label = w < 0.5 ? 0 : 1;
      const [x, y] = label === 0 ? [Math.cos(theta), Math.sin(theta)] : [1 - Math.cos(theta), 0.5 - Math.sin(theta)];
      return [x + 0.1 * a, y + 0.1 * b, label];
    }),
  /** A 2-D Swiss roll: r = 1.5π(1 + 2u), (r cos r, r sin r)/5 with noise std 0.1; no labels. */
  "swiss-roll": (n, rng) => {
    const set = fromUniforms(n, rng, (u, _v, _w, a, b) => {
      const r = 1.5 * Math.PI * (1 + 2 * u);
      return [(r * Math.cos(r)) / 5 + 0.1 * a, (r * Math.sin(r)) / 5 + 0.1 * b, 0];
    });
    delete set.labels;
    return set;
  },
  /** A 4×4 checkerboard on [−2, 2]²: uniform on the dark squares; label = colour of the column pair. */
  checkerboard: (n, rng) =>
    fromUniforms(n, rng, (u, v, w) => {
      const x = 4 * u - 2;
      const row = Math.floor(2 * w); // which of the two dark squares in this column
      const y = v + 2 * row - 2 + (Math.floor(x + 2) % 2 === 0 ? 0 : 1);
      return [x, y, Math.floor(x + 2) % 2];
    }),
  /** Two concentric circles of radius 1 and 0.5 (make_circles), noise std 0.05; label = circle. */
  circles: (n, rng) =>
    fromUniforms(n, rng, (u, _v, w, a, b) => {
      const label = w < 0.5 ? 0 : 1;
      const radius = label === 0 ? 1 : 0.5;
      const theta = 2 * Math.PI * u;
      return [radius * Math.cos(theta) + 0.05 * a, radius * Math.sin(theta) + 0.05 * b, label];
    }),
  gaussian: (n, rng) => sampleMixtureWithLabels(builtinMixture("gaussian")!, n, rng),
  "eight-gaussians": (n, rng) => sampleMixtureWithLabels(builtinMixture("eight-gaussians")!, n, rng),
  "ncsn-gmm": (n, rng) => sampleMixtureWithLabels(builtinMixture("ncsn-gmm")!, n, rng),
};

/** Names of the built-in 2-D data sets generated from a seed, e.g. "moons". */
export const toyNames: readonly string[] = Object.keys(GENERATORS);

/** Whether `name` is a built-in 2-D set (`toyNames`). */
export function isToy(name: string): boolean {
  return name in GENERATORS;
}

/** n points of a built-in set. */
export function toyData(name: string, n: number, rng: Rng): PointSet {
  const gen = GENERATORS[name];
  if (!gen) throw unknownDataset(name);
  return gen(n, rng);
}

/**
 * Training and held-out points of a built-in set, as `loadSplit` draws them: `train` and `test`
 * points from the independent streams `seed` and `seed ^ 0x5eed`.
 */
export function toySplit(
  name: string,
  seed: number,
  options: {
    /** training points (default 20000) */
    train?: number;
    /** held-out points (default 2000) */
    test?: number;
  } = {},
): { train: PointSet; test: PointSet } {
  const { train = 20000, test = 2000 } = options;
  return { train: toyData(name, train, new Rng(seed)), test: toyData(name, test, new Rng(seed ^ 0x5eed)) };
}

export function unknownDataset(name: string): DataError {
  return new DataError(
    `unknown dataset "${name}" (built in: ${toyNames.join(", ")}; images: fashion-mnist, read from a directory of IDX files; or a path to a .csv or .json file)`,
    { unknown: { name, known: [...toyNames, "fashion-mnist"] } },
  );
}
