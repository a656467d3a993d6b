/** The score field as a Vega-Lite spec: arrows over a grid, one panel per noise level, over the data points. */
import type { TopLevelSpec } from "vega-lite";
import { type Bounds, type Layer, MAX_PANEL_POINTS, planeAxes, pointRows, SCHEMA, short } from "./plane.js";

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

/** A score-field chart's title, domain, panel size and axis titles. */
export interface ScoreFieldOptions {
  /** the chart's title (required) */
  title: string;
  /** the axes' domain, shared by all panels (required) */
  bounds: Bounds;
  /** width of each panel's plot area in pixels; its height keeps one data unit as long on both axes, within ¼ to 4 times the width (default 300) */
  size?: number;
  /** the x axis's title (default "dimension 1") */
  xTitle?: string;
  /** the y axis's title (default "dimension 2") */
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
export function scoreFieldChart(panels: ScoreFieldPanel[], points: ArrayLike<number>, options: ScoreFieldOptions): TopLevelSpec {
  const { title, bounds, size = 300, xTitle = "dimension 1", yTitle = "dimension 2", pointsLabel = "held-out data" } = options;
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
