/**
 * What the page's tabs share: the worker (requests, streamed events), element helpers, errors shown
 * instead of thrown, Vega charts, canvases for points and image grids, downloads, and the backends'
 * names.
 */

import type { Bounds } from "vdm/plot";
import { extentOf } from "vdm/plot";
import { parse, scale, View } from "vega";
import type { TopLevelSpec } from "vega-lite";
import { compile } from "vega-lite";
import type { BackendName, Event, Reply, Requests } from "./protocol.js";

// ---------------------------------------------------------------- worker plumbing

const worker = new Worker(new URL("./worker.ts", import.meta.url), { type: "module" });
let nextId = 1;
const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
export const listeners: ((e: Event) => void)[] = [];

worker.onmessage = (e: MessageEvent<Reply | Event>) => {
  const m = e.data;
  if ("event" in m) return listeners.forEach((f) => f(m));
  if (m.id === -1) return showError(m.error ?? "error");
  const p = pending.get(m.id);
  if (!p) return;
  pending.delete(m.id);
  if (m.error !== undefined) p.reject(new Error(m.error));
  else p.resolve(m.result);
};
worker.onerror = (e) => showError(`worker: ${e.message}`);

export function request<K extends keyof Requests>(type: K, args: Requests[K]["args"]): Promise<Requests[K]["result"]> {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
    worker.postMessage({ id, type, args });
  });
}

// ---------------------------------------------------------------- helpers

export const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
export const num = (id: string) => Number(($(id) as HTMLInputElement).value);
export const val = (id: string) => ($(id) as HTMLInputElement).value;

export function showError(message: string): void {
  $("error").textContent = message;
  console.warn(message);
}

/** Run `f`, showing its error instead of throwing. */
export async function guarded<T>(f: () => Promise<T>): Promise<T | undefined> {
  try {
    $("error").textContent = "";
    return await f();
  } catch (err) {
    showError((err as Error).message);
    return undefined;
  }
}

/**
 * `run` as an input handler that never overlaps itself: events during a run coalesce into one more
 * run after it, so a slider dragged fast redraws at the pace the worker answers.
 */
export function throttled(run: () => Promise<void>): () => void {
  let busy = false;
  let again = false;
  const go = async (): Promise<void> => {
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    await guarded(run);
    busy = false;
    if (again) {
      again = false;
      void go();
    }
  };
  return () => void go();
}

export const views = new Map<string, View>();
/** Render a Vega-Lite spec into the element `id` (replacing what was there). */
export async function chart(id: string, spec: TopLevelSpec): Promise<void> {
  views.get(id)?.finalize();
  const el = $(id);
  el.innerHTML = "";
  const view = new View(parse(compile(spec).spec), { renderer: "svg", container: el, hover: false });
  views.set(id, view);
  await view.runAsync();
}

export const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

/** A square around the points' extent (`extentOf`), centred, each side `margin` of the span beyond it; [−3, 3]² when no point is finite. */
export function boundsOf(points: ArrayLike<number>, margin = 0.08): Bounds {
  const extent = extentOf(points);
  if (!extent) return { xmin: -3, xmax: 3, ymin: -3, ymax: 3 };
  const { xmin, xmax, ymin, ymax } = extent;
  const span = Math.max(xmax - xmin, ymax - ymin, 1e-3);
  const [cx, cy] = [(xmin + xmax) / 2, (ymin + ymax) / 2];
  const h = span / 2 + margin * span;
  return { xmin: cx - h, xmax: cx + h, ymin: cy - h, ymax: cy + h };
}

export interface Layer {
  points: ArrayLike<number>;
  color?: string;
  labels?: ArrayLike<number> | null;
  size?: number;
  alpha?: number;
}

/** Colour of the points a layer draws without labels or its own colour. */
export const POINT_COLOR = PALETTE[0]!;
/** Colour of scatter paths and of the dot at each path's end. */
export const PATH_COLOR = "#d62728";

/** d3's linear scale (vega's): round tick values over a domain. */
const linearScale = scale("linear") as () => {
  domain(d: number[]): { ticks(count: number): number[]; tickFormat(count: number): (v: number) => string };
};

/** Light grid lines at round values of both axes, labelled along the bottom and left edges (x = 0 and y = 0 darker). */
export function drawAxes(ctx: CanvasRenderingContext2D, bounds: Bounds, px: (x: number) => number, py: (y: number) => number): void {
  const { width: W, height: H } = ctx.canvas;
  ctx.font = "10px system-ui, sans-serif";
  ctx.fillStyle = "#888";
  ctx.lineWidth = 1;
  for (const axis of ["x", "y"] as const) {
    const s = linearScale().domain(axis === "x" ? [bounds.xmin, bounds.xmax] : [bounds.ymin, bounds.ymax]);
    const label = s.tickFormat(6);
    for (const v of s.ticks(6)) {
      const at = Math.round(axis === "x" ? px(v) : py(v)) + 0.5;
      ctx.strokeStyle = v === 0 ? "#ddd" : "#f2f2f2";
      ctx.beginPath();
      if (axis === "x") {
        ctx.moveTo(at, 0);
        ctx.lineTo(at, H);
      } else {
        ctx.moveTo(0, at);
        ctx.lineTo(W, at);
      }
      ctx.stroke();
      // labels clear of the edges and of the corner where the two rows of labels meet
      if (axis === "x" ? at < 24 || at > W - 12 : at < 8 || at > H - 18) continue;
      ctx.textAlign = axis === "x" ? "center" : "left";
      ctx.textBaseline = axis === "x" ? "bottom" : "middle";
      if (axis === "x") ctx.fillText(label(v), at, H - 2);
      else ctx.fillText(label(v), 3, at);
    }
  }
}

