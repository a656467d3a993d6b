/** A small RGBA raster with the few primitives the plots need, and a 3×5 pixel font for labels. */
import { encodePng } from "../io/png.js";

export type Color = [number, number, number];

export const PALETTE: Color[] = [
  [31, 119, 180], [255, 127, 14], [44, 160, 44], [214, 39, 40],
  [148, 103, 189], [140, 86, 75], [227, 119, 194], [127, 127, 127],
];

// 3×5 glyphs, rows top to bottom, 3 bits each (MSB = left).
const GLYPHS: Record<string, number[]> = {
  "0": [7, 5, 5, 5, 7], "1": [2, 6, 2, 2, 7], "2": [7, 1, 7, 4, 7], "3": [7, 1, 7, 1, 7], "4": [5, 5, 7, 1, 1],
  "5": [7, 4, 7, 1, 7], "6": [7, 4, 7, 5, 7], "7": [7, 1, 1, 1, 1], "8": [7, 5, 7, 5, 7], "9": [7, 5, 7, 1, 7],
  ".": [0, 0, 0, 0, 2], "-": [0, 0, 7, 0, 0], "e": [0, 7, 7, 4, 7], "+": [0, 2, 7, 2, 0], " ": [0, 0, 0, 0, 0],
  "t": [2, 7, 2, 2, 3], "=": [0, 7, 0, 7, 0], "x": [0, 5, 2, 5, 0],
};

export class Canvas {
  readonly rgba: Uint8Array;

  constructor(readonly width: number, readonly height: number, background: Color = [255, 255, 255]) {
    this.rgba = new Uint8Array(width * height * 4);
    for (let i = 0; i < width * height; i++) this.rgba.set([...background, 255], i * 4);
  }

  /** Blend `color` into pixel (x, y) with opacity `alpha`. */
  pixel(x: number, y: number, color: Color, alpha = 1): void {
    x = Math.round(x);
    y = Math.round(y);
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    const i = (y * this.width + x) * 4;
    for (let c = 0; c < 3; c++) this.rgba[i + c] = Math.round(this.rgba[i + c]! * (1 - alpha) + color[c]! * alpha);
  }

  disc(cx: number, cy: number, r: number, color: Color, alpha = 1): void {
    for (let dy = -Math.ceil(r); dy <= Math.ceil(r); dy++) {
      for (let dx = -Math.ceil(r); dx <= Math.ceil(r); dx++) if (dx * dx + dy * dy <= r * r) this.pixel(cx + dx, cy + dy, color, alpha);
    }
  }

  line(x0: number, y0: number, x1: number, y1: number, color: Color, alpha = 1): void {
    const n = Math.max(1, Math.ceil(Math.hypot(x1 - x0, y1 - y0)));
    for (let k = 0; k <= n; k++) this.pixel(x0 + ((x1 - x0) * k) / n, y0 + ((y1 - y0) * k) / n, color, alpha);
  }

  rect(x0: number, y0: number, x1: number, y1: number, color: Color): void {
    this.line(x0, y0, x1, y0, color);
    this.line(x1, y0, x1, y1, color);
    this.line(x1, y1, x0, y1, color);
    this.line(x0, y1, x0, y0, color);
  }

  /** Text in the 3×5 font (digits, . - + e t = x), `scale` pixels per font pixel. */
  text(s: string, x: number, y: number, color: Color = [60, 60, 60], scale = 2): void {
    [...s].forEach((ch, k) => {
      const rows = GLYPHS[ch] ?? GLYPHS[" "]!;
      rows.forEach((bits, r) => {
        for (let c = 0; c < 3; c++) {
          if (bits & (4 >> c)) for (let a = 0; a < scale; a++) for (let b = 0; b < scale; b++) this.pixel(x + (k * 4 + c) * scale + a, y + r * scale + b, color);
        }
      });
    });
  }

  /** Paste another canvas at (x, y). */
  blit(other: Canvas, x: number, y: number): void {
    for (let r = 0; r < other.height; r++) {
      for (let c = 0; c < other.width; c++) {
        const i = (r * other.width + c) * 4;
        this.pixel(x + c, y + r, [other.rgba[i]!, other.rgba[i + 1]!, other.rgba[i + 2]!]);
      }
    }
  }

  png(): Uint8Array {
    return encodePng(this.width, this.height, this.rgba);
  }
}

/** A short label for a number. */
export function formatNumber(v: number): string {
  if (v === 0) return "0";
  const a = Math.abs(v);
  return a >= 1e4 || a < 1e-3 ? v.toExponential(1).replace("e+", "e") : String(Number(v.toPrecision(3)));
}
