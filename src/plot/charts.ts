/**
 * The charts the CLI writes, as Vega-Lite specs: plain JSON objects (no functions), so the same spec
 * renders here (render.ts: SVG and PNG) and in a browser page (vega-embed). Every chart has a title,
 * axis titles and, where it shows several series or labels, a legend.
 */
import type { TopLevelSpec } from "vega-lite";

const SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json";

/** One panel of a side-by-side chart (an element of `hconcat`). */
type Panel = Extract<TopLevelSpec, { hconcat: unknown }>["hconcat"][number];
/** One layer of a layered panel. */
type Layer = Extract<Panel, { layer: unknown }>["layer"][number];
/** A positional encoding (x or y) of a unit spec. */
type Position = NonNullable<NonNullable<Extract<Layer, { mark: unknown }>["encoding"]>["x"]>;

/** A rectangle of the plane: the domain of a chart's x and y axes. */
export interface Bounds {
  xmin: number;
  xmax: number;
  ymin: number;
  ymax: number;
}

/** Bounds of 2-D points (the first two coordinates of rows of `dim`) with a margin of `margin` of each side. */
export function boundsOf(points: ArrayLike<number>, margin = 0.05, dim = 2): Bounds {
  let [xmin, xmax, ymin, ymax] = [Infinity, -Infinity, Infinity, -Infinity];
  for (let i = 0; i + dim - 1 < points.length; i += dim) {
    const [x, y] = [points[i]!, dim > 1 ? points[i + 1]! : 0];
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    (xmin = Math.min(xmin, x)), (xmax = Math.max(xmax, x)), (ymin = Math.min(ymin, y)), (ymax = Math.max(ymax, y));
  }
  if (!Number.isFinite(xmin)) return { xmin: -1, xmax: 1, ymin: -1, ymax: 1 };
  const dx = Math.max(xmax - xmin, 1e-6) * margin, dy = Math.max(ymax - ymin, 1e-6) * margin;
  return { xmin: xmin - dx, xmax: xmax + dx, ymin: ymin - dy, ymax: ymax + dy };
}

/** `v` with 5 significant digits: enough for a chart, and keeps the spec's JSON small. */
const short = (v: number) => Number(v.toPrecision(5));

/** x and y encodings over fixed bounds (no rounding of the domain, no forced zero). */
function planeAxes(bounds: Bounds, xTitle: string, yTitle: string): { x: Position; y: Position } {
  return {
    x: { field: "x", type: "quantitative", title: xTitle, scale: { domain: [short(bounds.xmin), short(bounds.xmax)], nice: false, zero: false } },
    y: { field: "y", type: "quantitative", title: yTitle, scale: { domain: [short(bounds.ymin), short(bounds.ymax)], nice: false, zero: false } },
  };
}

/** Rows {x, y} of the first two coordinates of the first `limit` rows of `dim` (the second is 0 for 1-D data), with `label` where given. */
function pointRows(points: ArrayLike<number>, dim: number, labels?: ArrayLike<number>, limit = Infinity): { x: number; y: number; label?: string }[] {
  return Array.from({ length: Math.min(limit, Math.floor(points.length / dim)) }, (_, i) => ({
    x: short(points[i * dim]!),
    y: dim > 1 ? short(points[i * dim + 1]!) : 0,
    ...(labels ? { label: String(labels[i]) } : {}),
  }));
}

/** Most points a scatter panel draws (the first ones): more make large, slow SVGs and add nothing to be seen. */
const MAX_PANEL_POINTS = 5000;

/** Opacity of scatter points: dense clouds fainter, so that density shows. */
const pointOpacity = (n: number) => Math.min(0.8, Math.max(0.15, 300 / Math.max(n, 1)));

/** One scatter panel: 2-D points (the first two coordinates of rows of `dim`), optionally coloured by label, with optional paths. */
export interface ScatterPanel {
  title: string;
  points: ArrayLike<number>;
  dim: number;
  /** one integer label per point: points are coloured by it, with a legend */
  labels?: ArrayLike<number>;
  /** title of the labels' legend (default "class") */
  labelTitle?: string;
  /** paths drawn over the points, each flat rows of `dim` (one row per step), ending in a dot */
  paths?: ArrayLike<number>[];
}

export interface ScatterOptions {
  title: string;
  /** common axis domain of all panels (default: the bounds of all their points) */
  bounds?: Bounds;
  /** side of each panel's plot area in pixels */
  size?: number;
  xTitle?: string;
  yTitle?: string;
}

