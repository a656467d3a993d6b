/**
 * Chart specs (Vega-Lite: scatter.ts, lines.ts, score-field.ts) to files: compiled with vega-lite, run by a headless Vega
 * view and drawn by Vega's SVG string renderer, all synchronously (so a training callback can write
 * a chart between steps); PNGs are that SVG rasterised by resvg with the system's fonts.
 */
import { createRequire } from "node:module";
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";

/** Vega's headless SVG renderer (exported by vega at run time, not declared in its typings). */
interface SvgStringRenderer {
  initialize(el: null, width: number, height: number, origin: [number, number]): SvgStringRenderer;
  background(color: string): SvgStringRenderer;
  render(scene: unknown): SvgStringRenderer;
  svg(): string;
}
const { SVGStringRenderer } = vega as unknown as { SVGStringRenderer: new (loader: unknown) => SvgStringRenderer };

/** What `View.toSVG` reads of a run view, typed as vega returns it (its typings leave out or widen these). */
interface RunView {
  _viewWidth: number;
  _viewHeight: number;
  padding(): { left: number; right: number; top: number; bottom: number };
  scenegraph(): { root: unknown };
}

/** Font family that stands for vega's "sans-serif" in PNGs (Debian's fonts-dejavu-core). */
const SANS_SERIF = "DejaVu Sans";

/**
 * The chart as an SVG document. `view.run()` evaluates the dataflow and autosizes the view before it
 * returns when all data is inline (as in every chart spec of this folder), so the scenegraph can be drawn
 * at once; this is what the asynchronous `View.toSVG()` does after awaiting the same run.
 */
export function chartSvg(spec: TopLevelSpec): string {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" });
  try {
    view.run();
    const run = view as unknown as RunView;
    const [pad, origin] = [run.padding(), view.origin()];
    const renderer = new SVGStringRenderer(view.loader())
      .initialize(null, run._viewWidth + pad.left + pad.right, run._viewHeight + pad.top + pad.bottom, [
        pad.left + origin[0]!,
        pad.top + origin[1]!,
      ])
      .background(view.background());
    return renderer.render(run.scenegraph().root).svg();
  } finally {
    view.finalize();
  }
}

type ResvgModule = typeof import("@resvg/resvg-js");
let resvgModule: ResvgModule | undefined;

/**
 * resvg, loaded on the first PNG: its native part is a platform-specific optional package, so an
 * install without it (`npm install --omit=optional`) still imports the library and writes SVGs.
 */
function loadResvg(): ResvgModule {
  resvgModule ??= createRequire(import.meta.url)("@resvg/resvg-js") as ResvgModule;
  return resvgModule;
}

/** An SVG document rasterised to a PNG file at `scale` pixels per SVG unit, text in the system's fonts. */
export function svgToPng(svg: string, scale = 2): Uint8Array {
  const resvg = new (loadResvg().Resvg)(svg, {
    fitTo: { mode: "zoom", value: scale },
    background: "white",
    font: { loadSystemFonts: true, defaultFontFamily: SANS_SERIF, sansSerifFamily: SANS_SERIF },
  });
  return resvg.render().asPng();
}

/** The chart as a PNG file (`scale` pixels per SVG unit). */
export function chartPng(spec: TopLevelSpec, scale = 2): Uint8Array {
  return svgToPng(chartSvg(spec), scale);
}
