/**
 * A Gaussian mixture p(x) = Σ_k π_k N(x; μ_k, Σ_k) on the host, in float64: its description,
 * validation, principal axes, exact moments and component log-densities. The oracle
 * (`oracle.ts`) turns it into arrays; sampling and the Bayes classifier (`data/known.ts`) use
 * the principal axes directly.
 *
 * Every component is described through its principal axes Σ_k = U_k diag(λ_k) U_kᵀ (U_k
 * orthogonal, λ_k > 0): a diagonal Σ_k has U_k = I and λ_k its diagonal, so axis-aligned
 * mixtures never rotate anything.
 */
import { DataError } from "../errors.js";

/** A Gaussian mixture Σ_k π_k N(μ_k, Σ_k): its weights, means, and each Σ_k as its diagonal or in full. */
export interface GaussianMixture {
  /** π_k, positive, summing to 1 */
  weights: number[];
  /** μ_k, K × D */
  means: number[][];
  /** per-dimension variances, K × D: the diagonal of Σ_k (all of Σ_k when `covariances` is absent) */
  variances: number[][];
  /** Σ_k, K × D × D, symmetric positive definite, when some component is not axis-aligned; its diagonals equal `variances` */
  covariances?: number[][][];
}

/** One component's principal axes: Σ_k = U_k diag(λ_k) U_kᵀ; `axes` absent means U_k = I. */
export interface PrincipalAxes {
  /** λ_k: the variances along the axes */
  variances: number[];
  /** U_k, D × D, orthonormal columns (column j is the axis of λ_kj); absent for a diagonal Σ_k */
  axes?: number[][];
}

/** N(mean, std² I) as a one-component mixture. */
export function isotropicGaussian(mean: number[], std: number): GaussianMixture {
  return { weights: [1], means: [mean], variances: [mean.map(() => std * std)] };
}

/** The mixture Σ_k π_k N(μ_k, Σ_k) from full covariances (its `variances` are their diagonals). Borrows its arguments. */
export function fullCovarianceMixture(weights: number[], means: number[][], covariances: number[][][]): GaussianMixture {
  return { weights, means, variances: covariances.map((c) => c.map((row, d) => row[d]!)), covariances };
}

/** Σ_k as a D × D matrix: `covariances[k]`, or diag(`variances[k]`). */
export function covarianceOf(m: GaussianMixture, k: number): number[][] {
  const c = m.covariances?.[k];
  if (c) return c.map((row) => row.slice());
  const v = m.variances[k]!;
  return v.map((vd, d) => v.map((_, e) => (d === e ? vd : 0)));
}

/**
 * Eigendecomposition A = V diag(values) Vᵀ of a symmetric matrix by cyclic Jacobi rotations in
 * float64 (each rotation zeroes one off-diagonal pair; sweeps stop when the off-diagonal mass is
 * below 1e-30 of ‖A‖²_F). Columns of `vectors` are the eigenvectors; values are not sorted.
 * Works on (A + Aᵀ)/2; borrows `a`.
 */
export function symmetricEigen(a: number[][]): { values: number[]; vectors: number[][] } {
  const n = a.length;
  const A = a.map((row, i) => row.map((x, j) => 0.5 * (x + a[j]![i]!)));
  const V = A.map((row, i) => row.map((_, j) => (i === j ? 1 : 0)));
  const total = A.reduce((s, row) => s + row.reduce((t, x) => t + x * x, 0), 0);
  for (let sweep = 0; sweep < 64; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += 2 * A[p]![q]! ** 2;
    if (off <= 1e-30 * total) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = A[p]![q]!;
        if (apq === 0) continue;
        // the rotation J (c on p,q diagonal, s at [p][q], −s at [q][p]) with (JᵀAJ)_pq = 0: t = tan φ the smaller root of t² + 2θt − 1 = 0
        const theta = (A[q]![q]! - A[p]![p]!) / (2 * apq);
        const t = (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (const M of [A, V]) {
          for (const row of M) {
            const [x, y] = [row[p]!, row[q]!];
            row[p] = c * x - s * y;
            row[q] = s * x + c * y;
          }
        }
        const [rp, rq] = [A[p]!, A[q]!];
        for (let k = 0; k < n; k++) {
          const [x, y] = [rp[k]!, rq[k]!];
          rp[k] = c * x - s * y;
          rq[k] = s * x + c * y;
        }
      }
    }
  }
  return { values: A.map((row, i) => row[i]!), vectors: V };
}

const isDiagonal = (c: number[][]) => c.every((row, d) => row.every((x, e) => d === e || x === 0));

/**
 * Checks the mixture (errors start with `source`, name the component and say what is wrong) and
 * returns each component's principal axes. Borrows `m`.
 */