/** The layers of a panel's paths: lines through the steps of each path and a dot at each path's end. */
function pathLayers(paths: ArrayLike<number>[], dim: number, bounds: Bounds, xTitle: string, yTitle: string): Layer[] {
  const rows = paths.flatMap((p, path) => pointRows(p, dim).map((r, step) => ({ ...r, path, step })));
  const ends = paths.flatMap((p) => pointRows(p, dim).slice(-1));
  const axes = planeAxes(bounds, xTitle, yTitle);
  return [
    { data: { values: rows }, mark: { type: "line", clip: true, color: "#d62728", strokeWidth: 1.2, opacity: 0.9 }, encoding: { ...axes, detail: { field: "path", type: "nominal" }, order: { field: "step", type: "quantitative" } } },
    { data: { values: ends }, mark: { type: "circle", clip: true, color: "#d62728", size: 30, opacity: 1 }, encoding: axes },
  ];
}

/** Whether a row lies within `bounds` (points outside are left out of the SVG: they would not show, and far-off clipped marks crash resvg). */
const inside = (b: Bounds) => (r: { x: number; y: number }) => r.x >= b.xmin && r.x <= b.xmax && r.y >= b.ymin && r.y <= b.ymax;

/** A scatter panel spec: the points (coloured by label if given) and the panel's paths. */
function scatterPanel(panel: ScatterPanel, bounds: Bounds, size: number, xTitle: string, yTitle: string): Panel {
  const n = Math.floor(panel.points.length / panel.dim);
  const shown = Math.min(n, MAX_PANEL_POINTS);
  const color = panel.labels ? { color: { field: "label", type: "nominal" as const, title: panel.labelTitle ?? "class", legend: { symbolOpacity: 1 } } } : {};
  const rows = pointRows(panel.points, panel.dim, panel.labels, shown);
  const visible = rows.filter(inside(bounds));
  const points: Layer = {
    data: { values: visible },
    mark: { type: "circle", clip: true, size: 10, opacity: pointOpacity(shown) },
    encoding: { ...planeAxes(bounds, xTitle, yTitle), ...color },
  };
  const notes = [...(shown < n ? [`first ${shown} of ${n} points`] : []), ...(visible.length < rows.length ? [`${rows.length - visible.length} outside the view`] : [])];
  const title = notes.length ? `${panel.title} (${notes.join(", ")})` : panel.title;
  return { title, width: size, height: size, layer: [points, ...(panel.paths?.length ? pathLayers(panel.paths, panel.dim, bounds, xTitle, yTitle) : [])] };
}

/**
 * Scatter plots of 2-D points side by side on common axes, e.g. "held-out data | samples" or the
 * forward process x_0 … x_T: one panel per entry of `panels`, each a point per row.
 */
export function scatterChart(panels: ScatterPanel[], { title, bounds, size = 300, xTitle = "dimension 1", yTitle = "dimension 2" }: ScatterOptions): TopLevelSpec {
  const b = bounds ?? boundsOf(panels.flatMap((p) => pointRows(p.points, p.dim).flatMap((r) => [r.x, r.y])));
  return { $schema: SCHEMA, title, hconcat: panels.map((p) => scatterPanel(p, b, size, xTitle, yTitle)) };
}

/** One cell of a scatter grid: 2-D points (rows of `dim`) in the grid's row `row` and column `column`. */
export interface ScatterCell {
  row: string;
  column: string;
  points: ArrayLike<number>;
  dim: number;
}

export interface ScatterGridOptions extends ScatterOptions {
  /** headers of the grid's rows and columns, e.g. "guidance scale" and "class" */
  rowTitle: string;
  columnTitle: string;
}

