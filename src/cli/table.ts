/** Tables on stdout. */

/** `rows` under `header` in right-aligned columns; numbers as integers below 10⁶, else to six significant digits. */
export function printTable(header: string[], rows: (number | string)[][]): void {
  const fmt = (v: number | string) => (typeof v === "string" ? v : Number.isInteger(v) && Math.abs(v) < 1e6 ? String(v) : v.toPrecision(6));
  const cells = [header, ...rows.map((r) => r.map(fmt))];
  const widths = header.map((_, j) => Math.max(...cells.map((r) => r[j]!.length)));
  for (const r of cells) console.log(r.map((c, j) => c.padStart(widths[j]!)).join("  "));
}
