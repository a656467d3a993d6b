/** Chart specs rendered to SVG and PNG: axis titles, one mark per point, legends, PNG size and content. */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { inflateSync } from "node:zlib";
import * as vega from "vega";
import { compile } from "vega-lite";
import { lineChart, lossChart } from "./lines.js";
import { boundsOf } from "./plane.js";
import { chartPng, chartSvg } from "./render.js";
import { scatterChart } from "./scatter.js";
import { scoreFieldChart } from "./score-field.js";

/** `n` 2-D points on a spiral (deterministic, spread over [−1, 1]²). */
const spiral = (n: number) => Float32Array.from({ length: 2 * n }, (_, k) => ((k >> 1) / n) * (k % 2 ? Math.sin(k) : Math.cos(k)));

/** How often `needle` occurs in `text`. */
const count = (text: string, needle: string) => text.split(needle).length - 1;

/** The text from the first `<g class="mark-group role-legend"` on: the legends of a chart. */
const legendPart = (svg: string) => svg.slice(Math.max(0, svg.indexOf('class="mark-group role-legend"')));

/** Width and height from a PNG's IHDR chunk (the first chunk, right after the 8-byte signature). */
function pngSize(png: Uint8Array): { width: number; height: number } {
  const b = Buffer.from(png);
  assert.equal(b.subarray(12, 16).toString("ascii"), "IHDR");
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
}

/** Decode an 8-bit RGBA, non-interlaced PNG to its pixels (all five scanline filters). */
function pngPixels(png: Uint8Array): { width: number; height: number; rgba: Uint8Array } {
  const b = Buffer.from(png);
  const { width, height } = pngSize(png);
  assert.deepEqual([b[24], b[25], b[28]], [8, 6, 0], "8-bit RGBA, not interlaced");
  const idat: Buffer[] = [];
  for (let pos = 8; pos < b.length; ) {
    const len = b.readUInt32BE(pos);
    if (b.subarray(pos + 4, pos + 8).toString("ascii") === "IDAT") idat.push(b.subarray(pos + 8, pos + 8 + len));
    pos += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * 4;
  const rgba = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    for (let i = 0; i < stride; i++) {
      const a = i >= 4 ? rgba[y * stride + i - 4]! : 0;
      const up = y > 0 ? rgba[(y - 1) * stride + i]! : 0;
      const c = y > 0 && i >= 4 ? rgba[(y - 1) * stride + i - 4]! : 0;
      const p = a + up - c;
      const [pa, pb, pc] = [Math.abs(p - a), Math.abs(p - up), Math.abs(p - c)];
      const predictor = [0, a, up, (a + up) >> 1, pa <= pb && pa <= pc ? a : pb <= pc ? up : c][filter]!;
      rgba[y * stride + i] = (raw[y * (stride + 1) + 1 + i]! + predictor) & 255;
    }
  }
  return { width, height, rgba };
}

/** Pixels of rows [y0, y1) darker than mid grey. */
function darkPixels({ width, rgba }: { width: number; rgba: Uint8Array }, y0: number, y1: number): number {
  let dark = 0;
  for (let i = y0 * width; i < y1 * width; i++) if (rgba[4 * i]! + rgba[4 * i + 1]! + rgba[4 * i + 2]! < 3 * 128) dark++;
  return dark;
}

describe("scatter chart", () => {
  const labels = Int32Array.from({ length: 37 }, (_, i) => i % 3);
  const spec = scatterChart(
    [
      { title: "held-out data", points: spiral(37), dim: 2, labels },
      { title: "samples", points: spiral(11), dim: 2 },
    ],
    { title: "data | samples", xTitle: "first coordinate", yTitle: "second coordinate" },
  );

  it("is plain JSON", () => {
    assert.deepEqual(JSON.parse(JSON.stringify(spec)), spec);
  });

  it("draws its axis titles, panel titles and one mark per point", () => {
    const svg = chartSvg(spec);
    for (const text of ["data | samples", "held-out data", "samples", "first coordinate", "second coordinate"])
      assert.ok(svg.includes(`>${text}</text>`), text);
    assert.equal(count(svg, 'aria-roledescription="circle"'), 37 + 11);
  });

  it("names the labels in a legend", () => {
    const legend = legendPart(chartSvg(spec));
    for (const label of ["class", "0", "1", "2"]) assert.ok(legend.includes(`>${label}</text>`), label);
    assert.ok(!legend.includes(">3</text>"));
  });

  it("is drawn the same as vega's asynchronous View.toSVG (up to the numbering of clip paths)", async () => {
    const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" });
    const [sync, async] = [chartSvg(spec), await view.toSVG()].map((svg) => svg.replace(/clip\d+/g, "clip"));
    view.finalize();
    const at = [...sync!].findIndex((ch, i) => ch !== async![i]);
    assert.ok(sync === async, `the SVGs differ from character ${at}: ${sync!.slice(at - 60, at + 60)}`);
  });
});