/** Scatter plots in a grid of rows and columns (e.g. guidance scales × classes) on common axes; rows and columns in the order of `cells`. */
export function scatterGridChart(cells: ScatterCell[], { title, bounds, size = 160, xTitle = "dimension 1", yTitle = "dimension 2", rowTitle, columnTitle }: ScatterGridOptions): TopLevelSpec {
  const all = cells.flatMap((c) => pointRows(c.points, c.dim, undefined, MAX_PANEL_POINTS).map((r) => ({ ...r, row: c.row, column: c.column })));
  const b = bounds ?? boundsOf(all.flatMap((r) => [r.x, r.y]));
  const rows = all.filter(inside(b));
  const inOrder = (key: "row" | "column") => [...new Set(cells.map((c) => c[key]))];
  return {
    $schema: SCHEMA,
    title,
    data: { values: rows },
    facet: {
      row: { field: "row", type: "ordinal", title: rowTitle, sort: inOrder("row") },
      column: { field: "column", type: "ordinal", title: columnTitle, sort: inOrder("column") },
    },
    spec: {
      width: size,
      height: size,
      mark: { type: "circle", clip: true, size: 8, opacity: pointOpacity(rows.length / Math.max(cells.length, 1)) },
      encoding: planeAxes(b, xTitle, yTitle),
    },
  };
}

/** One named line of a line chart: y against x. */
export interface Series {
  name: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
}

export interface LineChartOptions {
  title: string;
  xTitle: string;
  yTitle: string;
  /** title of the series' legend (default "series") */
  legendTitle?: string;
  /** logarithmic axes (points with a non-positive coordinate on a log axis are left out) */
  xLog?: boolean;
  yLog?: boolean;
  /** a marker at every point (default true) */
  points?: boolean;
  /** colours of the series, in order (default: Vega's category colours) */
  colors?: string[];
  width?: number;
  height?: number;
}

/** The rows {series, x, y} of `series` that can be drawn: finite, and positive on a log axis. */
function seriesRows(series: Series[], xLog: boolean, yLog: boolean): { series: string; x: number; y: number }[] {
  const drawable = (v: number, log: boolean) => Number.isFinite(v) && (!log || v > 0);
  return series.flatMap((s) =>
    Array.from({ length: Math.min(s.x.length, s.y.length) }, (_, i) => ({ series: s.name, x: short(s.x[i]!), y: short(s.y[i]!) })).filter((r) => drawable(r.x, xLog) && drawable(r.y, yLog)),
  );
}

/**
 * A line chart of several named series, each y against x, with a legend naming them in order:
 * loss curves, ELBO-term variances, SNR(t) (`yLog`), quality against NFE (`xLog`, `yLog`).
 */
export function lineChart(series: Series[], { title, xTitle, yTitle, legendTitle = "series", xLog = false, yLog = false, points = true, colors, width = 520, height = 320 }: LineChartOptions): TopLevelSpec {
  const names = series.map((s) => s.name);
  return {
    $schema: SCHEMA,
    title,
    width,
    height,
    data: { values: seriesRows(series, xLog, yLog) },
    mark: { type: "line", point: points, strokeWidth: 2 },
    encoding: {
      x: { field: "x", type: "quantitative", title: xTitle, scale: xLog ? { type: "log" } : { zero: false } },
      y: { field: "y", type: "quantitative", title: yTitle, scale: yLog ? { type: "log" } : { zero: false } },
      color: { field: "series", type: "nominal", title: legendTitle, sort: names, scale: { domain: names, ...(colors ? { range: colors } : {}) }, legend: { labelLimit: 400 } },
    },
  };
}

/** Most points a loss curve draws; longer runs are averaged over equal blocks of steps. */
const LOSS_POINTS = 1000;

/**
 * The training loss against the step (consumes one loss per step): the loss (averaged over blocks
 * of steps when there are more than 1000) and its exponential moving average (decay 0.98), on a
 * log axis when every loss is positive. What loss.png shows.
 */
export function lossChart(losses: ArrayLike<number>): TopLevelSpec {
  const ys = Array.from(losses).filter(Number.isFinite);
  const block = Math.max(1, Math.ceil(ys.length / LOSS_POINTS));
  const steps: number[] = [], means: number[] = [], averages: number[] = [];
  let average = ys[0] ?? 0;
  for (let start = 0; start < ys.length; start += block) {
    const chunk = ys.slice(start, start + block);
    for (const v of chunk) average = 0.98 * average + 0.02 * v;
    steps.push(start + chunk.length);
    means.push(chunk.reduce((s, v) => s + v, 0) / chunk.length);
    averages.push(average);
  }
  return lineChart(
    [
      { name: block > 1 ? `loss (mean of ${block} steps)` : "loss", x: steps, y: means },
      { name: "moving average (0.98)", x: steps, y: averages },
    ],
    { title: `training loss over ${ys.length} steps`, xTitle: "training step", yTitle: "loss", yLog: ys.length > 0 && ys.every((v) => v > 0), points: false, colors: ["#aec7e8", "#1f77b4"] },
  );
}

