/**
 * The Fréchet distance against closed forms (1-D, diagonal covariances), against a direct float64
 * computation that takes the matrix square root another way (Denman–Beavers iteration on the
 * non-symmetric product Σ_a Σ_b, since tr((Σ_aΣ_b)^{1/2}) = tr((Σ_a^{1/2} Σ_b Σ_a^{1/2})^{1/2})), and
 * under a common rotation; the Jacobi eigendecomposition against its definition.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { mulberry32 } from "../data/mulberry32.js";
import { fitGaussian, frechetDistance, frechetDistanceOfGaussians, frechetNoiseFloor, sqrtPsd, symmetricEigen } from "./frechet.js";

/** Seeded standard normals (mulberry32 + Box–Muller), independent of the library's Rng. */
function normals(seed: number, count: number): Float64Array {
  const uniform = mulberry32(seed);
  return Float64Array.from({ length: count }, () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform()));
}

/** Rows z [n, F] mixed by a [F, F] and shifted: x_i = z_i a + shift. */
function correlated(seed: number, n: number, F: number, shift = 0): Float64Array {
  const z = normals(seed, n * F);
  const a = normals(seed + 1000, F * F);
  const x = new Float64Array(n * F);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < F; j++) {
      let s = shift;
      for (let k = 0; k < F; k++) s += z[i * F + k]! * a[k * F + j]!;
      x[i * F + j] = s;
    }
  return x;
}

const mul = (a: Float64Array, b: Float64Array, n: number) => {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) out[i * n + j]! += a[i * n + k]! * b[k * n + j]!;
  return out;
};

/** Gauss–Jordan inverse with partial pivoting. */
function inverse(a: Float64Array, n: number): Float64Array {
  const m = Float64Array.from(a);
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) inv[i * n + i] = 1;
  for (let c = 0; c < n; c++) {
    let pivot = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r * n + c]!) > Math.abs(m[pivot * n + c]!)) pivot = r;
    for (let k = 0; k < n; k++) {
      [m[c * n + k], m[pivot * n + k]] = [m[pivot * n + k]!, m[c * n + k]!];
      [inv[c * n + k], inv[pivot * n + k]] = [inv[pivot * n + k]!, inv[c * n + k]!];
    }
    const d = m[c * n + c]!;
    for (let k = 0; k < n; k++) {
      m[c * n + k]! /= d;
      inv[c * n + k]! /= d;
    }
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r * n + c]!;
      for (let k = 0; k < n; k++) {
        m[r * n + k]! -= f * m[c * n + k]!;
        inv[r * n + k]! -= f * inv[c * n + k]!;
      }
    }
  }
  return inv;
}

/** FD computed directly: two-pass moments, and tr((Σ_aΣ_b)^{1/2}) by Denman–Beavers (Y → M^{1/2}, Z → M^{−1/2}). */
function directFrechet(x: Float64Array, y: Float64Array, F: number): number {
  const moments = (d: Float64Array) => {
    const n = d.length / F;
    const mean = Array.from({ length: F }, (_, f) => d.filter((_, i) => i % F === f).reduce((s, v) => s + v, 0) / n);
    const cov = new Float64Array(F * F);
    for (let p = 0; p < F; p++)
      for (let q = 0; q < F; q++) {
        let s = 0;
        for (let i = 0; i < n; i++) s += (d[i * F + p]! - mean[p]!) * (d[i * F + q]! - mean[q]!);
        cov[p * F + q] = s / (n - 1);
      }
    return { mean, cov };
  };
  const a = moments(x);
  const b = moments(y);
  let Y = mul(a.cov, b.cov, F);
  let Z = new Float64Array(F * F);
  for (let i = 0; i < F; i++) Z[i * F + i] = 1;
  for (let k = 0; k < 60; k++) {
    const [Yi, Zi] = [inverse(Y, F), inverse(Z, F)];
    [Y, Z] = [Y.map((v, i) => 0.5 * (v + Zi[i]!)), Z.map((v, i) => 0.5 * (v + Yi[i]!))];
  }
  let fd = 0;
  for (let f = 0; f < F; f++) fd += (a.mean[f]! - b.mean[f]!) ** 2 + a.cov[f * F + f]! + b.cov[f * F + f]! - 2 * Y[f * F + f]!;
  return fd;
}

