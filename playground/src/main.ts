/**
 * The playground page: controls, canvases and Vega charts. All computation happens in the worker
 * (worker.ts); the charts are the CLI's own Vega-Lite specs (src/plot/lines.ts, score-field.ts) rendered by vega.
 * What the tabs share is in page.ts; the image training tab in image-tab.ts.
 */

import { type Bounds, lineChart, lossChart, scoreFieldChart } from "vdm/plot";
import { imageLosses } from "./image-tab.js";
import {
  $,
  BACKEND_TITLES,
  boundsOf,
  chart,
  chosenRun,
  downloadRun,
  drawGrid,
  fmt,
  guarded,
  labelEntries,
  legend,
  listeners,
  num,
  PATH_COLOR,
  POINT_COLOR,
  request,
  scatter,
  share,
  showError,
  throttled,
  val,
} from "./page.js";
import type { BackendInfo, BackendName, TrainSettings } from "./protocol.js";

// ---------------------------------------------------------------- tabs

/**
 * Each tab has a URL: its link's hash, #/<name> (#/forward, #/sampling, …), so a tab can be linked
 * and the browser's back and forward buttons move between tabs. The page shows the tab its hash names.
 */
const tabLinks = [...document.querySelectorAll<HTMLAnchorElement>("#tabs a")];
const TABS = tabLinks.map((a) => a.dataset.tab!);
/** What a tab runs when it is shown (redraws that need the worker), by name. */
const onTab: Record<string, () => void> = {};
/** Whether the worker has the data, so a tab's `onTab` can run. */
let ready = false;

