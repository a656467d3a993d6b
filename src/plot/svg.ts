/**
 * Charts with words (titles, axis labels, legends) as SVG: the PNG canvas only draws digits, and
 * SVG text needs no font files or native packages. One function: lines y(x) with markers.
 */
import { formatNumber, PALETTE } from "./canvas.js";

/** One named line of a chart: y against x (non-finite points are skipped). */
export interface Series {
  name: string;
  x: number[];
  y: number[];
}

const escape = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/**
 * An SVG document: every series as a coloured line with markers, log axes where all values are
 * positive (else linear), ticks at the ends and at powers of ten, a title, axis labels and a legend.
 */
export function seriesChartSvg(series: Series[], { title = "", xLabel = "", yLabel = "", width = 760, height = 460 } = {}): string {
  const [left, right, top, bottom] = [80, 170, 44, 56];
  const pts = series.map((s) => s.x.map((x, i) => [x, s.y[i]!] as const).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)));
  const xs = pts.flat().map(([x]) => x);
  const ys = pts.flat().map(([, y]) => y);
  const out: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="13">`, `<rect width="100%" height="100%" fill="white"/>`, `<text x="${width / 2}" y="24" text-anchor="middle" font-size="16">${escape(title)}</text>`];
  if (xs.length > 0) {
    const axis = (v: number[]) => {
      const log = v.every((a) => a > 0);
      const f = log ? Math.log10 : (a: number) => a;
      let [lo, hi] = [Math.min(...v.map(f)), Math.max(...v.map(f))];
      if (hi - lo < 1e-12) [lo, hi] = [lo - 0.5, hi + 0.5];
      const ticks = log ? Array.from({ length: Math.floor(hi) - Math.ceil(lo) + 1 }, (_, k) => 10 ** (Math.ceil(lo) + k)) : [];
      return { log, f, lo, hi, ticks: [...new Set([log ? 10 ** lo : lo, ...ticks, log ? 10 ** hi : hi])] };
    };
    const [ax, ay] = [axis(xs), axis(ys)];
    const px = (v: number) => left + ((ax.f(v) - ax.lo) / (ax.hi - ax.lo)) * (width - left - right);
    const py = (v: number) => height - bottom - ((ay.f(v) - ay.lo) / (ay.hi - ay.lo)) * (height - top - bottom);
    out.push(`<rect x="${left}" y="${top}" width="${width - left - right}" height="${height - top - bottom}" fill="none" stroke="#999"/>`);
    for (const t of ax.ticks) out.push(`<line x1="${px(t)}" x2="${px(t)}" y1="${height - bottom}" y2="${height - bottom + 5}" stroke="#999"/><text x="${px(t)}" y="${height - bottom + 19}" text-anchor="middle">${formatNumber(t)}</text>`);
    for (const t of ay.ticks) out.push(`<line x1="${left - 5}" x2="${left}" y1="${py(t)}" y2="${py(t)}" stroke="#999"/><text x="${left - 8}" y="${py(t) + 4}" text-anchor="end">${formatNumber(t)}</text>`);
    out.push(`<text x="${left + (width - left - right) / 2}" y="${height - 14}" text-anchor="middle">${escape(xLabel + (ax.log ? " (log scale)" : ""))}</text>`);
    out.push(`<text transform="translate(18 ${top + (height - top - bottom) / 2}) rotate(-90)" text-anchor="middle">${escape(yLabel + (ay.log ? " (log scale)" : ""))}</text>`);
    pts.forEach((p, k) => {
      const color = `rgb(${PALETTE[k % PALETTE.length]!.join(",")})`;
      out.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${p.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(" ")}"/>`);
      for (const [x, y] of p) out.push(`<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="3.5" fill="${color}"/>`);
      const ly = top + 14 + 22 * k;
      out.push(`<rect x="${width - right + 16}" y="${ly - 10}" width="14" height="12" fill="${color}"/><text x="${width - right + 36}" y="${ly}">${escape(series[k]!.name)}</text>`);
    });
  }
  out.push("</svg>");
  return out.join("\n") + "\n";
}