/** A random orthogonal matrix: Gram–Schmidt on Gaussian columns. */
function orthogonal(seed: number, F: number): Float64Array {
  const g = normals(seed, F * F);
  const q = new Float64Array(F * F);
  for (let j = 0; j < F; j++) {
    const v = Array.from({ length: F }, (_, i) => g[i * F + j]!);
    for (let k = 0; k < j; k++) {
      const dot = v.reduce((s, vi, i) => s + vi * q[i * F + k]!, 0);
      v.forEach((_, i) => (v[i]! -= dot * q[i * F + k]!));
    }
    const norm = Math.hypot(...v);
    v.forEach((vi, i) => (q[i * F + j] = vi / norm));
  }
  return q;
}

const traceSum = (x: Float64Array, y: Float64Array, F: number) => {
  const [a, b] = [fitGaussian(x, F), fitGaussian(y, F)];
  let s = 0;
  for (let f = 0; f < F; f++) s += a.cov[f * F + f]! + b.cov[f * F + f]!;
  return s;
};

describe("symmetric eigendecomposition (Jacobi)", () => {
  it("satisfies A V = V diag(λ) with orthonormal V, repeated eigenvalues included", () => {
    const n = 12;
    const cases = [
      correlated(3, 30, n),
      (() => {
        // I + u uᵀ: eigenvalue 1 eleven times and 1 + ‖u‖² once
        const u = normals(9, n);
        return Float64Array.from({ length: n * n }, (_, k) => (Math.floor(k / n) === k % n ? 1 : 0) + u[Math.floor(k / n)]! * u[k % n]!);
      })(),
    ];
    for (const [c, raw] of cases.entries()) {
      const A = c === 0 ? fitGaussian(raw, n).cov : raw;
      const { values, vectors } = symmetricEigen(A, n);
      const V = vectors!;
      let scale = 0;
      for (const v of A) scale = Math.max(scale, Math.abs(v));
      for (let i = 0; i < n; i++)
        for (let k = 0; k < n; k++) {
          let av = 0;
          for (let j = 0; j < n; j++) av += A[i * n + j]! * V[j * n + k]!;
          assert.ok(
            Math.abs(av - values[k]! * V[i * n + k]!) < 1e-12 * scale,
            `case ${c}: (AV)[${i},${k}] = ${av}, λv = ${values[k]! * V[i * n + k]!}`,
          );
          let vv = 0;
          for (let j = 0; j < n; j++) vv += V[j * n + i]! * V[j * n + k]!;
          assert.ok(Math.abs(vv - (i === k ? 1 : 0)) < 1e-12, `case ${c}: (VᵀV)[${i},${k}] = ${vv}`);
        }
    }
  });
});

describe("Jacobi rotations", () => {
  it("equal diagonal entries (θ = 0): the 45° rotation", () => {
    const { values, vectors } = symmetricEigen([2, 1, 1, 2], 2);
    const sorted = Array.from(values).sort();
    // measured 4.4e-16
    assert.ok(Math.abs(sorted[0]! - 1) < 4e-15 && Math.abs(sorted[1]! - 3) < 4e-15, `eigenvalues ${sorted}`);
    // columns ±(1, ∓1)/√2: measured 1.1e-16
    for (const v of vectors!) assert.ok(Math.abs(Math.abs(v) - Math.SQRT1_2) < 1e-15, `|V| entries ${Array.from(vectors!)}`);
  });

  it("a zero coupling between equal diagonal entries is skipped, a coupling far below the diagonal gap (|θ| > 1e150) handled", () => {
    // pair (0, 1): a_pq = 0 with a_pp = a_qq (θ would be 0/0); the (0, 2) coupling keeps the sweeps going
    const first = Array.from(symmetricEigen([2, 0, 1, 0, 2, 0, 1, 0, 5], 3).values).sort((x, y) => x - y);
    // pair (0, 1): θ = (2 − 1)/(2·1e−160) = 5e159, whose square overflows; the (1, 2) coupling keeps the sweeps going
    const second = Array.from(symmetricEigen([1, 1e-160, 0, 1e-160, 2, 0.5, 0, 0.5, 3], 3).values).sort((x, y) => x - y);
    const cases = [
      [first, [(7 - Math.sqrt(13)) / 2, 2, (7 + Math.sqrt(13)) / 2]],
      [second, [1, (5 - Math.SQRT2) / 2, (5 + Math.SQRT2) / 2]],
    ] as const;
    // measured 8.9e-16
    for (const [got, want] of cases) got.forEach((v, k) => assert.ok(Math.abs(v - want[k]!) < 5e-15, `eigenvalues ${got} vs ${want}`));
  });
});

