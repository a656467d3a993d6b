/** The user's own points: CSV (one point per line, optional header) or a JSON array of arrays. */
import { readFileSync } from "node:fs";
import type { PointSet } from "./toy.js";

/** Parse CSV text; errors name the line and the problem. */
export function parseCsv(text: string, source = "CSV"): PointSet {
  const rows: number[][] = [];
  let dim = 0;
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, k) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const fields = line.split(",").map((f) => f.trim());
    const numbers = fields.map(Number);
    const bad = fields.findIndex((f, j) => f === "" || !Number.isFinite(numbers[j]!));
    if (bad >= 0) {
      if (rows.length === 0 && dim === 0 && fields.every((f) => f !== "" && Number.isNaN(Number(f)))) {
        dim = fields.length; // a header line: names only
        return;
      }
      throw new Error(`${source} line ${k + 1}: field ${bad + 1} ("${fields[bad]}") is not a finite number`);
    }
    if (dim === 0) dim = numbers.length;
    if (numbers.length !== dim) throw new Error(`${source} line ${k + 1}: expected ${dim} values, got ${numbers.length}`);
    rows.push(numbers);
  });
  return toPointSet(rows, dim, source);
}

/** Parse a JSON array of equal-length arrays of numbers. */
export function parseJsonPoints(text: string, source = "JSON"): PointSet {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`${source}: not valid JSON (${(err as Error).message})`);
  }
  if (!Array.isArray(value)) throw new Error(`${source}: expected an array of points (arrays of numbers)`);
  const dim = Array.isArray(value[0]) ? value[0].length : 0;
  value.forEach((row, i) => {
    if (!Array.isArray(row)) throw new Error(`${source}: point ${i} is not an array`);
    if (row.length !== dim) throw new Error(`${source}: point ${i} has ${row.length} values, expected ${dim}`);
    const bad = row.findIndex((v) => typeof v !== "number" || !Number.isFinite(v));
    if (bad >= 0) throw new Error(`${source}: point ${i}, value ${bad} (${JSON.stringify(row[bad])}) is not a finite number`);
  });
  return toPointSet(value as number[][], dim, source);
}

function toPointSet(rows: number[][], dim: number, source: string): PointSet {
  if (rows.length < 2 || dim === 0) throw new Error(`${source}: needs at least 2 points with at least 1 value each`);
  return { points: Float32Array.from(rows.flat()), n: rows.length, dim };
}

/** Read points from a .csv or .json file. */
export function readPointsFile(path: string): PointSet {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new Error(`cannot read data file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (path.endsWith(".json")) return parseJsonPoints(text, path);
  if (path.endsWith(".csv")) return parseCsv(text, path);
  throw new Error(`data file ${path}: expected a .csv or .json file`);
}
