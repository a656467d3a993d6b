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
    xmin = Math.min(xmin, x);
    xmax = Math.max(xmax, x);
    ymin = Math.min(ymin, y);
    ymax = Math.max(ymax, y);
  }
  if (!Number.isFinite(xmin)) return { xmin: -1, xmax: 1, ymin: -1, ymax: 1 };
  const dx = Math.max(xmax - xmin, 1e-6) * margin,
    dy = Math.max(ymax - ymin, 1e-6) * margin;
  return { xmin: xmin - dx, xmax: xmax + dx, ymin: ymin - dy, ymax: ymax + dy };
}

/** `v` with 5 significant digits: enough for a chart, and keeps the spec's JSON small. */
const short = (v: number) => Number(v.toPrecision(5));

/** x and y encodings over fixed bounds (no rounding of the domain, no forced zero). */
function planeAxes(bounds: Bounds, xTitle: string | null, yTitle: string | null): { x: Position; y: Position } {
  return {
    x: {
      field: "x",
      type: "quantitative",
      title: xTitle,
      scale: { domain: [short(bounds.xmin), short(bounds.xmax)], nice: false, zero: false },
    },
    y: {
      field: "y",
      type: "quantitative",
      title: yTitle,
      scale: { domain: [short(bounds.ymin), short(bounds.ymax)], nice: false, zero: false },
    },
  };
}

/** Rows {x, y} of the first two coordinates of the first `limit` rows of `dim` (the second is 0 for 1-D data), with `label` where given. */
function pointRows(
  points: ArrayLike<number>,
  dim: number,
  labels?: ArrayLike<number>,
  limit = Infinity,
): { x: number; y: number; label?: string }[] {
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

export interface ScatterOptions {
  title: string;
  /** common axis domain of all panels (default: the bounds of all their points; for 1-D data only x counts) */
  bounds?: Bounds;
  /** side of each panel's plot area in pixels */
  size?: number;
  xTitle?: string;
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
export function scatterChart(
  panels: ScatterPanel[],
  { title, bounds, size = 300, xTitle, yTitle = "dimension 2" }: ScatterOptions,
): TopLevelSpec {
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

export interface ScatterGridOptions extends ScatterOptions {
  /** headers of the grid's rows and columns, e.g. "guidance scale" and "class" */
  rowTitle: string;
  columnTitle: string;
}

/**
 * Scatter plots in a grid of rows and columns (e.g. guidance scales × classes) on common axes: one
 * panel per (row, column) in the order of first appearance in `cells`, titled "columnTitle column",
 * under a row header "rowTitle row". Every cell keeps its place whatever it holds (a cell with no
 * points in view is an empty panel; a pair with no cell, a blank one). 1-D points: histograms.
 */
export function scatterGridChart(
  cells: ScatterCell[],
  { title, bounds, size = 160, xTitle, yTitle = "dimension 2", rowTitle, columnTitle }: ScatterGridOptions,
): TopLevelSpec {
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
    Array.from({ length: Math.min(s.x.length, s.y.length) }, (_, i) => ({ series: s.name, x: short(s.x[i]!), y: short(s.y[i]!) })).filter(
      (r) => drawable(r.x, xLog) && drawable(r.y, yLog),
    ),
  );
}

/**
 * A line chart of several named series, each y against x, with a legend naming them in order:
 * loss curves, ELBO-term variances, SNR(t) (`yLog`), quality against NFE (`xLog`, `yLog`).
 */
export function lineChart(
  series: Series[],
  {
    title,
    xTitle,
    yTitle,
    legendTitle = "series",
    xLog = false,
    yLog = false,
    points = true,
    colors,
    width = 520,
    height = 320,
  }: LineChartOptions,
): TopLevelSpec {
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
      color: {
        field: "series",
        type: "nominal",
        title: legendTitle,
        sort: names,
        scale: { domain: names, ...(colors ? { range: colors } : {}) },
        legend: { labelLimit: 400 },
      },
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
  const steps: number[] = [],
    means: number[] = [],
    averages: number[] = [];
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
    {
      title: `training loss over ${ys.length} steps`,
      xTitle: "training step",
      yTitle: "loss",
      yLog: ys.length > 0 && ys.every((v) => v > 0),
      points: false,
      colors: ["#aec7e8", "#1f77b4"],
    },
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
function scoreFieldLayers(
  panel: ScoreFieldPanel,
  points: ArrayLike<number>,
  pointsLabel: string,
  bounds: Bounds,
  { width, height }: { width: number; height: number },
  xTitle: string,
  yTitle: string,
): Layer[] {
  const axes = planeAxes(bounds, xTitle, yTitle);
  const color = {
    field: "kind",
    type: "nominal" as const,
    title: null,
    scale: { domain: [pointsLabel, "score"], range: [FIELD_COLORS.data, FIELD_COLORS.score] },
  };
  // pixels per data unit, to turn each head along its shaft as drawn (vega angles: degrees clockwise from up)
  const [sx, sy] = [width / (bounds.xmax - bounds.xmin), height / (bounds.ymax - bounds.ymin)];
  const arrows = panel.arrows.map((a) => ({
    kind: "score",
    x: short(a.x),
    y: short(a.y),
    x2: short(a.x + a.dx),
    y2: short(a.y + a.dy),
    angle: short((Math.atan2(a.dx * sx, a.dy * sy) * 180) / Math.PI),
    pixels: short(Math.hypot(a.dx * sx, a.dy * sy)),
  }));
  const headed = arrows.filter((a) => a.pixels >= 3); // a head on a shorter arrow would point nowhere in particular
  return [
    {
      data: { values: pointRows(points, 2, undefined, MAX_PANEL_POINTS).map((r) => ({ ...r, kind: pointsLabel })) },
      mark: { type: "circle", clip: true, size: 8, opacity: 0.5 },
      encoding: { ...axes, color },
    },
    {
      data: { values: arrows },
      mark: { type: "rule", clip: true, strokeWidth: 1.2 },
      encoding: { ...axes, x2: { field: "x2" }, y2: { field: "y2" }, color },
    },
    {
      data: { values: headed },
      mark: { type: "point", shape: ARROW_HEAD, filled: true, clip: true, size: 60, opacity: 1 },
      encoding: {
        x: { ...axes.x, field: "x2" },
        y: { ...axes.y, field: "y2" },
        angle: { field: "angle", type: "quantitative", scale: null },
        color,
      },
    },
  ];
}

/**
 * The score as arrows over a grid, one panel per noise level, over 2-D data points (rows of 2):
 * each panel's arrows start at the grid points; the legend names the data and the score.
 */
export function scoreFieldChart(
  panels: ScoreFieldPanel[],
  points: ArrayLike<number>,
  { title, bounds, size = 300, xTitle = "dimension 1", yTitle = "dimension 2", pointsLabel = "held-out data" }: ScoreFieldOptions,
): TopLevelSpec {
  const area = equalAspect(bounds, size);
  return {
    $schema: SCHEMA,
    title,
    hconcat: panels.map((p) => ({
      title: p.title,
      ...area,
      layer: scoreFieldLayers(p, points, pointsLabel, bounds, area, xTitle, yTitle),
    })),
  };
}
