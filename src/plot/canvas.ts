/** A small RGBA raster for pictures of images: grids of images as PNG files (figure.ts adds the words). */

import { ShapeError } from "../errors.js";
import { encodePng } from "../io/png.js";

export type Color = [number, number, number];

/** An RGBA raster, filled with `background`. */
export class Canvas {
  readonly rgba: Uint8Array;

  constructor(
    readonly width: number,
    readonly height: number,
    background: Color = [255, 255, 255],
  ) {
    this.rgba = new Uint8Array(width * height * 4);
    for (let i = 0; i < width * height; i++) this.rgba.set([...background, 255], i * 4);
  }

  /** Set pixel (x, y) to `color`; pixels outside the raster are ignored. */
  pixel(x: number, y: number, color: Color): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    this.rgba.set(color, (y * this.width + x) * 4);
  }

  /** The raster as a PNG file. */
  png(): Uint8Array {
    return encodePng(this.width, this.height, this.rgba);
  }
}

/** Pixels of white between and around the images of a grid. */
export const GUTTER = 2;

/**
 * A grid of images ([n, H, W, C] row-major, 8-bit values 0..255, C = 1 or 3), `cols` per row,
 * each pixel drawn as a `scale`×`scale` square, with a white gutter of GUTTER pixels.
 */
export function imageGrid(
  pixels: ArrayLike<number>,
  shape: number[],
  n: number,
  { cols = Math.ceil(Math.sqrt(n)), scale = 2 } = {},
): Canvas {
  const [H, W, C] = shape as [number, number, number];
  if (C !== 1 && C !== 3) throw new ShapeError(`imageGrid draws 1- or 3-channel images, got ${C} channels`);
  const gutter = GUTTER;
  const rows = Math.ceil(n / cols);
  const c = new Canvas(cols * (W * scale + gutter) + gutter, rows * (H * scale + gutter) + gutter);
  const byte = (v: number) => Math.max(0, Math.min(255, Math.round(v)));
  for (let k = 0; k < n; k++) {
    const [x0, y0] = [gutter + (k % cols) * (W * scale + gutter), gutter + Math.floor(k / cols) * (H * scale + gutter)];
    for (let i = 0; i < H; i++)
      for (let j = 0; j < W; j++) {
        const at = ((k * H + i) * W + j) * C;
        const color: Color =
          C === 1
            ? [byte(pixels[at]!), byte(pixels[at]!), byte(pixels[at]!)]
            : [byte(pixels[at]!), byte(pixels[at + 1]!), byte(pixels[at + 2]!)];
        for (let dy = 0; dy < scale; dy++) for (let dx = 0; dx < scale; dx++) c.pixel(x0 + j * scale + dx, y0 + i * scale + dy, color);
      }
  }
  return c;
}
