import { ShapeError } from "../errors.js";

/**
 * Energy distance between two samples (Székely & Rizzo):
 *   D²(X, Y) = 2 E‖X − Y‖ − E‖X − X'‖ − E‖Y − Y'‖ ≥ 0, zero iff the distributions are equal.
 * The sample version here is the V-statistic (means over all pairs, self-pairs included). It is
 * ≥ 0 and, for equal distributions, ≈ E‖X − X'‖ (1/n + 1/m) > 0: the noise floor at these sizes,
 * which two independent samples of the same data also show. Plain float64 JS, O(n²).
 */
export function energyDistance(x: Float32Array | Float64Array, y: Float32Array | Float64Array, dim: number): number {
  const n = x.length / dim;
  const m = y.length / dim;
  if (!Number.isInteger(n) || !Number.isInteger(m) || n < 1 || m < 1) throw new ShapeError("energy distance needs two non-empty samples");
  const meanDistance = (a: ArrayLike<number>, na: number, b: ArrayLike<number>, nb: number) => {
    let total = 0;
    for (let i = 0; i < na; i++) {
      for (let j = 0; j < nb; j++) {
        let s = 0;
        for (let d = 0; d < dim; d++) s += (a[i * dim + d]! - b[j * dim + d]!) ** 2;
        total += Math.sqrt(s);
      }
    }
    return total / (na * nb);
  };
  return 2 * meanDistance(x, n, y, m) - meanDistance(x, n, x, n) - meanDistance(y, m, y, m);
}