/** The tab named by `hash` ("#/forward" → "forward"; "" → the first tab), or an error naming the tabs. */
function tabOfHash(hash: string): string {
  const name = decodeURIComponent(hash.replace(/^#\/?/, "")) || TABS[0]!;
  if (!TABS.includes(name)) throw new Error(`no tab "${name}" in this page: the tabs are ${TABS.map((t) => `#/${t}`).join(", ")}`);
  return name;
}

/** Show the tab the URL's hash names (the first tab and an error if it names none) and run its `onTab` once the page is ready. */
function route(): void {
  let tab = TABS[0]!;
  try {
    tab = tabOfHash(location.hash);
    $("error").textContent = "";
  } catch (err) {
    showError((err as Error).message);
  }
  tabLinks.forEach((a) => a.classList.toggle("active", a.dataset.tab === tab));
  document.querySelectorAll(".tab").forEach((s) => s.classList.toggle("active", s.id === `tab-${tab}`));
  if (ready) onTab[tab]?.();
}
window.addEventListener("hashchange", route);
route();

// ---------------------------------------------------------------- data

const DATASETS = ["moons", "swiss-roll", "checkerboard", "circles", "gaussian", "eight-gaussians", "ncsn-gmm", "drawn"];
$("data-spec").innerHTML = DATASETS.map((d) => `<option value="${d}">${d === "drawn" ? "draw your own" : d}</option>`).join("");
let dataPoints: Float32Array = new Float32Array();
let dataLabels: Int32Array | null = null;
let dataBounds: Bounds = { xmin: -3, xmax: 3, ymin: -3, ymax: 3 };
const drawn: number[] = [];
const DRAW_BOUNDS: Bounds = { xmin: -3, xmax: 3, ymin: -3, ymax: 3 };

async function loadData(): Promise<void> {
  const spec = val("data-spec");
  if (spec === "drawn" && drawn.length < 8) {
    dataPoints = Float32Array.from(drawn);
    dataLabels = null;
    dataBounds = DRAW_BOUNDS;
    drawData();
    $("data-info").textContent = "click or drag on the canvas to add points (at least 4)";
    return;
  }
  const r = await request("data", { spec, ...(spec === "drawn" ? { points: drawn } : {}) });
  dataPoints = r.points;
  dataLabels = r.labels;
  dataBounds = spec === "drawn" ? DRAW_BOUNDS : boundsOf(r.points);
  drawData();
  $("data-info").textContent =
    `${r.n.toLocaleString("en")} training points${r.n > dataPoints.length / 2 ? ` (${(dataPoints.length / 2).toLocaleString("en")} shown)` : ""}`;
  document.body.dataset.data = spec;
  await applySettings();
}

/** Draw the data on the Data tab, coloured by label where it has labels, with its legend; "clear drawing" only while drawing. */
function drawData(): void {
  $<HTMLButtonElement>("data-clear").disabled = val("data-spec") !== "drawn";
  scatter($("data-canvas"), [{ points: dataPoints, labels: dataLabels, alpha: 0.5 }], dataBounds);
  legend(
    "data-legend",
    dataLabels
      ? labelEntries(dataLabels, "label")
      : [{ label: val("data-spec") === "drawn" ? "your points" : "training points", color: POINT_COLOR }],
  );
}

$("data-spec").addEventListener("change", () => void guarded(loadData));
$("data-clear").addEventListener("click", () => {
  drawn.length = 0;
  void guarded(loadData);
});
{
  const canvas = $<HTMLCanvasElement>("data-canvas");
  let down = false;
  let last = 0;
  const add = (e: MouseEvent) => {
    if (val("data-spec") !== "drawn") return;
    const rect = canvas.getBoundingClientRect();
    const x = DRAW_BOUNDS.xmin + ((e.clientX - rect.left) / rect.width) * (DRAW_BOUNDS.xmax - DRAW_BOUNDS.xmin);
    const y = DRAW_BOUNDS.ymax - ((e.clientY - rect.top) / rect.height) * (DRAW_BOUNDS.ymax - DRAW_BOUNDS.ymin);
    // a small cloud around each click, so a few clicks make a density
    for (let k = 0; k < 8; k++) drawn.push(x + 0.06 * gauss(), y + 0.06 * gauss());
    dataPoints = Float32Array.from(drawn);
    dataLabels = null;
    dataBounds = DRAW_BOUNDS;
    drawData();
    $("data-info").textContent = `${drawn.length / 2} points drawn`;
  };
  canvas.addEventListener("mousedown", (e) => {
    down = true;
    add(e);
  });
  canvas.addEventListener("mousemove", (e) => {
    if (down && performance.now() - last > 30) {
      last = performance.now();
      add(e);
    }
  });
  window.addEventListener("mouseup", () => {
    if (down && val("data-spec") === "drawn" && drawn.length >= 8) void guarded(loadData);
    down = false;
  });
}
function gauss(): number {
  return Math.sqrt(-2 * Math.log(1 - Math.random())) * Math.cos(2 * Math.PI * Math.random());
}

// ---------------------------------------------------------------- training

let losses: number[] = [];
let lastChart = 0;

function settingsFromForm(): TrainSettings {
  return {
    data: val("data-spec"),
    hidden: num("tr-hidden"),
    layers: num("tr-layers"),
    batch: num("tr-batch"),
    lr: num("tr-lr"),
    schedule: val("tr-schedule"),
    timesteps: num("tr-T"),
    steps: num("tr-steps"),
    seed: num("tr-seed"),
  };
}

async function applySettings(): Promise<void> {
  const r = await request("configure", settingsFromForm());
  losses = [];
  $("tr-config").textContent = r.config;
  $("tr-status").textContent = `new model: ${r.parameters.toLocaleString()} parameters, step 0`;
  document.body.dataset.step = "0";
  await chart("tr-chart", lossChart([]));
}

listeners.push((e) => {
  if (e.event !== "progress" || e.channel !== "points") return;
  losses.push(...e.losses);
  const speed = Number.isFinite(e.stepsPerSecond) ? `${e.stepsPerSecond.toFixed(1)} steps/s${share(e.onnxShare)}` : "";
  const loss = losses.length ? `loss ${fmt(losses[losses.length - 1]!)}` : "";
  $("tr-status").textContent =
    `step ${e.step} / ${e.steps} ${e.running ? "(training)" : e.done ? "(done)" : "(paused)"}  ${loss}  ${speed} on ${BACKEND_TITLES[e.backend]}`;
  document.body.dataset.step = String(e.step);
  document.body.dataset.training = e.running ? "running" : e.done ? "done" : "paused";
  document.body.dataset.stepsPerSecond = String(e.stepsPerSecond);
  document.body.dataset.onnxShare = String(e.onnxShare);
  if (!e.running || performance.now() - lastChart > 500) {
    lastChart = performance.now();
    void chart("tr-chart", lossChart(losses));
  }
});

/** T only while it counts: the learned schedule trains in continuous time (T = 0), whatever T says. */
const syncT = () => ($<HTMLInputElement>("tr-T").disabled = val("tr-schedule") === "learned");
$("tr-schedule").addEventListener("change", syncT);
syncT();
$("tr-apply").addEventListener("click", () => void guarded(applySettings));
$("tr-start").addEventListener("click", () => void guarded(() => request("start", {})));
$("tr-pause").addEventListener("click", () => void guarded(() => request("pause", {})));
$("tr-reset").addEventListener(
  "click",
  () =>
    void guarded(async () => {
      losses = [];
      await request("reset", {});
      await chart("tr-chart", lossChart([]));
    }),
);

$("tr-save").addEventListener(
  "click",
  () =>
    void guarded(async () => {
      const r = await request("save", {});
      await downloadRun(r);
      $("tr-status").textContent += `  — saved step ${r.step}`;
    }),
);

$("tr-load").addEventListener(
  "change",
  () =>
    void guarded(async () => {
      const r = await request("load", await chosenRun("tr-load", "checkpoint"));
      $("tr-config").textContent = r.config;
      const c = JSON.parse(r.config) as { data: { spec: string } };
      if (DATASETS.includes(c.data.spec) && c.data.spec !== "drawn" && val("data-spec") !== c.data.spec) {
        ($("data-spec") as HTMLSelectElement).value = c.data.spec;
        const d = await request("data", { spec: c.data.spec });
        dataPoints = d.points;
        dataLabels = d.labels;
        dataBounds = boundsOf(d.points);
        drawData();
      }
      if (r.kind === "weights") losses = [];
      $("tr-status").textContent = `loaded ${r.kind} (step ${r.step})`;
      document.body.dataset.loaded = `${r.kind}:${r.step}`;
      if (r.kind === "weights") await chart("tr-chart", lossChart([]));
    }),
);

// ---------------------------------------------------------------- forward process

async function forward(): Promise<void> {
  const t = num("fwd-t");
  $("fwd-t-out").textContent = t.toFixed(2);
  const r = await request("forward", { schedule: val("fwd-schedule"), t, n: 1500, seed: 1 });
  scatter($("fwd-canvas"), [{ points: r.points, alpha: 0.5 }], boundsOf([...dataPoints, ...r.points.slice(0, 600)]));
  legend("fwd-legend", [
    {
      label: `x_t = α_t x₀ + σ_t ε at t = ${t.toFixed(2)}, for ${(r.points.length / 2).toLocaleString("en")} training points x₀`,
      color: POINT_COLOR,
    },
  ]);
  $("fwd-info").textContent = `γ(t) = ${fmt(r.gamma)}   SNR(t) = ${fmt(r.snr)}   ᾱ_t = ${fmt(r.alphaBar)}`;
  // the chosen t: a vertical line across the curves' range (a line through one point draws nothing)
  const values = [...r.curve.snr, ...r.curve.alphaBar].filter((v) => Number.isFinite(v) && v > 0);
  const marker = { name: `t = ${t.toFixed(2)}`, x: [t, t], y: [Math.min(...values), Math.max(...values)] };
  await chart(
    "fwd-chart",
    lineChart([{ name: "SNR(t)", x: r.curve.t, y: r.curve.snr }, { name: "ᾱ_t", x: r.curve.t, y: r.curve.alphaBar }, marker], {
      title: `${val("fwd-schedule")} schedule`,
      xTitle: "t",
      yTitle: "SNR(t), ᾱ_t (log scale)",
      yLog: true,
      points: false,
      width: 360,
      height: 300,
      colors: ["#1f77b4", "#2ca02c", "#d62728"],
    }),
  );
}
const forwardThrottled = throttled(forward);
$("fwd-t").addEventListener("input", forwardThrottled);
$("fwd-schedule").addEventListener("change", forwardThrottled);
onTab.forward = forwardThrottled;

// ---------------------------------------------------------------- ELBO

$("elbo-run").addEventListener(
  "click",
  () =>
    void guarded(async () => {
      $("elbo-info").textContent = "evaluating…";
      const r = await request("elbo", { n: 500, seed: 0 });
      $("elbo-info").textContent =
        `−ELBO = ${fmt(r.nats)} ± ${fmt(r.stdError)} nats = ${fmt(r.bpd)} bits/dim   (reconstruction ${fmt(r.terms.reconstruction)}, prior ${fmt(r.terms.prior)}, diffusion ${fmt(r.terms.diffusion)})`;
      document.body.dataset.elbo = String(r.nats);
      const terms = [
        { term: "reconstruction", nats: r.terms.reconstruction },
        { term: "prior matching", nats: r.terms.prior },
        { term: "diffusion", nats: r.terms.diffusion },
      ];
      await chart("elbo-terms", {
        $schema: "https://vega.github.io/schema/vega-lite/v6.json",
        title: "the three terms (nats per example)",
        width: 260,
        height: 260,
        data: { values: terms },
        mark: { type: "bar", tooltip: true },
        encoding: {
          x: { field: "term", type: "nominal", sort: null, title: null },
          y: { field: "nats", type: "quantitative", title: "nats" },
          color: { field: "term", type: "nominal", legend: null },
        },
      });
      await chart(
        "elbo-chart",
        lineChart([{ name: r.continuous ? "½ γ'(t) E‖ε − ε̂‖²" : "L_{t−1}", x: r.perT.t, y: r.perT.value }], {
          title: r.continuous ? "the diffusion term's integrand over t" : "each diffusion term L_{t−1} (KL, nats)",
          xTitle: "t",
          yTitle: "nats",
          yLog: r.perT.value.every((v) => v > 0),
          width: 420,
          height: 260,
        }),
      );
    }),
);

// ---------------------------------------------------------------- sampling

$("smp-steps").addEventListener("input", () => ($("smp-steps-out").textContent = val("smp-steps")));
/** What the sampling canvas draws: the training data, the samples and the first samples' paths through the sampler's steps. */
const SAMPLING = { data: "#bbb", samples: POINT_COLOR, paths: 24 };
legend("smp-legend", [
  { label: "training data", color: SAMPLING.data },
  { label: "samples", color: SAMPLING.samples },
  { label: `paths of ${SAMPLING.paths} samples over the sampler's steps`, color: PATH_COLOR, shape: "line" },
  { label: "where each path ends", color: PATH_COLOR },
]);
let animation = 0;
$("smp-run").addEventListener(
  "click",
  () =>
    void guarded(async () => {
      $("smp-info").textContent = "sampling…";
      const paths = SAMPLING.paths;
      const r = await request("sample", { sampler: val("smp-sampler"), steps: num("smp-steps"), n: num("smp-n"), seed: 1, paths });
      $("smp-info").textContent =
        `NFE ${r.nfe}, ${fmt(r.ms, 0)} ms; energy distance to held-out data ${fmt(r.energy, 4)} (noise floor ${fmt(r.floor, 4)})`;
      document.body.dataset.energy = String(r.energy);
      const bounds = dataBounds;
      const frames = r.frames;
      const cancel = ++animation;
      const trajectories = (upTo: number) =>
        Array.from({ length: Math.min(paths, (frames[0]?.length ?? 0) / 2) }, (_, p) =>
          frames
            .slice(0, upTo)
            .map((f) => [f[2 * p]!, f[2 * p + 1]!] as [number, number])
            .filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)),
        );
      const duration = 1500;
      const t0 = performance.now();
      const frame = () => {
        if (cancel !== animation) return;
        const k = Math.min(frames.length, 1 + Math.floor(((performance.now() - t0) / duration) * frames.length));
        const done = k >= frames.length;
        scatter(
          $("smp-canvas"),
          [
            { points: dataPoints, color: SAMPLING.data, alpha: 0.3 },
            ...(done ? [{ points: r.points, color: SAMPLING.samples, alpha: 0.6 }] : []),
          ],
          bounds,
          trajectories(k),
        );
        if (!done) requestAnimationFrame(frame);
        else document.body.dataset.sampled = "1";
      };
      frame();
    }),
);

// ---------------------------------------------------------------- score field and Langevin

async function scoreField(): Promise<void> {
  const sigma = num("sc-sigma");
  const source = val("sc-source");
  $("sc-sigma-out").textContent = sigma.toFixed(2);
  const r = await request("score", { source, sigma, grid: 18 });
  // the worker's points: held-out data for the trained model, fresh samples of an exact density
  const pointsLabel = source === "trained" ? "held-out data" : "samples of the density";
  await chart(
    "sc-chart",
    scoreFieldChart([{ title: `σ̃ = ${sigma.toFixed(2)}`, arrows: r.arrows }], r.points, {
      title: `the score ∇ log p_σ̃ (${source}; arrows scaled to the longest)`,
      bounds: r.bounds,
      size: 420,
      pointsLabel,
    }),
  );
}
const scoreThrottled = throttled(scoreField);
$("sc-sigma").addEventListener("input", scoreThrottled);
$("sc-source").addEventListener("change", scoreThrottled);
onTab.score = scoreThrottled;

const LG_BOUNDS: Bounds = { xmin: -10, xmax: 10, ymin: -10, ymax: 10 };
const shareText = (s: number[]) => `heavy mode (−5,−5): ${(100 * s[0]!).toFixed(1)} %   light mode (5,5): ${(100 * s[1]!).toFixed(1)} %`;
listeners.push((e) => {
  if (e.event !== "langevin") return;
  scatter($(`lg-${e.which}`), [{ points: e.points, alpha: 0.35, size: 1.3 }], LG_BOUNDS);
  $(`lg-${e.which}-cap`).textContent =
    `${e.which === "plain" ? "plain Langevin" : "annealed Langevin"}: ${e.remaining} steps left — ${shareText(e.shares)}`;
});
$("lg-run").addEventListener(
  "click",
  () =>
    void guarded(async () => {
      $("lg-info").textContent = "running…";
      const r = await request("langevin", { n: num("lg-n"), stepsPerLevel: num("lg-steps"), seed: 0 });
      $("lg-info").textContent =
        `true weights 80 % / 20 %; plain ${(100 * r.plain[0]!).toFixed(1)} %, annealed ${(100 * r.annealed[0]!).toFixed(1)} % in the heavy mode (${fmt(r.ms / 1000, 1)} s)`;
      $("lg-plain-cap").textContent = `plain Langevin (clean score): ${shareText(r.plain)}`;
      $("lg-annealed-cap").textContent = `annealed Langevin (σ̃ 20 → 1): ${shareText(r.annealed)}`;
      document.body.dataset.annealedHeavy = String(r.annealed[0]);
      document.body.dataset.plainHeavy = String(r.plain[0]);
    }),
);

// ---------------------------------------------------------------- guidance

$("gd-class").innerHTML = Array.from({ length: 8 }, (_, k) => `<option value="${k}">${k} (${Math.round(45 * k)}°)</option>`).join("");
async function guidance(): Promise<void> {
  const scale = num("gd-scale");
  $("gd-scale-out").textContent = String(scale);
  const cls = num("gd-class");
  const n = 500;
  const r = await request("guidance", { cls, scale, n, seed: 2, steps: 20 });
  const sampleColor = "#000";
  scatter(
    $("gd-canvas"),
    [
      { points: r.data, labels: r.dataLabels, alpha: 0.15 },
      { points: r.points, color: sampleColor, alpha: 0.7, size: 1.8 },
    ],
    { xmin: -3.5, xmax: 3.5, ymin: -3.5, ymax: 3.5 },
  );
  legend("gd-legend", [
    { label: `${n} guided samples of class ${cls} (w = ${scale})`, color: sampleColor },
    ...labelEntries(r.dataLabels, "data of class"),
  ]);
  $("gd-info").textContent =
    `w = ${scale}: ${(100 * r.accuracy).toFixed(1)} % of ${n} samples in class ${cls}; RMS distance to its mean ${fmt(r.spread)}`;
  document.body.dataset.guidance = String(r.accuracy);
}
const guidanceThrottled = throttled(guidance);
$("gd-scale").addEventListener("input", guidanceThrottled);
$("gd-class").addEventListener("change", guidanceThrottled);
onTab.guidance = guidanceThrottled;

// ---------------------------------------------------------------- images

const CLASSES = ["T-shirt/top", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle boot"];
$("im-class").innerHTML = [
  `<option value="-1">all (one per class in turn)</option>`,
  ...CLASSES.map((c, k) => `<option value="${k}">${k}: ${c}</option>`),
].join("");
$("im-run").addEventListener(
  "click",
  () =>
    void guarded(async () => {
      $("im-info").textContent = "loading the model and sampling…";
      const n = num("im-n");
      const cls = num("im-class");
      const r = await request("images", { cls, scale: num("im-scale"), steps: num("im-steps"), n, seed: 0 });
      drawGrid($<HTMLCanvasElement>("im-canvas"), r.pixels, n);
      $("im-caption").textContent =
        cls >= 0
          ? `all ${n} of class ${cls}: ${CLASSES[cls]}`
          : `classes, left to right and top to bottom: ${r.labels.map((k) => CLASSES[k]).join(", ")}`;
      $("im-info").textContent =
        `${n} images in ${fmt(r.ms / 1000, 2)} s (${fmt(r.perImage / 1000, 3)} s per image; model loaded in ${fmt(r.loadMs, 0)} ms) on ${BACKEND_TITLES[backendInUse]}`;
      document.body.dataset.images = String(n);
      document.body.dataset.imagesMs = String(r.ms);
    }),
);

// ---------------------------------------------------------------- backend

let backendInUse: BackendName = "jax";

function showBackend(info: BackendInfo): void {
  backendInUse = info.backend;
  ($("backend") as HTMLSelectElement).value = info.backend;
  $("backend-info").textContent = info.detail;
  document.body.dataset.backend = info.backend;
}

$("backend").addEventListener(
  "change",
  () =>
    void guarded(async () => {
      $("backend-info").textContent = "switching…";
      showBackend(await request("backend", { backend: val("backend") as BackendName }));
    }),
);

// ---------------------------------------------------------------- start

void guarded(async () => {
  // ?backend=jax|wasm|webgpu picks the first backend (default: ONNX Runtime Web's wasm); ?threads=N its threads, ?chunk=N training steps per call
  const query = new URLSearchParams(location.search);
  const asked = query.get("backend");
  const r = await request("init", {
    backend: asked === "jax" || asked === "webgpu" ? asked : "wasm",
    ...(query.has("threads") ? { threads: Number(query.get("threads")) } : {}),
    ...(query.has("chunk") ? { chunk: Number(query.get("chunk")) } : {}),
  });
  showBackend(r);
  $("engine").textContent =
    `Engine: jax-js on ${r.devices.join(", ")}, ${r.threads} thread${r.threads === 1 ? "" : "s"}${r.isolated ? " (cross-origin isolated)" : ""}.`;
  $("smp-sampler").replaceChildren(
    ...r.samplers.map(({ name, title }) => Object.assign(document.createElement("option"), { value: name, textContent: title })),
  );
  await loadData();
  ready = true;
  route(); // the tab the URL names, now that it can draw
  document.body.dataset.ready = "1";
});

// what the browser tests read (src/playground.test.ts): the worker's requests and the loss history
(window as unknown as { vdm: unknown }).vdm = { request, losses: () => losses.slice(), imageLosses: () => imageLosses.slice() };
