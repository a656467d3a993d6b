/**
 * Energy distance between two samples (Székely & Rizzo):
 *   D²(X, Y) = 2 E‖X − Y‖ − E‖X − X'‖ − E‖Y − Y'‖ ≥ 0, zero iff the distributions are equal,
 * with the unbiased (U-statistic) within-sample means. Plain float64 JS: O(n²) distances.
 */
export function energyDistance(x: Float32Array | Float64Array, y: Float32Array | Float64Array, dim: number): number {
  const n = x.length / dim;
  const m = y.length / dim;
  if (!Number.isInteger(n) || !Number.isInteger(m) || n < 2 || m < 2) throw new Error("energy distance needs two samples of at least 2 points");
  const meanDistance = (a: ArrayLike<number>, na: number, b: ArrayLike<number>, nb: number, same: boolean) => {
    let total = 0;
    for (let i = 0; i < na; i++) {
      for (let j = same ? i + 1 : 0; j < nb; j++) {
        let s = 0;
        for (let d = 0; d < dim; d++) s += (a[i * dim + d]! - b[j * dim + d]!) ** 2;
        total += Math.sqrt(s);
      }
    }
    return same ? total / ((na * (na - 1)) / 2) : total / (na * nb);
  };
  return 2 * meanDistance(x, n, y, m, false) - meanDistance(x, n, x, n, true) - meanDistance(y, m, y, m, true);
}