export function principalAxes(m: GaussianMixture, source = "mixture"): PrincipalAxes[] {
  const K = m.weights.length;
  const D = m.means[0]?.length ?? 0;
  const fail = (what: string) => new DataError(`${source}: ${what}`);
  if (K === 0 || D === 0) throw fail("a Gaussian mixture needs at least one component and one dimension");
  if (m.means.length !== K) throw fail(`${K} weights but ${m.means.length} means`);
  if (m.variances.length !== K) throw fail(`${K} weights but ${m.variances.length} variance rows`);
  if (m.covariances && m.covariances.length !== K) throw fail(`${K} weights but ${m.covariances.length} covariances`);
  const finite = (x: number) => typeof x === "number" && Number.isFinite(x);
  m.weights.forEach((w, k) => {
    if (!finite(w) || !(w > 0)) throw fail(`weight ${k} is ${w}; weights must be positive`);
  });
  const sum = m.weights.reduce((a, b) => a + b, 0);
  if (Math.abs(sum - 1) > 1e-9) throw fail(`weights sum to ${sum}, not 1`);
  return m.weights.map((_, k) => {
    const [mean, variances, cov] = [m.means[k]!, m.variances[k]!, m.covariances?.[k]];
    if (mean.length !== D) throw fail(`component ${k}: mean has ${mean.length} entries, expected D = ${D}`);
    if (variances.length !== D) throw fail(`component ${k}: variances have ${variances.length} entries, expected D = ${D}`);
    if (!mean.every(finite)) throw fail(`component ${k}: mean has a non-finite entry`);
    if (!cov) {
      if (!variances.every((v) => finite(v) && v > 0)) throw fail(`component ${k}: variances must be positive and finite`);
      return { variances: variances.slice() };
    }
    if (cov.length !== D || cov.some((row) => row.length !== D)) throw fail(`component ${k}: covariance must be ${D} × ${D} (D = ${D})`);
    if (!cov.every((row) => row.every(finite))) throw fail(`component ${k}: covariance has a non-finite entry`);
    for (let d = 0; d < D; d++) {
      if (cov[d]![d] !== variances[d])
        throw fail(`component ${k}: covariance diagonal [${d}][${d}] = ${cov[d]![d]} differs from variances[${d}] = ${variances[d]}`);
      for (let e = d + 1; e < D; e++) {
        const [x, y] = [cov[d]![e]!, cov[e]![d]!];
        if (Math.abs(x - y) > 1e-9 * Math.max(Math.abs(x), Math.abs(y)))
          throw fail(`component ${k}: covariance is not symmetric ([${d}][${e}] = ${x}, [${e}][${d}] = ${y})`);
      }
    }
    const { values, vectors } = isDiagonal(cov) ? { values: variances.slice(), vectors: undefined } : symmetricEigen(cov);
    const [lo, hi] = [Math.min(...values), Math.max(...values)];
    // λ_min ≤ 1e-12 λ_max is singular in any precision the oracle computes in
    if (!(lo > 1e-12 * hi))
      throw fail(`component ${k}: covariance is not positive definite (eigenvalues from ${lo.toPrecision(4)} to ${hi.toPrecision(4)})`);
    return vectors ? { variances: values, axes: vectors } : { variances: values };
  });
}

/** Throws an error naming the problem (see `principalAxes`) unless `m` is a valid mixture. */
export function validateMixture(m: GaussianMixture, source = "mixture"): void {
  principalAxes(m, source);
}

/** U_k v (or v when U_k = I): a point in component coordinates back in data coordinates. */
export function fromAxes(c: PrincipalAxes, v: ArrayLike<number>): number[] {
  const U = c.axes;
  return Array.from({ length: v.length }, (_, d) => (U ? U[d]!.reduce((s, u, j) => s + u * v[j]!, 0) : v[d]!));
}

/** U_kᵀ v (or v when U_k = I): a data-space vector in component k's principal coordinates. */
export function toAxes(c: PrincipalAxes, v: ArrayLike<number>): number[] {
  const U = c.axes;
  return Array.from({ length: v.length }, (_, j) => (U ? U.reduce((s, row, d) => s + row[j]! * v[d]!, 0) : v[j]!));
}

/**
 * log π_k + log N(x; μ_k, Σ_k) for every k, as a function of a point x (D values): with
 * r = U_kᵀ(x − μ_k), log N = −½ Σ_j (r_j²/λ_kj + log 2πλ_kj). Borrows `m` (checks it once).
 */
export function componentLogJoint(m: GaussianMixture): (x: ArrayLike<number>) => number[] {
  const axes = principalAxes(m);
  const logNorm = axes.map((c, k) => Math.log(m.weights[k]!) - 0.5 * c.variances.reduce((s, v) => s + Math.log(2 * Math.PI * v), 0));
  return (x) =>
    axes.map((c, k) => {
      const r = toAxes(
        c,
        Array.from(x, (xd, d) => xd - m.means[k]![d]!),
      );
      return logNorm[k]! - 0.5 * r.reduce((s, rj, j) => s + (rj * rj) / c.variances[j]!, 0);
    });
}

/**
 * The mixture's exact mean and covariance: mean = Σ_k π_k μ_k and
 * cov = Σ_k π_k (Σ_k + μ_k μ_kᵀ) − mean meanᵀ, computed as Σ_k π_k (Σ_k + (μ_k − mean)(μ_k − mean)ᵀ)
 * (the same, without cancellation). Borrows `m`.
 */
export function mixtureMoments(m: GaussianMixture): { mean: number[]; covariance: number[][] } {
  validateMixture(m);
  const D = m.means[0]!.length;
  const mean = Array.from({ length: D }, (_, d) => m.weights.reduce((s, w, k) => s + w * m.means[k]![d]!, 0));
  const covariance = mean.map(() => mean.map(() => 0));
  m.weights.forEach((w, k) => {
    const [S, mu] = [covarianceOf(m, k), m.means[k]!];
    for (let d = 0; d < D; d++)
      for (let e = 0; e < D; e++) covariance[d]![e]! += w * (S[d]![e]! + (mu[d]! - mean[d]!) * (mu[e]! - mean[e]!));
  });
  return { mean, covariance };
}
