/**
 * The "Train on images" tab: a new run from the form, train and pause, the loss curve and steps/s as
 * progress events arrive, a sample grid every 30 s and when training stops, the run downloaded as the
 * CLI's two files or a CLI run's files loaded (worker side: image-run.ts).
 */

import { lossChart } from "vdm/plot";
import { $, BACKEND_TITLES, chart, chosenRun, downloadRun, drawGrid, fmt, guarded, listeners, num, request, share, val } from "./page.js";

export let imageLosses: number[] = [];
let lastImageChart = 0;
let lastGrid = 0;
let gridBusy = false;

/** A grid of 20 samples (two per class) from the image run's EMA weights. */
async function imageGrid(): Promise<void> {
  if (gridBusy) return;
  gridBusy = true;
  try {
    const r = await request("imageSample", { n: 20, steps: num("it-sample-steps"), scale: 2, seed: 0 });
    drawGrid($<HTMLCanvasElement>("it-canvas"), r.pixels, 20);
    $("it-caption").textContent =
      `samples at step ${r.step} (DPM-Solver++ 2M, ${num("it-sample-steps")} steps, w = 2; two per class, in class order) in ${fmt(r.ms / 1000, 2)} s`;
    lastGrid = performance.now();
    document.body.dataset.imageGridStep = String(r.step);
  } finally {
    gridBusy = false;
  }
}

listeners.push((e) => {
  if (e.event !== "progress" || e.channel !== "images") return;
  imageLosses.push(...e.losses);
  const speed = Number.isFinite(e.stepsPerSecond) ? `${e.stepsPerSecond.toFixed(2)} steps/s${share(e.onnxShare)}` : "";
  const loss = imageLosses.length ? `loss ${fmt(imageLosses[imageLosses.length - 1]!)}` : "";
  $("it-status").textContent =
    `step ${e.step} / ${e.steps} ${e.running ? "(training)" : e.done ? "(done)" : "(paused)"}  ${loss}  ${speed} on ${BACKEND_TITLES[e.backend]}`;
  Object.assign(document.body.dataset, { imageStep: String(e.step), imageTraining: e.running ? "running" : e.done ? "done" : "paused" });
  document.body.dataset.imageStepsPerSecond = String(e.stepsPerSecond);
  if (!e.running || performance.now() - lastImageChart > 1000) {
    lastImageChart = performance.now();
    void chart("it-chart", lossChart(imageLosses));
  }
  // a fresh grid every 30 s while training, and whenever it stops
  if (e.step > 0 && (!e.running || performance.now() - lastGrid > 30_000)) void guarded(imageGrid);
});

$("it-new").addEventListener(
  "click",
  () =>
    void guarded(async () => {
      const r = await request("imageConfigure", {
        base: num("it-base"),
        multipliers: val("it-multipliers").split(",").map(Number),
        attention: val("it-attention").trim() ? val("it-attention").split(",").map(Number) : [],
        batch: num("it-batch"),
        lr: num("it-lr"),
        steps: num("it-steps"),
        seed: num("it-seed"),
      });
      imageLosses = [];
      $("it-config").textContent = r.config;
      $("it-status").textContent =
        `new run: ${r.parameters.toLocaleString()} parameters, ${r.images.toLocaleString()} training images, step 0`;
      document.body.dataset.imageStep = "0";
      await chart("it-chart", lossChart([]));
    }),
);
$("it-start").addEventListener("click", () => void guarded(() => request("imageStart", {})));
$("it-pause").addEventListener("click", () => void guarded(() => request("imagePause", {})));
$("it-sample").addEventListener("click", () => void guarded(imageGrid));
$("it-save").addEventListener(
  "click",
  () =>
    void guarded(async () => {
      const r = await request("imageSave", {});
      await downloadRun(r);
      $("it-status").textContent += `  — saved step ${r.step}`;
    }),
);
$("it-load").addEventListener(
  "change",
  () =>
    void guarded(async () => {
      const files = await chosenRun("it-load", "run");
      imageLosses = [];
      const r = await request("imageLoad", files);
      $("it-config").textContent = r.config;
      $("it-status").textContent = `loaded a run at step ${r.step}: train to continue it`;
      document.body.dataset.imageLoaded = String(r.step);
    }),
);
