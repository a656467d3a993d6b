/**
 * The user's own data files: points as CSV (one point per line, optional header) or as a JSON
 * array of arrays, or a Gaussian mixture as a JSON object (`mixture-file.ts`). Errors are
 * `DataError`s naming the file, the line or point, and the problem.
 */
import { readFileSync } from "node:fs";
import type { GaussianMixture } from "../densities/mixture.js";
import { DataError } from "../errors.js";
import { describeValue, mixtureFromJson } from "./mixture-file.js";
import type { PointSet } from "./sets.js";

/** The largest magnitude a float32 holds: points are stored as float32. */
const FLOAT32_MAX = 3.4028234663852886e38;
const storable = (v: number) => Number.isFinite(v) && Math.abs(v) <= FLOAT32_MAX;

/**
 * Parse CSV text; errors name the line and the problem. `labelColumn` (a 0-based index or a
 * header name) takes that column out of the point as an integer class label.
 */
export function parseCsv(text: string, source = "CSV", labelColumn = ""): PointSet {
  const rows: number[][] = [];
  const header: { names: string[] | null } = { names: null };
  let dim = 0;
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, k) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const fields = line.split(",").map((f) => f.trim());
    const numbers = fields.map(Number);
    const bad = fields.findIndex((f, j) => f === "" || !Number.isFinite(numbers[j]!));
    const huge = numbers.findIndex((v) => !storable(v));
    if (bad >= 0) {
      if (rows.length === 0 && dim === 0 && fields.every((f) => f !== "" && Number.isNaN(Number(f)))) {
        dim = fields.length; // a header line: names only
        header.names = fields;
        return;
      }
      throw new DataError(`${source} line ${k + 1}: field ${bad + 1} (${describeValue(fields[bad])}) is not a finite number`);
    }
    if (huge >= 0)
      throw new DataError(
        `${source} line ${k + 1}: field ${huge + 1} (${describeValue(fields[huge])}) is beyond the float32 range of points`,
      );
    if (dim === 0) dim = numbers.length;
    if (numbers.length !== dim) throw new DataError(`${source} line ${k + 1}: expected ${dim} values, got ${numbers.length}`);
    rows.push(numbers);
  });
  if (labelColumn === "") return toPointSet(rows, dim, source);
  const names = header.names;
  const column = /^\d+$/.test(labelColumn) ? Number(labelColumn) : (names ?? []).indexOf(labelColumn);
  if (column < 0 || column >= dim)
    throw new DataError(
      `${source}: no label column "${labelColumn}" (${dim} columns${
        names
          ? `: ${names
              .slice(0, 8)
              .map((n) => (n.length > 40 ? `${n.slice(0, 40)}…` : n))
              .join(", ")}${names.length > 8 ? ", …" : ""}`
          : ""
      })`,
    );
  const labels = rows.map((r, i) => {
    const y = r[column]!;
    if (!Number.isInteger(y) || y < 0 || y > 0x7fffffff)
      throw new DataError(`${source}: label ${y} of point ${i} is not a non-negative 32-bit integer`);
    return y;
  });
  const set = toPointSet(
    rows.map((r) => r.filter((_, j) => j !== column)),
    dim - 1,
    source,
  );
  return { ...set, labels: Int32Array.from(labels) };
}

/** JSON.parse(text), or an error naming `source`. */
export function parseJson(text: string, source = "JSON"): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new DataError(`${source}: not valid JSON (${(err as Error).message})`, { cause: err });
  }
}

/** Parse a JSON array of equal-length arrays of numbers. */
export function parseJsonPoints(text: string, source = "JSON"): PointSet {
  return jsonPoints(parseJson(text, source), source);
}

/** Points from a parsed JSON value: an array of equal-length arrays of finite numbers. Borrows `value`. */
export function jsonPoints(value: unknown, source = "JSON"): PointSet {
  if (!Array.isArray(value)) throw new DataError(`${source}: expected an array of points (arrays of numbers)`);
  const dim = Array.isArray(value[0]) ? value[0].length : 0;
  value.forEach((row, i) => {
    if (!Array.isArray(row)) throw new DataError(`${source}: point ${i} is not an array`);
    if (row.length !== dim) throw new DataError(`${source}: point ${i} has ${row.length} values, expected ${dim}`);
    const bad = row.findIndex((v) => typeof v !== "number" || !Number.isFinite(v));
    if (bad >= 0) throw new DataError(`${source}: point ${i}, value ${bad} (${describeValue(row[bad])}) is not a finite number`);
    const huge = row.findIndex((v) => !storable(v as number));
    if (huge >= 0) throw new DataError(`${source}: point ${i}, value ${huge} (${row[huge]}) is beyond the float32 range of points`);
  });
  return toPointSet(value as number[][], dim, source);
}

function toPointSet(rows: number[][], dim: number, source: string): PointSet {
  if (rows.length < 2 || dim === 0) throw new DataError(`${source}: needs at least 2 points with at least 1 value each`);
  return { points: Float32Array.from(rows.flat()), n: rows.length, dim };
}

/** The text of a data file, or an error naming it. */
export function readDataText(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    throw new DataError(`cannot read data file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
}

/**
 * Read a .csv or .json data file: points (CSV, or a JSON array of arrays), or the Gaussian mixture a
 * JSON object describes (`mixture-file.ts`). `labelColumn`: CSV only.
 */
export function readDataFile(path: string, labelColumn = ""): PointSet | GaussianMixture {
  if (path.endsWith(".json")) {
    const value = parseJson(readDataText(path), path);
    return Array.isArray(value) ? jsonPoints(value, path) : mixtureFromJson(value, path);
  }
  if (path.endsWith(".csv")) return parseCsv(readDataText(path), path, labelColumn);
  if (labelColumn) throw new DataError(`data file ${path}: a label column applies to CSV files only`);
  throw new DataError(`data file ${path}: expected a .csv or .json file`);
}