describe("the PSD square root", () => {
  it("squares back to the matrix, and takes rounding-level negative eigenvalues as 0", () => {
    const n = 5;
    const M = fitGaussian(correlated(31, 12, n), n).cov;
    const root = sqrtPsd(M, n);
    // measured 2.0e-15 relative to the largest entry
    const scale = Math.max(...M.map(Math.abs));
    mul(root, root, n).forEach((v, k) => assert.ok(Math.abs(v - M[k]!) < 2e-14 * scale, `(√M)²[${k}] = ${v}, M = ${M[k]}`));
    // diag(4, −1e−14) rotated by 45°: the root is diag(2, 0) rotated the same way
    const c = Math.SQRT1_2;
    const rotated = (a: number, b: number) => Float64Array.of(c * c * (a + b), c * c * (a - b), c * c * (a - b), c * c * (a + b));
    const clipped = sqrtPsd(rotated(4, -1e-14), 2);
    // measured 4.4e-16
    clipped.forEach((v, k) => assert.ok(Math.abs(v - rotated(2, 0)[k]!) < 2e-15, `root[${k}] = ${v}`));
    assert.equal(symmetricEigen(M, n, { vectors: false }).vectors, null);
  });
});

describe("Fréchet distance", () => {
  it("is zero for identical feature sets", () => {
    const F = 16;
    const x = correlated(1, 200, F, 0.5);
    const fd = frechetDistance(x, x, F);
    assert.ok(Math.abs(fd) <= 1e-9 * traceSum(x, x, F), `FD(x, x) = ${fd}`);
  });

  it("equals (μ₁ − μ₂)² + (s₁ − s₂)² in 1-D", () => {
    const x = correlated(2, 50, 1, 1.5);
    const y = correlated(4, 70, 1, -0.5);
    const [a, b] = [fitGaussian(x, 1), fitGaussian(y, 1)];
    const expected = (a.mean[0]! - b.mean[0]!) ** 2 + (Math.sqrt(a.cov[0]!) - Math.sqrt(b.cov[0]!)) ** 2;
    const got = frechetDistance(x, y, 1);
    assert.ok(Math.abs(got - expected) <= 1e-12 * expected, `${got} vs ${expected}`);
  });

  it("equals ‖μ_a − μ_b‖² + Σ_i (√a_i − √b_i)² for diagonal covariances", () => {
    const F = 7;
    const va = Float64Array.from({ length: F }, (_, i) => 0.3 + i);
    const vb = Float64Array.from({ length: F }, (_, i) => 2.5 / (i + 1));
    const diag = (v: Float64Array) => Float64Array.from({ length: F * F }, (_, k) => (Math.floor(k / F) === k % F ? v[k % F]! : 0));
    const ma = Float64Array.from({ length: F }, (_, i) => i * 0.1);
    const mb = Float64Array.from({ length: F }, (_, i) => 1 - i * 0.2);
    const got = frechetDistanceOfGaussians({ dim: F, mean: ma, cov: diag(va) }, { dim: F, mean: mb, cov: diag(vb) });
    let expected = 0;
    for (let i = 0; i < F; i++) expected += (ma[i]! - mb[i]!) ** 2 + (Math.sqrt(va[i]!) - Math.sqrt(vb[i]!)) ** 2;
    assert.ok(Math.abs(got - expected) <= 1e-12 * expected, `${got} vs ${expected}`);
  });

  it("matches a direct computation with the Denman–Beavers square root of Σ_a Σ_b", () => {
    for (const [seed, F, n, m] of [
      [5, 3, 20, 25],
      [6, 6, 40, 30],
      [7, 10, 60, 80],
    ] as const) {
      const x = correlated(seed, n, F, 0.2);
      const y = correlated(seed + 50, m, F, -0.1);
      const got = frechetDistance(x, y, F);
      const expected = directFrechet(x, y, F);
      assert.ok(Math.abs(got - expected) <= 1e-9 * traceSum(x, y, F), `F = ${F}: ${got} vs ${expected}`);
    }
  });

  it("is unchanged by a common rotation of both sets", () => {
    const F = 8;
    const x = correlated(11, 60, F, 0.7);
    const y = correlated(12, 45, F);
    const Q = orthogonal(13, F);
    const rotate = (d: Float64Array) => {
      const out = new Float64Array(d.length);
      for (let i = 0; i < d.length / F; i++)
        for (let j = 0; j < F; j++) for (let k = 0; k < F; k++) out[i * F + j]! += d[i * F + k]! * Q[k * F + j]!;
      return out;
    };
    const before = frechetDistance(x, y, F);
    const after = frechetDistance(rotate(x), rotate(y), F);
    assert.ok(Math.abs(after - before) <= 1e-9 * traceSum(x, y, F), `${after} vs ${before}`);
  });

  it("noise floor: FD between the first m and the next m reference rows", () => {
    const F = 4;
    const ref = correlated(21, 100, F);
    assert.equal(frechetNoiseFloor(ref, F, 30), frechetDistance(ref.subarray(0, 30 * F), ref.subarray(30 * F, 60 * F), F));
    assert.equal(frechetNoiseFloor(ref, F, 50), frechetDistance(ref.subarray(0, 50 * F), ref.subarray(50 * F), F));
    assert.throws(() => frechetNoiseFloor(ref, F, 51), /needs 2·51 reference rows, got 100/);
    assert.throws(() => frechetNoiseFloor(ref, F, 1), /the noise floor for 1 samples needs 2·1 reference rows/);
    assert.equal(frechetNoiseFloor(ref, F, 2), frechetDistance(ref.subarray(0, 2 * F), ref.subarray(2 * F, 4 * F), F));
  });

  it("is exactly 0, not a rounding-level negative, for identical sets whose unclipped sum rounds below 0", () => {
    // uniform points in 3-D: for these seeds the traces minus twice the root's trace round to −5e−17 … −4e−16
    for (const seed of [1, 3, 4]) {
      const uniform = mulberry32(seed);
      const x = Float64Array.from({ length: 30 }, () => uniform() - 0.5);
      assert.equal(frechetDistance(x, x, 3), 0, `seed ${seed}`);
    }
  });

  it("fits two rows: their midpoint and half their squared difference", () => {
    const g = fitGaussian([1, 5, 3, -1], 2);
    assert.deepEqual(Array.from(g.mean), [2, 2]);
    // (x₁ − μ)(x₁ − μ)ᵀ + (x₂ − μ)(x₂ − μ)ᵀ over n − 1 = 1: d = (−1, 3) and (1, −3)
    assert.deepEqual(Array.from(g.cov), [2, -6, -6, 18]);
  });

  it("refuses mismatched or too small inputs", () => {
    assert.throws(() => fitGaussian([1, 2, 3], 3), /fitting a Gaussian needs at least 2 rows of 3 features, got 3 values/);
    assert.throws(() => fitGaussian([1, 2, 3, 4], 3), /needs at least 2 rows of 3 features, got 4 values/);
    assert.throws(() => symmetricEigen([1, 2, 3], 2), /symmetricEigen: expected 2×2 values, got 3/);
    const g = (dim: number) => ({ dim, mean: new Float64Array(dim), cov: new Float64Array(dim * dim) });
    assert.throws(() => frechetDistanceOfGaussians(g(2), g(3)), /Fréchet distance: 2 features against 3/);
  });
});