describe("a large scatter panel", () => {
  it("draws its first 5000 points and says so", () => {
    const svg = chartSvg(scatterChart([{ title: "many", points: spiral(6000), dim: 2 }], { title: "cap" }));
    assert.equal(count(svg, 'aria-roledescription="circle"'), 5000);
    assert.ok(svg.includes(">many</text>") && svg.includes(">first 5000 of 6000 points</text>"));
  });
});

describe("a scatter panel on fixed bounds", () => {
  it("leaves out the points outside them, says how many, and still rasterises (far-off clipped marks crashed resvg)", () => {
    const points = Float32Array.from([0, 0, 0.5, 0.5, -900, 40, 1e6, -1e6]);
    const spec = scatterChart([{ title: "samples", points, dim: 2 }], {
      title: "outliers",
      bounds: { xmin: -1, xmax: 1, ymin: -1, ymax: 1 },
    });
    const svg = chartSvg(spec);
    assert.equal(count(svg, 'aria-roledescription="circle"'), 2);
    assert.ok(svg.includes(">samples</text>") && svg.includes(">2 outside the view</text>"));
    assert.ok(chartPng(spec).length > 100);
  });
});

describe("chart PNG", () => {
  const spec = scatterChart([{ title: "points", points: spiral(50), dim: 2 }], { title: "A TITLE IN BLACK", size: 120 });
  const svgSize = (svg: string) =>
    svg
      .match(/^<svg[^>]* width="(\d+)" height="(\d+)"/)!
      .slice(1)
      .map(Number);

  it("has the SVG's size times the scale", () => {
    const [w, h] = svgSize(chartSvg(spec));
    assert.ok(w! > 120 && h! > 120, `${w}×${h}`);
    assert.deepEqual(pngSize(chartPng(spec, 1)), { width: w, height: h });
    assert.deepEqual(pngSize(chartPng(spec, 2)), { width: 2 * w!, height: 2 * h! });
  });

  it("is not blank, and its title's text is drawn (a system font is found)", () => {
    const image = pngPixels(chartPng(spec, 2));
    const total = darkPixels(image, 0, image.height);
    assert.ok(total > 500 && total < 0.5 * image.width * image.height, `${total} dark pixels`);
    // the title is the only thing in the top 20 (SVG) units: 13px bold text at the top left
    assert.ok(darkPixels(image, 0, 40) > 100, "no title text in the PNG");
  });
});

describe("line chart", () => {
  const spec = lineChart(
    [
      { name: "alpha", x: [1, 2, 3, 4], y: [1, 0.5, 0.25, 0.125] },
      { name: "beta", x: [1, 2, 3, 4], y: [2, 1, -1, 0.5] },
    ],
    { title: "two series", xTitle: "step", yTitle: "value", legendTitle: "which", yLog: true },
  );

  it("has a legend naming both series, in order", () => {
    const legend = legendPart(chartSvg(spec));
    for (const text of ["which", "alpha", "beta"]) assert.ok(legend.includes(`>${text}</text>`), text);
    assert.ok(legend.indexOf(">alpha<") < legend.indexOf(">beta<"));
  });

  it("draws a marker per point, leaving out what a log axis cannot show", () => {
    const svg = chartSvg(spec);
    assert.equal(count(svg, 'aria-roledescription="point"'), 4 + 3);
    for (const text of ["two series", "step", "value"]) assert.ok(svg.includes(`>${text}</text>`), text);
  });

  it("loss chart: the loss and its moving average, averaged over blocks of a long run", () => {
    const spec = lossChart(Float32Array.from({ length: 2500 }, (_, i) => 1 / (1 + i)));
    const rows = (spec as { data: { values: { series: string }[] } }).data.values;
    assert.deepEqual([...new Set(rows.map((r) => r.series))], ["loss (mean of 3 steps)", "moving average (0.98)"]);
    assert.equal(rows.length, 2 * Math.ceil(2500 / 3));
  });
});

describe("score field chart", () => {
  it("draws one shaft per arrow and a head turned along each (clockwise from up)", () => {
    const bounds = { xmin: -2, xmax: 2, ymin: -1, ymax: 1 };
    const arrows = [
      { x: 0, y: 0, dx: 1, dy: 0 },
      { x: 0, y: 0, dx: 0, dy: -0.5 },
      { x: 1, y: 0, dx: 0, dy: 0 },
    ];
    const svg = chartSvg(scoreFieldChart([{ title: "σ̃ = 1", arrows }], spiral(5), { title: "field", bounds }));
    assert.equal(count(svg, 'aria-roledescription="rule mark"'), 3);
    assert.deepEqual(
      [...svg.matchAll(/angle: (-?[\d.]+)"/g)].map((m) => Number(m[1])),
      [90, 180],
    );
    assert.equal(count(svg, 'aria-roledescription="circle"'), 5);
    for (const text of ["σ̃ = 1", "held-out data", "score"]) assert.ok(svg.includes(`>${text}</text>`), text);
  });
});

describe("boundsOf", () => {
  it("spans the first two coordinates of rows of dim, with the margin", () => {
    assert.deepEqual(boundsOf([0, 0, 9, 10, 2, 5], 0.5, 3), { xmin: -5, xmax: 15, ymin: -1, ymax: 3 });
  });
});
