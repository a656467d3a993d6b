/** Line charts as Vega-Lite specs: named series of y against x, and the training loss curve. */
import type { TopLevelSpec } from "vega-lite";
import { SCHEMA, short } from "./plane.js";

/** One named line of a line chart: y against x. */
export interface Series {
  /** the series' name in the legend */
  name: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
}

/** A line chart's titles, scales and size. */
export interface LineChartOptions {
  /** the chart's title (required) */
  title: string;
  /** the x axis's title (required) */
  xTitle: string;
  /** the y axis's title (required) */
  yTitle: string;
  /** title of the series' legend (default "series") */
  legendTitle?: string;
  /** a logarithmic x axis (points with x ≤ 0 are left out; default false) */
  xLog?: boolean;
  /** a logarithmic y axis (points with y ≤ 0 are left out; default false) */
  yLog?: boolean;
  /** a marker at every point (default true) */
  points?: boolean;
  /** colours of the series, in order (default: Vega's category colours) */
  colors?: string[];
  /** the plot area's width in pixels (default 520) */
  width?: number;
  /** the plot area's height in pixels (default 320) */
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
export function lineChart(series: Series[], options: LineChartOptions): TopLevelSpec {
  const {
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
  } = options;
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
