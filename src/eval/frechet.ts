/**
 * The Fréchet distance between Gaussians fitted to two feature sets (the statistic behind FID):
 *
 *   FD = ‖μ_a − μ_b‖² + tr(Σ_a + Σ_b − 2 (Σ_a^{1/2} Σ_b Σ_a^{1/2})^{1/2})
 *
 * with μ, Σ the sample mean and covariance (denominator n − 1) of features [n, F]. Both square
 * roots are of symmetric positive semi-definite matrices, taken through a symmetric
 * eigendecomposition (cyclic Jacobi, float64) with eigenvalues below zero (rounding) clipped to 0;
 * the outer one needs only its trace, Σ_i √λ_i. Plain float64 TypeScript on the host; nothing
 * here touches jax-js. Like the energy distance, the sample statistic is biased upwards at finite
 * sizes, so it is read against `frechetNoiseFloor`: the same statistic between two disjoint data
 * samples of the size being judged.
 */
import { ShapeError } from "../errors.js";

/** A Gaussian in F dimensions: mean [F] and covariance [F, F] (row-major, symmetric). */
export interface Gaussian {
  dim: number;
  mean: Float64Array;
  cov: Float64Array;
}

/**
 * Sample mean and covariance of rows of x [n, F] (n ≥ 2): μ = (1/n) Σ_i x_i,
 * Σ = (1/(n − 1)) Σ_i (x_i − μ)(x_i − μ)ᵀ. Reads x; returns new arrays.
 */
export function fitGaussian(x: ArrayLike<number>, dim: number): Gaussian {
  const n = x.length / dim;
  if (!Number.isInteger(n) || n < 2)
    throw new ShapeError(`fitting a Gaussian needs at least 2 rows of ${dim} features, got ${x.length} values`);
  const mean = new Float64Array(dim);
  for (let i = 0; i < n; i++) {
    // Stryker disable next-line EqualityOperator: mean[dim] is past the typed array's end: the write is dropped
    for (let f = 0; f < dim; f++) mean[f]! += x[i * dim + f]!;
  }
  // Stryker disable next-line EqualityOperator: mean[dim] is past the typed array's end: the write is dropped
  for (let f = 0; f < dim; f++) mean[f]! /= n;
  const cov = new Float64Array(dim * dim);
  const row = new Float64Array(dim);
  for (let i = 0; i < n; i++) {
    // Stryker disable next-line EqualityOperator: row[dim] is past the typed array's end: the write is dropped
    for (let f = 0; f < dim; f++) row[f] = x[i * dim + f]! - mean[f]!;
    // Stryker disable next-line EqualityOperator: at p = dim the inner loop is empty (q from dim)
    for (let p = 0; p < dim; p++) {
      const rp = row[p]!;
      // Stryker disable next-line EqualityOperator: q = dim writes NaN to cov[(p + 1)·dim], below the diagonal, which the symmetric copy below overwrites (the last one is past the end)
      for (let q = p; q < dim; q++) cov[p * dim + q]! += rp * row[q]!;
    }
  }
  // Stryker disable next-line EqualityOperator: at p = dim the inner loop is empty (q from dim)
  for (let p = 0; p < dim; p++) {
    for (let q = p; q < dim; q++) {
      const v = cov[p * dim + q]! / (n - 1);
      cov[p * dim + q] = v;
      cov[q * dim + p] = v;
    }
  }
  return { dim, mean, cov };
}

/**
 * Eigenvalues and (with `vectors`) orthonormal eigenvectors of a symmetric matrix a [n, n]
 * (row-major; only its symmetric part ½(a + aᵀ) is used): a = V diag(λ) Vᵀ, eigenvector k in
 * column k of V. Cyclic Jacobi: each rotation zeroes one off-diagonal pair, sweeps run until the
 * off-diagonal mass is at rounding level. Reads a; returns new arrays.
 */