/** An arrow from (x, y) to (x + dx, y + dy), in data coordinates. */
export interface Arrow {
  x: number;
  y: number;
  dx: number;
  dy: number;
}

/** One panel of a score field: its title (e.g. the noise level) and its arrows. */
export interface ScoreFieldPanel {
  title: string;
  arrows: Arrow[];
}

export interface ScoreFieldOptions {
  title: string;
  /** the axes' domain, shared by all panels */
  bounds: Bounds;
  /** width of each panel's plot area in pixels; its height keeps one data unit as long on both axes (within ¼ to 4 times the width) */
  size?: number;
  xTitle?: string;
  yTitle?: string;
  /** what the points are, as the legend names them (default "held-out data") */
  pointsLabel?: string;
}

/** Pixel width and height of a plot area `size` wide that draws `bounds` with equal units on both axes (aspect clamped to ¼ … 4). */
function equalAspect(bounds: Bounds, size: number): { width: number; height: number } {
  const aspect = Math.min(4, Math.max(0.25, (bounds.ymax - bounds.ymin) / (bounds.xmax - bounds.xmin)));
  return { width: size, height: Math.round(size * aspect) };
}

/** An arrow head as a Vega symbol path pointing up with its tip at the symbol's position (the arrow's end). */
const ARROW_HEAD = "M0,0L-0.4,1L0.4,1Z";

/** Colours of the score field's two kinds of marks, named in its legend. */
const FIELD_COLORS = { data: "#9e9e9e", score: "#d62728" };

/** The layers of one score-field panel: the data points, each arrow's shaft (a rule) and its head (a triangle turned along it). */
function scoreFieldLayers(panel: ScoreFieldPanel, points: ArrayLike<number>, pointsLabel: string, bounds: Bounds, { width, height }: { width: number; height: number }, xTitle: string, yTitle: string): Layer[] {
  const axes = planeAxes(bounds, xTitle, yTitle);
  const color = { field: "kind", type: "nominal" as const, title: null, scale: { domain: [pointsLabel, "score"], range: [FIELD_COLORS.data, FIELD_COLORS.score] } };
  // pixels per data unit, to turn each head along its shaft as drawn (vega angles: degrees clockwise from up)
  const [sx, sy] = [width / (bounds.xmax - bounds.xmin), height / (bounds.ymax - bounds.ymin)];
  const arrows = panel.arrows.map((a) => ({ kind: "score", x: short(a.x), y: short(a.y), x2: short(a.x + a.dx), y2: short(a.y + a.dy), angle: short((Math.atan2(a.dx * sx, a.dy * sy) * 180) / Math.PI), pixels: short(Math.hypot(a.dx * sx, a.dy * sy)) }));
  const headed = arrows.filter((a) => a.pixels >= 3); // a head on a shorter arrow would point nowhere in particular
  return [
    { data: { values: pointRows(points, 2, undefined, MAX_PANEL_POINTS).map((r) => ({ ...r, kind: pointsLabel })) }, mark: { type: "circle", clip: true, size: 8, opacity: 0.5 }, encoding: { ...axes, color } },
    { data: { values: arrows }, mark: { type: "rule", clip: true, strokeWidth: 1.2 }, encoding: { ...axes, x2: { field: "x2" }, y2: { field: "y2" }, color } },
    {
      data: { values: headed },
      mark: { type: "point", shape: ARROW_HEAD, filled: true, clip: true, size: 60, opacity: 1 },
      encoding: { x: { ...axes.x, field: "x2" }, y: { ...axes.y, field: "y2" }, angle: { field: "angle", type: "quantitative", scale: null }, color },
    },
  ];
}

/**
 * The score as arrows over a grid, one panel per noise level, over 2-D data points (rows of 2):
 * each panel's arrows start at the grid points; the legend names the data and the score.
 */
export function scoreFieldChart(panels: ScoreFieldPanel[], points: ArrayLike<number>, { title, bounds, size = 300, xTitle = "dimension 1", yTitle = "dimension 2", pointsLabel = "held-out data" }: ScoreFieldOptions): TopLevelSpec {
  const area = equalAspect(bounds, size);
  return { $schema: SCHEMA, title, hconcat: panels.map((p) => ({ title: p.title, ...area, layer: scoreFieldLayers(p, points, pointsLabel, bounds, area, xTitle, yTitle) })) };
}
