/**
 * Figures of images with words: image grids (canvas.ts) embedded as PNGs in an SVG with a title,
 * panel titles and row and column labels (e.g. class names), rasterised by resvg with the system's
 * fonts (render.ts). The grids are drawn at their final size (each image pixel a zoom × zoom
 * square) and placed on whole pixels, so the PNG shows them unresampled.
 */
import { GUTTER, imageGrid } from "./canvas.js";
import { svgToPng } from "./render.js";

/** One grid of a figure: n images ([n, H, W, C], 0..255), `cols` per row, with optional words around it. */
export interface ImagePanel {
  /** a line above the grid, e.g. "held-out test images" */
  title?: string;
  pixels: ArrayLike<number>;
  shape: number[];
  n: number;
  cols: number;
  /** labels over the grid's columns, each over `columnSpan` columns (e.g. a class over its 8 samples) */
  columnLabels?: string[];
  columnSpan?: number;
  /** labels left of the grid's rows, each beside `rowSpan` rows (e.g. a class, or a guidance scale) */
  rowLabels?: string[];
  rowSpan?: number;
}

export interface ImageFigure {
  title: string;
  /** grids side by side, top-aligned */
  panels: ImagePanel[];
  /** each image pixel is drawn as a zoom × zoom square */
  zoom: number;
}

const FONT = 12;
const TITLE_FONT = 14;
/** Pixels around the figure and between panels. */
const MARGIN = 10;
const PANEL_GAP = 20;

/** Width of `text` in pixels at `size`, estimated (DejaVu Sans averages about 0.6 em a character). */
const textWidth = (text: string, size: number) => Math.ceil(text.length * size * 0.6);

/** `text` escaped for SVG character data. */
const escapeXml = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** A <text> element at (x, y) (the baseline), anchored "start", "middle" or "end". */
const textAt = (text: string, x: number, y: number, { size = FONT, anchor = "middle", bold = false } = {}) =>
  `<text x="${x}" y="${y}" font-family="sans-serif" font-size="${size}"${bold ? ' font-weight="bold"' : ""} text-anchor="${anchor}" fill="#000">${escapeXml(text)}</text>`;

/** A panel laid out: its size, and its SVG elements drawn with the top left corner at (x, y). */
interface PanelLayout {
  width: number;
  /** height of the words above the grid (title and column labels) */
  head: number;
  height: number;
  draw: (x: number, y: number, headHeight: number) => string;
}

/**
 * The layout of one panel: row labels right-aligned left of the grid, column labels centred over
 * their columns (on two staggered lines when neighbours would overlap), the title above them.
 */
function layoutPanel(p: ImagePanel, zoom: number): PanelLayout {
  const grid = imageGrid(p.pixels, p.shape, p.n, { cols: p.cols, scale: zoom });
  const [H, W] = p.shape as [number, number];
  const [pitchX, pitchY] = [W * zoom + GUTTER, H * zoom + GUTTER];
  const [span, rowSpan] = [p.columnSpan ?? 1, p.rowSpan ?? 1];
  const rowLabelWidth = p.rowLabels?.length ? Math.max(...p.rowLabels.map((l) => textWidth(l, FONT))) + 8 : 0;
  const columnLabels = p.columnLabels ?? [];
  const staggered = columnLabels.some((l) => textWidth(l, FONT) + 4 > span * pitchX);
  const labelLines = columnLabels.length ? (staggered ? 2 : 1) : 0;
  const head = (p.title ? FONT + 8 : 0) + labelLines * (FONT + 4);
  const png = Buffer.from(grid.png()).toString("base64");
  const width = Math.max(rowLabelWidth + grid.width, p.title ? textWidth(p.title, FONT) : 0);
  return {
    width,
    head,
    height: head + grid.height,
    draw: (x, y, headHeight) => {
      const [gx, gy] = [x + rowLabelWidth, y + headHeight];
      const parts = [`<image x="${gx}" y="${gy}" width="${grid.width}" height="${grid.height}" href="data:image/png;base64,${png}"/>`];
      if (p.title) parts.push(textAt(p.title, gx + grid.width / 2, gy - labelLines * (FONT + 4) - 8, { anchor: "middle" }));
      columnLabels.forEach((label, g) => {
        const line = staggered ? labelLines - 1 - (g % 2) : 0; // 0: the line next to the grid
        parts.push(textAt(label, gx + GUTTER / 2 + (g + 0.5) * span * pitchX, gy - 5 - line * (FONT + 4)));
      });
      p.rowLabels?.forEach((label, r) =>
        parts.push(textAt(label, gx - 6, gy + GUTTER / 2 + (r + 0.5) * rowSpan * pitchY + FONT / 3, { anchor: "end" })),
      );
      return parts.join("");
    },
  };
}

/** The figure as an SVG document: the title at the top left, then the panels side by side with their words. */
export function imageFigureSvg({ title, panels, zoom }: ImageFigure): string {
  const layouts = panels.map((p) => layoutPanel(p, zoom));
  const head = Math.max(...layouts.map((l) => l.head));
  const top = MARGIN + TITLE_FONT + 10;
  const contentWidth = layouts.reduce((s, l) => s + l.width, 0) + PANEL_GAP * (layouts.length - 1);
  const width = 2 * MARGIN + Math.max(contentWidth, textWidth(title, TITLE_FONT));
  const height = top + head + Math.max(...layouts.map((l) => l.height - l.head)) + MARGIN;
  let x = MARGIN;
  const body = layouts.map((l) => {
    const drawn = l.draw(x, top, head);
    x += l.width + PANEL_GAP;
    return drawn;
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    textAt(title, MARGIN, MARGIN + TITLE_FONT, { size: TITLE_FONT, anchor: "start", bold: true }),
    ...body,
    "</svg>",
  ].join("");
}

/** The figure as a PNG file, one pixel per SVG unit (the grids unresampled). */
export function imageFigurePng(figure: ImageFigure): Uint8Array {
  return svgToPng(imageFigureSvg(figure), 1);
}
