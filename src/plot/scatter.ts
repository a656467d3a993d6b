/**
 * Scatter charts as Vega-Lite specs: side-by-side panels of 2-D points (1-D points as histograms),
 * coloured by label with a legend, with optional paths; and grids of such panels.
 */
import type { TopLevelSpec } from "vega-lite";
import {
  type Bounds,
  boundsOf,
  type Layer,
  MAX_PANEL_POINTS,
  type Panel,
  type Position,
  planeAxes,
  pointRows,
  SCHEMA,
  short,
} from "./plane.js";

/** Opacity of scatter points: dense clouds fainter, so that density shows. */
const pointOpacity = (n: number) => Math.min(0.8, Math.max(0.15, 300 / Math.max(n, 1)));

/** One scatter panel: 2-D points (the first two coordinates of rows of `dim`), optionally coloured by label, with optional paths; 1-D points (`dim` 1) are drawn as a histogram. */
export interface ScatterPanel {
  title: string;
  /** a second line under the title, e.g. a measurement of the panel's points */
  subtitle?: string;
  points: ArrayLike<number>;
  dim: number;
  /** one integer label per point: points are coloured by it, with a legend */
  labels?: ArrayLike<number>;
  /** title of the labels' legend (default "class") */
  labelTitle?: string;
  /** paths drawn over the points, each flat rows of `dim` (one row per step), ending in a dot (2-D panels only) */
  paths?: ArrayLike<number>[];
}

/** A scatter chart's title, axes and panel size. */
export interface ScatterOptions {
  /** the chart's title (required) */
  title: string;
  /** common axis domain of all panels (default: the bounds of all their points; for 1-D data only x counts) */
  bounds?: Bounds;
  /** side of each panel's plot area in pixels (default 300; a grid's cells 160) */
  size?: number;
  /** the x axis's title (default "dimension 1"; "x" for 1-D data) */
  xTitle?: string;
  /** the y axis's title (default "dimension 2") */
  yTitle?: string;
}

/** The layers of a panel's paths: lines through the steps of each path and a dot at each path's end. */
function pathLayers(paths: ArrayLike<number>[], dim: number, axes: { x: Position; y: Position }): Layer[] {
  const rows = paths.flatMap((p, path) => pointRows(p, dim).map((r, step) => ({ ...r, path, step })));
  const ends = paths.flatMap((p) => pointRows(p, dim).slice(-1));
  return [
    {
      data: { values: rows },
      mark: { type: "line", clip: true, color: "#d62728", strokeWidth: 1.2, opacity: 0.9 },
      encoding: { ...axes, detail: { field: "path", type: "nominal" }, order: { field: "step", type: "quantitative" } },
    },
    { data: { values: ends }, mark: { type: "circle", clip: true, color: "#d62728", size: 30, opacity: 1 }, encoding: axes },
  ];
}

/** Whether a row lies within `bounds` (points outside are left out of the SVG: they would not show, and far-off clipped marks crash resvg). */
const inside = (b: Bounds) => (r: { x: number; y: number }) => r.x >= b.xmin && r.x <= b.xmax && r.y >= b.ymin && r.y <= b.ymax;

/** Legend entry of the points of panels without labels, when other panels of the chart have them. */
export const NO_LABEL = "no label";

/**
 * Colours of labels: Vega's tableau10 without its grey (repeating after 9 labels), so that the
 * neutral grey of `NO_LABEL` points is never a label's colour.
 */
const LABEL_COLORS = ["#4c78a8", "#f58518", "#e45756", "#72b7b2", "#54a24b", "#eeca3b", "#b279a2", "#ff9da6", "#9d755d"];
const NO_LABEL_COLOR = "#666666";

/** The colour channel shared by a chart's panels: one entry per label of any panel (in numeric order), and `NO_LABEL` in grey when some panels have no labels. */
type ColorChannel = {
  field: "label";
  type: "nominal";
  title: string;
  scale: { domain: string[]; range: string[] };
  legend: { symbolOpacity: number };
};

/** The shared colour channel of `panels`, or undefined when none has labels (then points take Vega's default colour). */
function labelColors(panels: ScatterPanel[]): ColorChannel | undefined {
  const labelled = panels.filter((p) => p.labels);
  if (labelled.length === 0) return undefined;
  const labels = [...new Set(labelled.flatMap((p) => Array.from(p.labels!, Number)))].sort((a, b) => a - b).map(String);
  const domain = labelled.length < panels.length ? [...labels, NO_LABEL] : labels;
  const range = domain.map((l, i) => (l === NO_LABEL ? NO_LABEL_COLOR : LABEL_COLORS[i % LABEL_COLORS.length]!));
  return {
    field: "label",
    type: "nominal",
    title: labelled[0]!.labelTitle ?? "class",
    scale: { domain, range },
    legend: { symbolOpacity: 1 },
  };
}