/** Scatter plots of 2-D point layers on a canvas over labelled grid lines, with optional paths (each a list of [x, y]). */
export function scatter(canvas: HTMLCanvasElement, layers: Layer[], bounds: Bounds, paths: [number, number][][] = []): void {
  const ctx = canvas.getContext("2d")!;
  const { width: W, height: H } = canvas;
  ctx.clearRect(0, 0, W, H);
  const px = (x: number) => ((x - bounds.xmin) / (bounds.xmax - bounds.xmin)) * W;
  const py = (y: number) => H - ((y - bounds.ymin) / (bounds.ymax - bounds.ymin)) * H;
  drawAxes(ctx, bounds, px, py);
  for (const layer of layers) {
    const r = layer.size ?? 1.6;
    ctx.globalAlpha = layer.alpha ?? 0.6;
    for (let i = 0; i + 1 < layer.points.length; i += 2) {
      ctx.fillStyle = layer.labels ? PALETTE[layer.labels[i / 2]! % PALETTE.length]! : (layer.color ?? POINT_COLOR);
      ctx.beginPath();
      ctx.arc(px(layer.points[i]!), py(layer.points[i + 1]!), r, 0, 2 * Math.PI);
      ctx.fill();
    }
  }
  ctx.globalAlpha = 0.9;
  ctx.strokeStyle = PATH_COLOR;
  ctx.lineWidth = 1.2;
  for (const path of paths) {
    ctx.beginPath();
    path.forEach(([x, y], k) => (k ? ctx.lineTo(px(x), py(y)) : ctx.moveTo(px(x), py(y))));
    ctx.stroke();
    const last = path[path.length - 1];
    if (last) {
      ctx.fillStyle = PATH_COLOR;
      ctx.beginPath();
      ctx.arc(px(last[0]), py(last[1]), 3, 0, 2 * Math.PI);
      ctx.fill();
    }
  }
  ctx.globalAlpha = 1;
}

/** One entry of a canvas's legend: what it is, in the colour the canvas draws it with (as a dot or a line). */
export interface LegendEntry {
  label: string;
  color: string;
  shape?: "dot" | "line";
}

/** Fill the legend list `id` under a canvas with `entries`. */
export function legend(id: string, entries: LegendEntry[]): void {
  $(id).replaceChildren(
    ...entries.map(({ label, color, shape = "dot" }) => {
      const item = document.createElement("li");
      const swatch = document.createElement("span");
      swatch.className = `swatch ${shape}`;
      swatch.style.background = color;
      item.append(swatch, label);
      return item;
    }),
  );
}

/** Legend entries for points coloured by label (as `scatter` colours them): "<name> k" for each label present. */
export function labelEntries(labels: ArrayLike<number>, name: string): LegendEntry[] {
  return [...new Set(Array.from(labels))]
    .sort((a, b) => a - b)
    .map((k) => ({ label: `${name} ${k}`, color: PALETTE[k % PALETTE.length]! }));
}

export const fmt = (v: number, digits = 3) =>
  Number.isFinite(v) ? (Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(2) : v.toFixed(digits)) : String(v);

/** ", N % in ONNX Runtime Web" when a run's steps ran there. */
export const share = (s: number) => (Number.isFinite(s) && s > 0 ? ` (${(100 * s).toFixed(0)} % of it waiting for ONNX Runtime Web)` : "");

function download(name: string, bytes: Uint8Array | string, type: string): void {
  const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Download a run as the CLI's two files, config.json and state.safetensors. */
export async function downloadRun(run: { config: string; state: Uint8Array }): Promise<void> {
  download("config.json", run.config, "application/json");
  await new Promise((res) => setTimeout(res, 300)); // browsers may drop a second download started at once
  download("state.safetensors", run.state, "application/octet-stream");
}

/** The two files of a run folder chosen in the file input `id` (its `what` in the error when one is missing), read. */
export async function chosenRun(id: string, what: string): Promise<{ config: string; state: Uint8Array }> {
  const files = [...($<HTMLInputElement>(id).files ?? [])];
  const cfg = files.find((f) => f.name.endsWith(".json"));
  const st = files.find((f) => f.name.endsWith(".safetensors"));
  if (!cfg || !st) throw new Error(`choose both files of a ${what} folder: config.json and state.safetensors`);
  return { config: await cfg.text(), state: new Uint8Array(await st.arrayBuffer()) };
}

/** Draw n 28×28 grey images (pixels 0..255, row-major) as a square grid, 4× enlarged. */
export function drawGrid(canvas: HTMLCanvasElement, pixels: Float32Array, n: number): void {
  const cols = Math.ceil(Math.sqrt(n));
  const rows = Math.ceil(n / cols);
  const scale = 4;
  canvas.width = cols * 28 * scale;
  canvas.height = rows * 28 * scale;
  const ctx = canvas.getContext("2d")!;
  const tile = ctx.createImageData(28, 28);
  const off = new OffscreenCanvas(28, 28);
  const octx = off.getContext("2d")!;
  ctx.imageSmoothingEnabled = false;
  for (let k = 0; k < n; k++) {
    for (let p = 0; p < 784; p++) {
      const v = Math.max(0, Math.min(255, Math.round(pixels[k * 784 + p]!)));
      tile.data.set([v, v, v, 255], 4 * p);
    }
    octx.putImageData(tile, 0, 0);
    ctx.drawImage(off, (k % cols) * 28 * scale, Math.floor(k / cols) * 28 * scale, 28 * scale, 28 * scale);
  }
}

/** The backends as the page names them. */
export const BACKEND_TITLES: Record<BackendName, string> = {
  wasm: "ONNX Runtime Web (wasm)",
  webgpu: "ONNX Runtime Web (WebGPU)",
  jax: "jax-js",
};