export function symmetricEigen(
  a: ArrayLike<number>,
  n: number,
  { vectors = true } = {},
): { values: Float64Array; vectors: Float64Array | null } {
  if (a.length !== n * n) throw new ShapeError(`symmetricEigen: expected ${n}×${n} values, got ${a.length}`);
  const A = new Float64Array(n * n);
  // Stryker disable next-line EqualityOperator: p = n writes past the end (dropped); q = n writes NaN to A[(p + 1)·n], which row p + 1 then overwrites
  for (let p = 0; p < n; p++) for (let q = 0; q < n; q++) A[p * n + q] = 0.5 * (a[p * n + q]! + a[q * n + p]!);
  const V = vectors ? new Float64Array(n * n) : null;
  // Stryker disable next-line EqualityOperator: V[n·n + n] is past the typed array's end: the write is dropped
  if (V) for (let p = 0; p < n; p++) V[p * n + p] = 1;
  // The stopping rule below: its mutants that survive only lower the threshold or never stop early, so the
  // sweeps go on over an already diagonal matrix (at most 100), changing nothing beyond rounding.
  let scale = 0;
  // Stryker disable next-line ConditionalExpression,EqualityOperator,ArithmeticOperator,AssignmentOperator: a smaller (or NaN) scale only means more sweeps (see above)
  for (let k = 0; k < n * n; k++) scale += A[k]! * A[k]!;
  // Stryker disable next-line EqualityOperator,UpdateOperator: the sweeps converge long before 100
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    // Stryker disable next-line EqualityOperator,ArithmeticOperator: a larger (or NaN) off-diagonal sum only means more sweeps (see above)
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += A[p * n + q]! * A[p * n + q]!;
    // Stryker disable next-line ConditionalExpression,EqualityOperator,ArithmeticOperator: only more sweeps (see above)
    if (off <= 1e-32 * scale) break;
    // Stryker disable next-line EqualityOperator,ArithmeticOperator: at p = n − 1 (or n) the inner loop is empty (q from p + 1)
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = A[p * n + q]!;
        if (apq === 0) continue;
        const app = A[p * n + p]!;
        const aqq = A[q * n + q]!;
        // a rotation too small to change either diagonal entry: the pair is already decoupled (zeroing it
        // instead of rotating, or rotating instead of zeroing, differs by rounding only)
        // Stryker disable next-line ArithmeticOperator: see above
        const g = 100 * Math.abs(apq);
        // Stryker disable next-line ConditionalExpression,LogicalOperator,EqualityOperator,ArithmeticOperator,BlockStatement: see above
        if (sweep > 3 && Math.abs(app) + g === Math.abs(app) && Math.abs(aqq) + g === Math.abs(aqq)) {
          // Stryker disable next-line ArithmeticOperator: see above (p / n is A[q] at p = 0, and no index otherwise)
          A[p * n + q] = 0;
          // Stryker disable next-line ArithmeticOperator: see above
          A[q * n + p] = 0;
          continue;
        }
        // t = tan φ solves t² + 2θt − 1 = 0 (the smaller root), θ = cot 2φ = (a_qq − a_pp)/(2 a_pq)
        const theta = (aqq - app) / (2 * apq);
        // |θ| > 1e150: θ² would overflow; 1/(2θ) is the root to rounding there, and t = 0 (overflowed) differs from it by rounding only
        // Stryker disable next-line ConditionalExpression,EqualityOperator: see above
        const t = Math.abs(theta) > 1e150 ? 1 / (2 * theta) : Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        // A ← Jᵀ A J with J = I except J_pp = J_qq = c, J_pq = s, J_qp = −s
        // Stryker disable next-line EqualityOperator: k = n reads and writes past the end (NaN, dropped)
        for (let k = 0; k < n; k++) {
          const akp = A[k * n + p]!;
          const akq = A[k * n + q]!;
          A[k * n + p] = c * akp - s * akq;
          A[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = A[p * n + k]!;
          const aqk = A[q * n + k]!;
          A[p * n + k] = c * apk - s * aqk;
          A[q * n + k] = s * apk + c * aqk;
        }
        // the rotation leaves a_pq at rounding level; set it to 0 exactly (missing that changes rounding only)
        // Stryker disable next-line ArithmeticOperator: see above
        A[p * n + q] = 0;
        // Stryker disable next-line ArithmeticOperator: see above
        A[q * n + p] = 0;
        if (V) {
          // Stryker disable next-line EqualityOperator: k = n reads and writes past the end (NaN, dropped)
          for (let k = 0; k < n; k++) {
            const vkp = V[k * n + p]!;
            const vkq = V[k * n + q]!;
            V[k * n + p] = c * vkp - s * vkq;
            V[k * n + q] = s * vkp + c * vkq;
          }
        }
      }
    }
  }
  const values = new Float64Array(n);
  // Stryker disable next-line EqualityOperator: values[n] is past the typed array's end: the write is dropped
  for (let p = 0; p < n; p++) values[p] = A[p * n + p]!;
  return { values, vectors: V };
}

