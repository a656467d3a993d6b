/**
 * Gaussian mixtures p(x) = Σ_k π_k N(μ_k, Σ_k) written as JSON objects, of any dimension D ≥ 1:
 *
 *   {"weights": [π_1, …, π_K], "means": [[μ_11, …, μ_1D], …], "stds": [[s_11, …, s_1D], …]}
 *       per-dimension standard deviations: Σ_k = diag(s_k²)
 *   {"weights": […], "means": […], "covariances": [[[Σ_1 row 1], …, [Σ_1 row D]], …]}
 *       full covariances, symmetric positive definite
 *
 * Weights are positive and sum to 1 (to within 1e-6; they are then divided by their sum). A JSON
 * *array* in a .json data file is points instead (`files.ts`). The format is a zod schema
 * (`mixtureFileSchema`: the fields' JSON types, then the constraints between them); errors are
 * `DataError`s that start with the file and name the field, the component and what is wrong.
 */
import { z } from "zod";
import { fullCovarianceMixture, type GaussianMixture, principalAxes } from "../densities/mixture.js";
import { DataError } from "../errors.js";

const shorten = (s: string) => (s.length > 40 ? `${s.slice(0, 40)}…` : s);

const isObject = (value: unknown) => typeof value === "object" && value !== null && !Array.isArray(value);

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

/** A field's path as the file names it: ["means", 1, 0] → "means[1][0]". */
const fieldPath = (path: readonly PropertyKey[] | undefined) =>
  (path ?? []).map((p) => (typeof p === "number" ? `[${p}]` : String(p))).join("");

/** A finite JSON number. */
const finite = z.number({ error: (iss) => `${fieldPath(iss.path)} is not a finite number (${describeValue(iss.input)})` });

/**
 * A JSON array of `item`s; a missing top-level field is named as such. Entries are parsed only up
 * to the first that `isItem` (a shallow test of its JSON type: `Number.isFinite`, `Array.isArray`)
 * refuses, so a long array of the wrong entries is one issue, not one per entry (zod's own array
 * took 50 ms for 100 000 of them).
 */
const list = <T extends z.ZodType>(item: T, isItem: (x: unknown) => boolean) =>
  z.preprocess(
    (v) => {
      const bad = Array.isArray(v) ? v.findIndex((x) => !isItem(x)) : -1;
      return bad < 0 ? v : (v as unknown[]).slice(0, bad + 1);
    },
    z.array(item, {
      error: (iss) =>
        iss.input === undefined && iss.path?.length === 1
          ? `missing field "${fieldPath(iss.path)}"`
          : `${fieldPath(iss.path)} must be an array, got ${describeValue(iss.input)}`,
    }),
  );

const numbers = list(finite, Number.isFinite);

const unknownFields = (keys: string[]) =>
  `unknown field ${keys
    .slice(0, 5)
    .map((k) => shorten(JSON.stringify(k)))
    .join(", ")}${keys.length > 5 ? ", …" : ""} (a mixture has "weights", "means" and "stds" or "covariances")`;

/** The fields of a mixture file with their JSON types; `mixtureFileSchema` adds the constraints between them. */
const fields = z.strictObject(
  {
    weights: numbers,
    means: list(numbers, Array.isArray),
    stds: list(numbers, Array.isArray).optional(),
    covariances: list(list(numbers, Array.isArray), Array.isArray).optional(),
  },
  {
    error: (iss) =>
      iss.code === "unrecognized_keys"
        ? unknownFields(iss.keys)
        : `expected a JSON object {"weights", "means", "stds" or "covariances"} describing a Gaussian mixture (or an array of points), got ${Array.isArray(iss.input) ? "an array" : describeValue(iss.input)}`,
  },
);

/** A mixture file as JSON gives it: weights, means, and stds or covariances. */
export type MixtureFile = z.infer<typeof fields>;

/**
 * The first constraint between the fields of a well-typed mixture file that `f` breaks, in words, or
 * undefined: stds or covariances (one of them), K ≥ 1 positive weights summing to 1 within 1e-6, K
 * rows of each other field, D ≥ 1 entries in each row (D × D for a covariance), stds whose squares
 * are positive and finite. Symmetry and positive definiteness are `principalAxes`'.
 */
