/** The pictures the CLI writes: scatter plots, loss curves, strips of scatter panels. */
import { Canvas, formatNumber, PALETTE, type Color } from "./canvas.js";

export interface Bounds {
  xmin: number;
  xmax: number;
  ymin: number;
  ymax: number;
}

/** Bounds of 2-D points with a margin; a fixed square-ish frame keeps panels comparable. */
export function boundsOf(points: ArrayLike<number>, margin = 0.05): Bounds {
  let [xmin, xmax, ymin, ymax] = [Infinity, -Infinity, Infinity, -Infinity];
  for (let i = 0; i + 1 < points.length; i += 2) {
    const [x, y] = [points[i]!, points[i + 1]!];
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    xmin = Math.min(xmin, x), xmax = Math.max(xmax, x), ymin = Math.min(ymin, y), ymax = Math.max(ymax, y);
  }
  if (!Number.isFinite(xmin)) return { xmin: -1, xmax: 1, ymin: -1, ymax: 1 };
  const dx = Math.max(xmax - xmin, 1e-6) * margin, dy = Math.max(ymax - ymin, 1e-6) * margin;
  return { xmin: xmin - dx, xmax: xmax + dx, ymin: ymin - dy, ymax: ymax + dy };
}

/** A scatter panel of 2-D points (first two coordinates of rows of `dim`), coloured by label. */
export function scatter(points: ArrayLike<number>, dim: number, { size = 400, bounds, labels, paths }: { size?: number; bounds?: Bounds; labels?: ArrayLike<number>; paths?: number[][] } = {}): Canvas {
  const c = new Canvas(size, size);
  const xy = new Float64Array((points.length / dim) * 2);
  for (let i = 0; i < points.length / dim; i++) (xy[2 * i] = points[i * dim]!), (xy[2 * i + 1] = dim > 1 ? points[i * dim + 1]! : 0);
  const b = bounds ?? boundsOf(xy);
  const pad = 24;
  const px = (x: number) => pad + ((x - b.xmin) / (b.xmax - b.xmin)) * (size - 2 * pad);
  const py = (y: number) => size - pad - ((y - b.ymin) / (b.ymax - b.ymin)) * (size - 2 * pad);
  c.rect(pad, pad, size - pad, size - pad, [180, 180, 180]);
  const n = xy.length / 2;
  const alpha = Math.min(0.8, Math.max(0.15, 300 / n));
  for (let i = 0; i < n; i++) c.disc(px(xy[2 * i]!), py(xy[2 * i + 1]!), 1.6, labels ? PALETTE[labels[i]! % PALETTE.length]! : PALETTE[0]!, alpha);
  for (const [k, path] of (paths ?? []).entries()) {
    const color: Color = PALETTE[(k + 3) % PALETTE.length]!;
    for (let j = 2; j + 1 < path.length; j += 2) c.line(px(path[j - 2]!), py(path[j - 1]!), px(path[j]!), py(path[j + 1]!), color, 0.9);
    if (path.length >= 2) c.disc(px(path[path.length - 2]!), py(path[path.length - 1]!), 3, color);
  }
  c.text(formatNumber(b.xmin), pad, size - pad + 6);
  c.text(formatNumber(b.xmax), size - pad - 40, size - pad + 6);
  c.text(formatNumber(b.ymax), 2, 4);
  return c;
}

/** Panels side by side. */
export function strip(panels: Canvas[]): Canvas {
  const w = panels.reduce((s, p) => s + p.width, 0);
  const h = Math.max(...panels.map((p) => p.height));
  const out = new Canvas(w, h);
  let x = 0;
  for (const p of panels) out.blit(p, x, 0), (x += p.width);
  return out;
}

/** A line plot of `values` against their index, log-scaled y when all values are positive. */
export function lineChart(values: ArrayLike<number>, { width = 640, height = 360, smooth = 0 } = {}): Canvas {
  const c = new Canvas(width, height);
  const pad = 40;
  const ys = Array.from(values).filter(Number.isFinite);
  if (ys.length < 2) return c;
  const logScale = ys.every((v) => v > 0);
  const f = (v: number) => (logScale ? Math.log10(v) : v);
  const lo = Math.min(...ys.map(f)), hi = Math.max(...ys.map(f));
  const px = (i: number) => pad + (i / (ys.length - 1)) * (width - 2 * pad);
  const py = (v: number) => height - pad - ((f(v) - lo) / Math.max(hi - lo, 1e-12)) * (height - 2 * pad);
  c.rect(pad, pad, width - pad, height - pad, [180, 180, 180]);
  for (let i = 1; i < ys.length; i++) c.line(px(i - 1), py(ys[i - 1]!), px(i), py(ys[i]!), [160, 190, 220]);
  if (smooth > 0) {
    let s = ys[0]!;
    let prev = s;
    for (let i = 1; i < ys.length; i++) {
      s = smooth * s + (1 - smooth) * ys[i]!;
      c.line(px(i - 1), py(prev), px(i), py(s), PALETTE[0]!);
      prev = s;
    }
  }
  const label = (v: number) => formatNumber(logScale ? 10 ** v : v);
  c.text(label(hi), 2, pad - 12);
  c.text(label(lo), 2, height - pad + 4);
  c.text(String(ys.length), width - pad - 24, height - pad + 8);
  return c;
}

/**
 * A grid of images ([n, H, W, C] row-major, 8-bit values 0..255, C = 1 or 3), `cols` per row,
 * each pixel drawn as a `scale`×`scale` square, with a 2-pixel white gutter.
 */
/** The training loss per step with its exponential moving average (0.98): what loss.png shows. */
export function lossChart(losses: ArrayLike<number>): Canvas {
  return lineChart(losses, { smooth: 0.98 });
}

export function imageGrid(pixels: ArrayLike<number>, shape: number[], n: number, { cols = Math.ceil(Math.sqrt(n)), scale = 2 } = {}): Canvas {
  const [H, W, C] = shape as [number, number, number];
  if (C !== 1 && C !== 3) throw new Error(`imageGrid draws 1- or 3-channel images, got ${C} channels`);
  const gutter = 2;
  const rows = Math.ceil(n / cols);
  const c = new Canvas(cols * (W * scale + gutter) + gutter, rows * (H * scale + gutter) + gutter);
  const byte = (v: number) => Math.max(0, Math.min(255, Math.round(v)));
  for (let k = 0; k < n; k++) {
    const [x0, y0] = [gutter + (k % cols) * (W * scale + gutter), gutter + Math.floor(k / cols) * (H * scale + gutter)];
    for (let i = 0; i < H; i++) for (let j = 0; j < W; j++) {
      const at = ((k * H + i) * W + j) * C;
      const color: Color = C === 1 ? [byte(pixels[at]!), byte(pixels[at]!), byte(pixels[at]!)] : [byte(pixels[at]!), byte(pixels[at + 1]!), byte(pixels[at + 2]!)];
      for (let dy = 0; dy < scale; dy++) for (let dx = 0; dx < scale; dx++) c.pixel(x0 + j * scale + dx, y0 + i * scale + dy, color);
    }
  }
  return c;
}