/** M^{1/2} = V diag(√max(λ, 0)) Vᵀ of a symmetric PSD matrix m [n, n] (tiny negative λ from rounding clipped). Reads m. */
export function sqrtPsd(m: ArrayLike<number>, n: number): Float64Array {
  const { values, vectors } = symmetricEigen(m, n);
  const V = vectors!;
  const root = values.map((l) => Math.sqrt(Math.max(l, 0)));
  const out = new Float64Array(n * n);
  // Stryker disable next-line EqualityOperator: at p = n the inner loop is empty (q from n)
  for (let p = 0; p < n; p++) {
    for (let q = p; q < n; q++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += V[p * n + k]! * root[k]! * V[q * n + k]!;
      out[p * n + q] = s;
      out[q * n + p] = s;
    }
  }
  return out;
}

/** a b for a [n, n], b [n, n] (row-major). */
function matmul(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n * n);
  // Stryker disable next-line EqualityOperator: row n is past the end (NaN, dropped)
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < n; k++) {
      const aik = a[i * n + k]!;
      // Stryker disable next-line ConditionalExpression: skipping a zero term only saves work (the entries are finite)
      if (aik === 0) continue;
      // Stryker disable next-line AssignmentOperator: the one use is matmul(matmul(s, Σ_b), s): −(−s Σ_b) s is s Σ_b s
      for (let j = 0; j < n; j++) out[i * n + j]! += aik * b[k * n + j]!;
    }
  }
  return out;
}

/**
 * FD(N(μ_a, Σ_a), N(μ_b, Σ_b)) = ‖μ_a − μ_b‖² + tr Σ_a + tr Σ_b − 2 Σ_i √λ_i(Σ_a^{1/2} Σ_b Σ_a^{1/2}),
 * clipped at 0 (rounding can leave ±1e-12 of the traces when the two are equal). Reads both.
 */
export function frechetDistanceOfGaussians(a: Gaussian, b: Gaussian): number {
  const F = a.dim;
  if (b.dim !== F) throw new ShapeError(`Fréchet distance: ${a.dim} features against ${b.dim}`);
  let meanTerm = 0;
  let traces = 0;
  for (let f = 0; f < F; f++) {
    meanTerm += (a.mean[f]! - b.mean[f]!) ** 2;
    traces += a.cov[f * F + f]! + b.cov[f * F + f]!;
  }
  const s = sqrtPsd(a.cov, F);
  const inner = matmul(matmul(s, b.cov, F), s, F);
  // Stryker disable next-line ObjectLiteral,BooleanLiteral: computing the unused eigenvectors too only costs time
  const { values } = symmetricEigen(inner, F, { vectors: false });
  const cross = values.reduce((sum, l) => sum + Math.sqrt(Math.max(l, 0)), 0);
  return Math.max(0, meanTerm + traces - 2 * cross);
}

/** FD between Gaussians fitted (`fitGaussian`) to features a [n, F] and b [m, F]. Reads both. */
export function frechetDistance(a: ArrayLike<number>, b: ArrayLike<number>, dim: number): number {
  return frechetDistanceOfGaussians(fitGaussian(a, dim), fitGaussian(b, dim));
}

/**
 * The noise floor for samples of size m: FD between rows [0, m) and [m, 2m) of reference
 * features [n ≥ 2m, F] — two disjoint samples of the data, what a perfect model of it would
 * score at this size. Reads reference.
 */
export function frechetNoiseFloor(reference: Float32Array | Float64Array, dim: number, m: number): number {
  const n = reference.length / dim;
  if (!(m >= 2) || 2 * m > n) throw new ShapeError(`the noise floor for ${m} samples needs 2·${m} reference rows, got ${n}`);
  return frechetDistance(reference.subarray(0, m * dim), reference.subarray(m * dim, 2 * m * dim), dim);
}