function violation(f: MixtureFile): string | undefined {
  if (f.stds && f.covariances) return `give "stds" or "covariances", not both`;
  if (!f.stds && !f.covariances) return `missing field "stds" (per-dimension standard deviations) or "covariances" (D × D matrices)`;
  const K = f.weights.length;
  if (K === 0) return "weights is empty: a mixture needs at least one component";
  const k0 = f.weights.findIndex((w) => !(w > 0));
  if (k0 >= 0) return `weights[${k0}] = ${f.weights[k0]} is not positive`;
  const sum = f.weights.reduce((a, b) => a + b, 0);
  if (Math.abs(sum - 1) > 1e-6) return `weights sum to ${sum}, not 1`;
  const perWeight = (rows: unknown[], name: string) =>
    rows.length !== K && `${name} has ${rows.length} entries, expected ${K} (one per weight)`;
  if (f.means.length !== K) return perWeight(f.means, "means") || undefined;
  const D = f.means[0]!.length;
  if (D === 0) return "means[0] must be a non-empty array of numbers (the dimension D is its length)";
  /** component k's `row`, named `name`, unless it has D entries */
  const notD = (row: number[], k: number, name: string) =>
    row.length !== D && `component ${k}: ${name} has ${row.length} entries, expected D = ${D}`;
  for (const [k, row] of f.means.entries()) {
    const wrong = notD(row, k, `means[${k}]`);
    if (wrong) return wrong;
  }
  if (f.stds) {
    const wrong = perWeight(f.stds, "stds");
    if (wrong) return wrong;
    for (const [k, row] of f.stds.entries()) {
      const ragged = notD(row, k, `stds[${k}]`);
      if (ragged) return ragged;
    }
    for (const [k, row] of f.stds.entries()) {
      for (const [d, s] of row.entries()) {
        if (!(s > 0)) return `component ${k}: stds[${k}][${d}] = ${s} is not positive`;
        if (!(s * s > 0 && Number.isFinite(s * s)))
          return `component ${k}: stds[${k}][${d}] = ${s} is out of range (its square is ${s * s})`;
      }
    }
    return undefined;
  }
  const covariances = f.covariances!;
  const wrong = perWeight(covariances, "covariances");
  if (wrong) return wrong;
  for (const [k, rows] of covariances.entries()) {
    if (rows.length !== D) return `component ${k}: covariance has ${rows.length} rows, expected D = ${D}`;
    for (const [d, row] of rows.entries()) {
      const ragged = notD(row, k, `covariances[${k}][${d}]`);
      if (ragged) return ragged;
    }
  }
  return undefined;
}

/**
 * The mixture-file format: its fields' JSON types, the constraints between them (`violation`), and
 * the mixture they describe (weights divided by their sum; Σ_k = diag(s_k²), or the covariances).
 */
export const mixtureFileSchema = fields
  .check((ctx) => {
    const message = violation(ctx.value);
    if (message) ctx.issues.push({ code: "custom", message, input: ctx.value });
  })
  .transform((f): GaussianMixture => {
    const sum = f.weights.reduce((a, b) => a + b, 0);
    const weights = f.weights.map((w) => w / sum);
    if (f.stds) return { weights, means: f.means, variances: f.stds.map((row) => row.map((s) => s * s)) };
    return fullCovarianceMixture(weights, f.means, f.covariances!);
  });

/** The mixture a parsed JSON value describes (see the file comment), checked. Borrows `value`. */
export function mixtureFromJson(value: unknown, source = "mixture"): GaussianMixture {
  const parsed = mixtureFileSchema.safeParse(value);
  if (!parsed.success) {
    // an unknown field first: it explains a field found missing
    const { issues } = parsed.error;
    throw new DataError(`${source}: ${(issues.find((issue) => issue.code === "unrecognized_keys") ?? issues[0]!).message}`);
  }
  const mixture = parsed.data;
  if (mixture.covariances) principalAxes(mixture, source); // symmetry and positive definiteness, naming the component
  return mixture;
}
