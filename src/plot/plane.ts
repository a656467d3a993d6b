/**
 * What the charts (Vega-Lite specs: plain JSON objects, no functions, so that the same spec renders here,
 * render.ts: SVG and PNG, and in a browser page, vega-embed) share: the spec's schema and parts, the
 * plane's bounds and axes, and points as data rows.
 */
import type { TopLevelSpec } from "vega-lite";

export const SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json";

/** One panel of a side-by-side chart (an element of `hconcat`). */
export type Panel = Extract<TopLevelSpec, { hconcat: unknown }>["hconcat"][number];
/** One layer of a layered panel. */
export type Layer = Extract<Panel, { layer: unknown }>["layer"][number];
/** A positional encoding (x or y) of a unit spec. */
export type Position = NonNullable<NonNullable<Extract<Layer, { mark: unknown }>["encoding"]>["x"]>;

/** A rectangle of the plane: the domain of a chart's x and y axes. */
export interface Bounds {
  xmin: number;
  xmax: number;
  ymin: number;
  ymax: number;
}

/**
 * The smallest rectangle holding the 2-D points (the first two coordinates of rows of `dim`; y = 0 when
 * `dim` is 1) whose coordinates are finite: [min x, max x] × [min y, max y]; null when there is none.
 */
export function extentOf(points: ArrayLike<number>, dim = 2): Bounds | null {
  let [xmin, xmax, ymin, ymax] = [Infinity, -Infinity, Infinity, -Infinity];
  for (let i = 0; i + dim - 1 < points.length; i += dim) {
    const [x, y] = [points[i]!, dim > 1 ? points[i + 1]! : 0];
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    xmin = Math.min(xmin, x);
    xmax = Math.max(xmax, x);
    ymin = Math.min(ymin, y);
    ymax = Math.max(ymax, y);
  }
  return Number.isFinite(xmin) ? { xmin, xmax, ymin, ymax } : null;
}

/** Bounds of 2-D points (`extentOf`) with a margin of `margin` of each side; [−1, 1]² when no point is finite. */
export function boundsOf(points: ArrayLike<number>, margin = 0.05, dim = 2): Bounds {
  const extent = extentOf(points, dim);
  if (!extent) return { xmin: -1, xmax: 1, ymin: -1, ymax: 1 };
  const { xmin, xmax, ymin, ymax } = extent;
  const dx = Math.max(xmax - xmin, 1e-6) * margin,
    dy = Math.max(ymax - ymin, 1e-6) * margin;
  return { xmin: xmin - dx, xmax: xmax + dx, ymin: ymin - dy, ymax: ymax + dy };
}

/** `v` with 5 significant digits: enough for a chart, and keeps the spec's JSON small. */
export const short = (v: number) => Number(v.toPrecision(5));

/** x and y encodings over fixed bounds (no rounding of the domain, no forced zero). */
export function planeAxes(bounds: Bounds, xTitle: string | null, yTitle: string | null): { x: Position; y: Position } {
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
export function pointRows(
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
export const MAX_PANEL_POINTS = 5000;
