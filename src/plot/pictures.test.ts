/** Pictures a person can read: every grid cell in its place, grey unlabelled points, histograms of 1-D data. */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import { fashionMnistClasses } from "../data/images.js";
import { imageFigurePng, imageFigureSvg } from "./figure.js";
import { chartPng, chartSvg } from "./render.js";
import { NO_LABEL, scatterChart, scatterGridChart } from "./scatter.js";

/** A drawn item of the scenegraph, at its position in the whole picture. */
interface Placed {
  marktype: string;
  x: number;
  y: number;
  text?: string;
  fill?: string;
}

/** Every item of the chart's scenegraph with its absolute position (groups' offsets added up). */
function placedItems(spec: TopLevelSpec): Placed[] {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" });
  view.run();
  const out: Placed[] = [];
  type Item = { x?: number; y?: number; text?: string; fill?: string; items?: Mark[] };
  type Mark = { marktype: string; items: Item[] };
  const walk = (mark: Mark, x0: number, y0: number) => {
    for (const item of mark.items) {
      const [x, y] = [x0 + (item.x ?? 0), y0 + (item.y ?? 0)];
      if (mark.marktype === "group") for (const m of item.items ?? []) walk(m, x, y);
      else
        out.push({
          marktype: mark.marktype,
          x,
          y,
          ...(item.text !== undefined ? { text: String(item.text) } : {}),
          ...(item.fill ? { fill: item.fill } : {}),
        });
    }
  };
  walk((view.scenegraph() as unknown as { root: Mark }).root, 0, 0);
  view.finalize();
  return out;
}

/** Index of `v` among the sorted distinct values `of` (within half a pixel). */
const rank = (of: number[], v: number) => [...new Set(of.map(Math.round))].sort((a, b) => a - b).findIndex((u) => Math.abs(u - v) <= 1);

describe("scatter grid", () => {
  // 2 rows × 3 columns; cell (row r, column c) holds 1 + 3r + c points at the origin, but cell (0, 1)'s only point is far out of view
  const bounds = { xmin: -1, xmax: 1, ymin: -1, ymax: 1 };
  const cells = ["0", "10"].flatMap((row, r) =>
    ["0", "1", "2"].map((column, c) => ({
      row,
      column,
      dim: 2,
      points: r === 0 && c === 1 ? [50, 50] : Array.from({ length: 2 * (1 + 3 * r + c) }, () => 0),
    })),
  );
  const spec = scatterGridChart(cells, { title: "grid", bounds, rowTitle: "guidance scale", columnTitle: "class" });

  it("keeps every cell in its row and column when one has no point in view", () => {
    const circles = placedItems(spec).filter((p) => p.marktype === "symbol");
    const [xs, ys] = [circles.map((p) => p.x), circles.map((p) => p.y)];
    const counts = new Map<string, number>();
    for (const p of circles) counts.set(`${rank(ys, p.y)},${rank(xs, p.x)}`, (counts.get(`${rank(ys, p.y)},${rank(xs, p.x)}`) ?? 0) + 1);
    assert.deepEqual(Object.fromEntries([...counts].sort()), { "0,0": 1, "0,2": 3, "1,0": 4, "1,1": 5, "1,2": 6 });
  });

  it("titles every cell, the empty one included, in reading order", () => {
    const texts = placedItems(spec).filter((p) => p.marktype === "text");
    const title = (t: string) => texts.filter((p) => p.text === t);
    for (const c of ["class 0", "class 1", "class 2"]) assert.equal(title(c).length, 2, c);
    assert.equal(title("1 outside the view").length, 1);
    assert.ok(title("guidance scale 0")[0]!.y < title("guidance scale 10")[0]!.y);
    const [emptyCell, below] = title("class 1").sort((a, b) => a.y - b.y);
    assert.ok(Math.abs(emptyCell!.x - below!.x) < 1, "the empty cell's title sits above its column");
    assert.ok(Math.abs(title("class 2")[0]!.x - title("class 2")[1]!.x) < 1, "the cells after it stay in their columns");
  });
});

describe("scatter panels with and without labels", () => {
  const spec = scatterChart(
    [
      { title: "held-out data", points: [0, 0, 0.5, 0.5], dim: 2, labels: [0, 1] },
      { title: "samples", points: [0.2, 0.2, -0.3, 0.1], dim: 2 },
    ],
    { title: "data | samples" },
  );

  it("draws unlabelled points in a grey that is no class's colour, and names it in the legend", () => {
    const items = placedItems(spec);
    const fills = items.filter((p) => p.marktype === "symbol").map((p) => p.fill);
    const [class0, class1, unlabelled] = [fills[0]!, fills[1]!, fills[2]!];
    assert.equal(fills[3], unlabelled);
    assert.ok(unlabelled !== class0 && unlabelled !== class1, `unlabelled ${unlabelled}, classes ${class0} ${class1}`);
    const [r, g, b] = [1, 3, 5].map((i) => parseInt(unlabelled.slice(i, i + 2), 16));
    assert.ok(r === g && g === b, `unlabelled points are grey, got ${unlabelled}`);
    assert.ok(
      items.some((p) => p.marktype === "text" && p.text === NO_LABEL),
      "the legend names the unlabelled points",
    );
  });
});

describe("a grid of 1-D cells", () => {
  it("draws histograms on one density axis shared by every row and column", () => {
    const cells = ["0", "1"].flatMap((row) =>
      ["a", "b"].map((column) => ({ row, column, dim: 1, points: row === "0" ? [0, 0.1, 0.5] : [0, 0, 0, 0.01] })),
    );
    const names: string[] = [];
    type Group = { type?: string; scales?: { name: string }[]; marks?: Group[] };
    const walk = (g: Group) => {
      for (const scale of g.scales ?? []) names.push(scale.name);
      for (const m of g.marks ?? []) if (m.type === "group") walk(m);
    };
    walk(compile(scatterGridChart(cells, { title: "t", rowTitle: "r", columnTitle: "c" })).spec as Group);
    assert.deepEqual(
      names.filter((n) => /(^|_)y$/.test(n)),
      ["y"],
    );
  });
});