/** Where a panel sits, for its axis titles: a grid shows them only on its left column (y) and bottom row (x). */
interface AxisTitles {
  x: string | null;
  y: string | null;
}

/**
 * A panel's title, with its subtitle and the notes on what it leaves out (e.g. "3 outside the view")
 * as lines under it: a long title would push the panels apart (and in a grid, over the next cell).
 */
function panelTitle({ title, subtitle }: ScatterPanel, notes: string[]): Panel["title"] {
  const lines = [...(subtitle ? [subtitle] : []), ...(notes.length ? [notes.join(", ")] : [])];
  return lines.length ? { text: title, subtitle: lines } : title;
}

/** Bins of a 1-D panel's histogram over the bounds' x range. */
const HISTOGRAM_BINS = 40;

/**
 * A histogram panel of 1-D points over [bounds.xmin, bounds.xmax]: 40 equal bins, bar heights the
 * density count / (n · bin width) of the n points drawn (stacked by label where given), so that
 * panels with different n compare.
 */
function histogramPanel(panel: ScatterPanel, bounds: Bounds, size: number, axes: AxisTitles, color: ColorChannel | undefined): Panel {
  const n = Math.floor(panel.points.length / panel.dim);
  const width = (bounds.xmax - bounds.xmin) / HISTOGRAM_BINS;
  const labelOf = (i: number) => (panel.labels ? String(panel.labels[i]) : NO_LABEL);
  const counts = Array.from({ length: HISTOGRAM_BINS }, () => new Map<string, number>()); // per bin: label → count
  let outside = 0;
  for (let i = 0; i < n; i++) {
    const x = panel.points[i * panel.dim]!;
    if (!(x >= bounds.xmin && x <= bounds.xmax)) {
      outside++;
      continue;
    }
    const bin = counts[Math.min(HISTOGRAM_BINS - 1, Math.floor((x - bounds.xmin) / width))]!;
    bin.set(labelOf(i), (bin.get(labelOf(i)) ?? 0) + 1);
  }
  // each bin's labels stacked in the legend's order, from 0 up
  const order = color?.scale.domain ?? [NO_LABEL];
  const rows = counts.flatMap((bin, k) => {
    let below = 0;
    return order
      .filter((label) => bin.has(label))
      .map((label) => {
        const density = bin.get(label)! / (n * width);
        const row = {
          x: short(bounds.xmin + k * width),
          x2: short(bounds.xmin + (k + 1) * width),
          y: short(below + density),
          y2: short(below),
          ...(color ? { label } : {}),
        };
        below += density;
        return row;
      });
  });
  const bars: Layer = {
    data: { values: rows },
    mark: { type: "bar", clip: true, opacity: 0.85, ...(color ? {} : { color: "#4c78a8" }) },
    encoding: {
      x: {
        field: "x",
        type: "quantitative",
        title: axes.x,
        scale: { domain: [short(bounds.xmin), short(bounds.xmax)], nice: false, zero: false },
      },
      x2: { field: "x2" },
      y: { field: "y", type: "quantitative", title: axes.y === null ? null : "density", scale: { zero: true } },
      y2: { field: "y2" },
      ...(color ? { color } : {}),
    },
  };
  return {
    title: panelTitle(panel, outside ? [`${outside} outside the view`] : []),
    width: size,
    height: Math.round(size * 0.75),
    layer: [bars],
  };
}

/** A scatter panel spec: the points (coloured by label if the chart has labels) and the panel's paths; a histogram for 1-D points. */
function scatterPanel(panel: ScatterPanel, bounds: Bounds, size: number, axes: AxisTitles, color: ColorChannel | undefined): Panel {
  if (panel.dim === 1) return histogramPanel(panel, bounds, size, axes, color);
  const n = Math.floor(panel.points.length / panel.dim);
  const shown = Math.min(n, MAX_PANEL_POINTS);
  const rows = pointRows(panel.points, panel.dim, panel.labels, shown).map((r) => (color && !panel.labels ? { ...r, label: NO_LABEL } : r));
  const visible = rows.filter(inside(bounds));
  const position = planeAxes(bounds, axes.x, axes.y);
  const points: Layer = {
    data: { values: visible },
    mark: { type: "circle", clip: true, size: 10, opacity: pointOpacity(shown) },
    encoding: { ...position, ...(color ? { color } : {}) },
  };
  const notes = [
    ...(shown < n ? [`first ${shown} of ${n} points`] : []),
    ...(visible.length < rows.length ? [`${rows.length - visible.length} outside the view`] : []),
  ];
  return {
    title: panelTitle(panel, notes),
    width: size,
    height: size,
    layer: [points, ...(panel.paths?.length ? pathLayers(panel.paths, panel.dim, position) : [])],
  };
}

