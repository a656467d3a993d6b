/**
 * Charts as Vega-Lite specs and their rendering to SVG (vega) and PNG (resvg). The `plot` namespace
 * of "vdm".
 */
export * from "./browser.js";
export { chartPng, chartSvg, svgToPng } from "./render.js";
