/**
 * Charts as Vega-Lite specs (plain JSON, drawn by vega in a browser or rendered to SVG and PNG on
 * Node): line charts and loss curves, scatter panels and grids, score fields, and the bounds of a
 * set of points. The `plot` namespace of "vdm/browser"; "vdm"'s adds the rendering (./index.ts).
 */
export { type LineChartOptions, lineChart, lossChart, type Series } from "./lines.js";
export { type Bounds, boundsOf, extentOf } from "./plane.js";
export {
  type ScatterCell,
  type ScatterGridOptions,
  type ScatterOptions,
  type ScatterPanel,
  scatterChart,
  scatterGridChart,
} from "./scatter.js";
export { type Arrow, type ScoreFieldOptions, type ScoreFieldPanel, scoreFieldChart } from "./score-field.js";