/** The x axis's title when none is given: "x" for 1-D points (a histogram's only coordinate), else "dimension 1". */
const defaultXTitle = (oneD: boolean) => (oneD ? "x" : "dimension 1");

/** The common bounds of panels' points: of both coordinates, or for 1-D points of x alone (y is then unused). */
const panelBounds = (panels: ScatterPanel[]) => boundsOf(panels.flatMap((p) => pointRows(p.points, p.dim).flatMap((r) => [r.x, r.y])));

/**
 * Scatter plots of 2-D points side by side on common axes, e.g. "held-out data | samples" or the
 * forward process x_0 … x_T: one panel per entry of `panels`, each a point per row; 1-D points are
 * drawn as histograms on a common x axis. Where some panels have labels, points of the others are
 * grey and the legend names them `NO_LABEL`.
 */
export function scatterChart(panels: ScatterPanel[], options: ScatterOptions): TopLevelSpec {
  const { title, bounds, size = 300, xTitle, yTitle = "dimension 2" } = options;
  const b = bounds ?? panelBounds(panels);
  const color = labelColors(panels);
  const oneD = panels.every((p) => p.dim === 1);
  return {
    $schema: SCHEMA,
    title,
    hconcat: panels.map((p) => scatterPanel(p, b, size, { x: xTitle ?? defaultXTitle(oneD), y: yTitle }, color)),
    ...(oneD ? { resolve: { scale: { y: "shared" } } } : {}),
  };
}

/** Pixels between the plot areas of a grid's columns: room for the next cell's axis labels. */
const GRID_SPACING = 48;

/** One cell of a scatter grid: 2-D points (rows of `dim`) in the grid's row `row` and column `column`. */
export interface ScatterCell {
  row: string;
  column: string;
  points: ArrayLike<number>;
  dim: number;
}

/** A scatter grid's titles: the chart's, its axes' and its rows' and columns' headers. */
export interface ScatterGridOptions extends ScatterOptions {
  /** the header of the grid's rows, e.g. "guidance scale" (required) */
  rowTitle: string;
  /** the header of the grid's columns, e.g. "class" (required) */
  columnTitle: string;
}

/**
 * Scatter plots in a grid of rows and columns (e.g. guidance scales × classes) on common axes: one
 * panel per (row, column) in the order of first appearance in `cells`, titled "columnTitle column",
 * under a row header "rowTitle row". Every cell keeps its place whatever it holds (a cell with no
 * points in view is an empty panel; a pair with no cell, a blank one). 1-D points: histograms.
 */
export function scatterGridChart(cells: ScatterCell[], options: ScatterGridOptions): TopLevelSpec {
  const { title, bounds, size = 160, xTitle, yTitle = "dimension 2", rowTitle, columnTitle } = options;
  const panelOf = (c: ScatterCell): ScatterPanel => ({ title: `${columnTitle} ${c.column}`, points: c.points, dim: c.dim });
  const b = bounds ?? panelBounds(cells.map(panelOf));
  const inOrder = (key: "row" | "column") => [...new Set(cells.map((c) => c[key]))];
  const [rows, columns] = [inOrder("row"), inOrder("column")];
  const oneD = cells.every((c) => c.dim === 1);
  return {
    $schema: SCHEMA,
    title,
    vconcat: rows.map((row, r) => ({
      title: { text: `${rowTitle} ${row}`, anchor: "start" as const },
      // flush: columns line up from row to row whatever the width of a cell's title
      bounds: "flush" as const,
      spacing: GRID_SPACING,
      hconcat: columns.map((column, c) => {
        const cell = cells.find((x) => x.row === row && x.column === column) ?? { row, column, points: [], dim: cells[0]!.dim };
        return scatterPanel(
          panelOf(cell),
          b,
          size,
          { x: r === rows.length - 1 ? (xTitle ?? defaultXTitle(oneD)) : null, y: c === 0 ? yTitle : null },
          undefined,
        );
      }),
      ...(oneD ? { resolve: { scale: { y: "shared" as const } } } : {}),
    })),
    ...(oneD ? { resolve: { scale: { y: "shared" } } } : {}),
  };
}
