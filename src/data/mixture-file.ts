/**
 * Gaussian mixtures p(x) = Σ_k π_k N(μ_k, Σ_k) written as JSON objects, of any dimension D ≥ 1:
 *
 *   {"weights": [π_1, …, π_K], "means": [[μ_11, …, μ_1D], …], "stds": [[s_11, …, s_1D], …]}
 *       per-dimension standard deviations: Σ_k = diag(s_k²)
 *   {"weights": […], "means": […], "covariances": [[[Σ_1 row 1], …, [Σ_1 row D]], …]}
 *       full covariances, symmetric positive definite
 *
 * Weights are positive and sum to 1 (to within 1e-6; they are then divided by their sum). A JSON
 * *array* in a .json data file is points instead (`files.ts`). Errors are `DataError`s that start
 * with the file and name the field, the component and what is wrong.
 */

import { fullCovarianceMixture, type GaussianMixture, principalAxes } from "../densities/mixture.js";
import { DataError } from "../errors.js";

const FIELDS = ["weights", "means", "stds", "covariances"];

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * A parsed JSON value for an error message: JSON for short scalars and small flat arrays, else a
 * short description (never the whole of a long or deeply nested value).
 */
export function describeValue(value: unknown): string {
  if (Array.isArray(value)) {
    if (value.length <= 8 && value.every((v) => v === null || typeof v === "number" || typeof v === "boolean"))
      return shorten(JSON.stringify(value));
    return `an array of ${value.length}`;
  }
  if (isObject(value)) return "an object";
  if (typeof value === "number" && !Number.isFinite(value)) return "null"; // what JSON.stringify writes, and JSON can hold
  return shorten(JSON.stringify(value) ?? String(value));
}

const shorten = (s: string) => (s.length > 40 ? `${s.slice(0, 40)}…` : s);

/** The mixture a parsed JSON value describes (see the file comment), checked. Borrows `value`. */
export function mixtureFromJson(value: unknown, source = "mixture"): GaussianMixture {
  const fail = (what: string) => new DataError(`${source}: ${what}`);
  if (!isObject(value)) {
    throw fail(
      `expected a JSON object {"weights", "means", "stds" or "covariances"} describing a Gaussian mixture (or an array of points), got ${Array.isArray(value) ? "an array" : describeValue(value)}`,
    );
  }
  const unknown = Object.keys(value).filter((k) => !FIELDS.includes(k));
  if (unknown.length)
    throw fail(
      `unknown field ${unknown
        .slice(0, 5)
        .map((k) => shorten(JSON.stringify(k)))
        .join(", ")}${unknown.length > 5 ? ", …" : ""} (a mixture has "weights", "means" and "stds" or "covariances")`,
    );
  for (const field of ["weights", "means"]) if (!(field in value)) throw fail(`missing field "${field}"`);
  const [hasStds, hasCovariances] = ["stds" in value, "covariances" in value];
  if (hasStds === hasCovariances) {
    throw fail(
      hasStds
        ? `give "stds" or "covariances", not both`
        : `missing field "stds" (per-dimension standard deviations) or "covariances" (D × D matrices)`,
    );
  }

  /** value at `path` as an array of `length` entries (any length when undefined); `why` explains the length. */
  const list = (v: unknown, path: string, length?: number, why = ""): unknown[] => {
    if (!Array.isArray(v)) throw fail(`${path} must be an array, got ${describeValue(v)}`);
    if (length !== undefined && v.length !== length) throw fail(`${path} has ${v.length} entries, expected ${length}${why}`);
    return v;
  };
  const finite = (v: unknown, path: string): number => {
    if (typeof v !== "number" || !Number.isFinite(v)) throw fail(`${path} is not a finite number (${describeValue(v)})`);
    return v;
  };

  const raw = list(value.weights, "weights").map((w, k) => finite(w, `weights[${k}]`));
  const K = raw.length;
  if (K === 0) throw fail("weights is empty: a mixture needs at least one component");
  raw.forEach((w, k) => {
    if (!(w > 0)) throw fail(`weights[${k}] = ${w} is not positive`);
  });
  const sum = raw.reduce((a, b) => a + b, 0);
  if (Math.abs(sum - 1) > 1e-6) throw fail(`weights sum to ${sum}, not 1`);
  const weights = raw.map((w) => w / sum);

  const meanRows = list(value.means, "means", K, " (one per weight)");
  const D = Array.isArray(meanRows[0]) ? meanRows[0].length : 0;
  if (D === 0) throw fail(`means[0] must be a non-empty array of numbers (the dimension D is its length)`);
  /** row k of a K × D field, checked: D finite numbers */
  const vector = (v: unknown, path: string, k: number) => {
    if (Array.isArray(v) && v.length !== D) throw fail(`component ${k}: ${path} has ${v.length} entries, expected D = ${D}`);
    return list(v, path, D).map((x, d) => finite(x, `${path}[${d}]`));
  };
  const means = meanRows.map((row, k) => vector(row, `means[${k}]`, k));

  if (hasStds) {
    const stds = list(value.stds, "stds", K, " (one per weight)").map((row, k) => vector(row, `stds[${k}]`, k));
    stds.forEach((row, k) =>
      row.forEach((s, d) => {
        if (!(s > 0)) throw fail(`component ${k}: stds[${k}][${d}] = ${s} is not positive`);
        if (!(s * s > 0 && Number.isFinite(s * s)))
          throw fail(`component ${k}: stds[${k}][${d}] = ${s} is out of range (its square is ${s * s})`);
      }),
    );
    return { weights, means, variances: stds.map((row) => row.map((s) => s * s)) };
  }
  const covariances = list(value.covariances, "covariances", K, " (one per weight)").map((matrix, k) => {
    const rows = list(matrix, `covariances[${k}]`);
    if (rows.length !== D) throw fail(`component ${k}: covariance has ${rows.length} rows, expected D = ${D}`);
    return rows.map((row, d) => vector(row, `covariances[${k}][${d}]`, k));
  });
  const mixture = fullCovarianceMixture(weights, means, covariances);
  try {
    principalAxes(mixture, source); // symmetry and positive definiteness, naming the component
  } catch (err) {
    throw new DataError((err as Error).message, { cause: err });
  }
  return mixture;
}