describe("a panel's subtitle", () => {
  it("is drawn under its title (e.g. the modes' shares of Langevin samples)", () => {
    const svg = chartSvg(
      scatterChart([{ title: "plain Langevin", subtitle: "modes 0 / 1: 50.0% / 50.0%", points: [0, 0], dim: 2 }], { title: "t" }),
    );
    assert.ok(svg.includes(">plain Langevin</text>") && svg.includes(">modes 0 / 1: 50.0% / 50.0%</text>"));
  });
});

describe("1-D data", () => {
  // two clusters at −2 and 2
  const points = Float32Array.from({ length: 400 }, (_, i) => (i % 2 ? 2 : -2) + ((i * 0.618) % 1) - 0.5);
  const spec = scatterChart(
    [
      { title: "held-out data", points, dim: 1 },
      { title: "samples", points: points.subarray(0, 100), dim: 1 },
    ],
    { title: "1-D" },
  );

  it("is drawn as histograms of density (bars, no points on a made-up second axis)", () => {
    const svg = chartSvg(spec);
    assert.equal((svg.match(/aria-roledescription="circle"/g) ?? []).length, 0);
    assert.ok((svg.match(/aria-roledescription="bar"/g) ?? []).length >= 4);
    assert.ok(svg.includes(">density</text>") && !svg.includes(">dimension 2</text>"));
    assert.ok(chartPng(spec).length > 100);
  });

  it("bars of a panel integrate to 1 (all points in view), stacked from 0 by label", () => {
    type Bar = { x: number; x2: number; y: number; y2: number; label?: string };
    const bars = (chart: TopLevelSpec) =>
      (chart as { hconcat: { layer: { data: { values: Bar[] } }[] }[] }).hconcat[0]!.layer[0]!.data.values;
    const area = bars(spec).reduce((s, r) => s + (r.y - r.y2) * (r.x2 - r.x), 0);
    assert.ok(Math.abs(area - 1) < 1e-3, `area ${area}`);
    assert.ok(bars(spec).every((r) => r.y2 === 0));
    const labelled = bars(
      scatterChart([{ title: "by class", points: [0, 0, 0, 1], dim: 1, labels: [0, 1, 1, 0] }], {
        title: "t",
        bounds: { xmin: -1, xmax: 1, ymin: 0, ymax: 0 },
      }),
    );
    const first = labelled.filter((r) => r.x === labelled[0]!.x);
    assert.deepEqual(
      first.map((r) => [r.label, r.y2 === 0, r.y2 > 0]),
      [
        ["0", true, false],
        ["1", false, true],
      ],
    );
    assert.equal(first[1]!.y2, first[0]!.y);
  });
});

describe("image figure", () => {
  // 2 rows × 4 columns of 3×3 grey images, columns in pairs under a class name, rows labelled
  const shape = [3, 3, 1];
  const pixels = Float32Array.from({ length: 8 * 9 }, (_, i) => (i * 7) % 256);
  const figure = {
    title: "a <title> & more",
    zoom: 4,
    panels: [
      {
        title: "samples",
        pixels,
        shape,
        n: 8,
        cols: 4,
        columnSpan: 2,
        columnLabels: [fashionMnistClasses[0]!, fashionMnistClasses[9]!],
        rowLabels: ["w = 0", "w = 3"],
      },
    ],
  };
  const svg = imageFigureSvg(figure);
  const texts = [...svg.matchAll(/<text x="([\d.]+)" y="([\d.]+)"[^>]*>([^<]*)<\/text>/g)].map((m) => ({
    x: Number(m[1]),
    y: Number(m[2]),
    text: m[3]!,
  }));
  const image = svg
    .match(/<image x="(\d+)" y="(\d+)" width="(\d+)" height="(\d+)"/)!
    .slice(1)
    .map(Number) as [number, number, number, number];
  const at = (t: string) => texts.find((p) => p.text === t)!;

  it("names the classes over their columns and the rows beside theirs, with the title escaped", () => {
    assert.ok(at("a &lt;title&gt; &amp; more"));
    const [x, y, w, h] = image;
    assert.deepEqual([w, h], [4 * (3 * 4 + 2) + 2, 2 * (3 * 4 + 2) + 2]);
    // each class over its two columns' middle, above the grid; each row label left of its row's middle
    const pitch = 3 * 4 + 2;
    assert.equal(at("T-shirt/top").x, x + 1 + pitch);
    assert.equal(at("Ankle boot").x, x + 1 + 3 * pitch);
    assert.ok(at("T-shirt/top").y < y && at("Ankle boot").y < y && at("samples").y < Math.min(at("T-shirt/top").y, at("Ankle boot").y));
    assert.ok(
      at("w = 0").x < x && Math.abs(at("w = 0").y - (y + 1 + 0.5 * pitch)) < 12 && Math.abs(at("w = 3").y - (y + 1 + 1.5 * pitch)) < 12,
    );
  });

  it("rasterises at one pixel per SVG unit (the grid unresampled)", () => {
    const png = Buffer.from(imageFigurePng(figure));
    const [width, height] = svg
      .match(/^<svg[^>]* width="(\d+)" height="(\d+)"/)!
      .slice(1)
      .map(Number);
    assert.deepEqual([png.readUInt32BE(16), png.readUInt32BE(20)], [width, height]);
    assert.ok(width! >= image[0] + image[2] && height! >= image[1] + image[3]);
  });
});
