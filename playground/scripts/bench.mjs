/**
 * The playground's speed in the page beside the library in Node, one script, one run: steps/s of 2-D
 * training, seconds for 16 Fashion-MNIST images from the shipped model (DPM-Solver++ 2M, 20 steps,
 * w = 4: the Images tab's default; the second run, the first compiles) and steps/s of the image tab's
 * run (its default U-Net, batch 32). Needs `npm run build` (dist/) and `npm run build:playground`.
 *   node playground/scripts/bench.mjs [--steps 1000] [--image-steps 40] [--threads 2] [--backends wasm,jax] [--webgpu]
 * Node: the library in a child with ONNX Runtime (onnxruntime-node) at --threads. The page: each
 * backend in turn (ONNX Runtime Web's wasm at --threads, jax-js), served cross-origin isolated;
 * --webgpu adds ONNX Runtime Web's WebGPU provider on Chromium's software adapter (SwiftShader), 2-D
 * training only (200 steps at most). onnxShare: the share of the page's training time spent waiting
 * for ONNX Runtime Web.
 */
import { spawnSync } from "node:child_process";
import { createServer } from "node:http";
import { existsSync, readFileSync } from "node:fs";
import { extname, join, normalize, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

const ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));
const { values: opt } = parseArgs({
  options: {
    steps: { type: "string", default: "1000" },
    "image-steps": { type: "string", default: "40" },
    threads: { type: "string", default: "2" },
    backends: { type: "string", default: "wasm,jax" },
    webgpu: { type: "boolean", default: false },
    chromium: { type: "string", default: "/usr/bin/chromium" },
  },
});
const [steps, imageSteps, threads] = [Number(opt.steps), Number(opt["image-steps"]), Number(opt.threads)];
const lib = (path) => import(pathToFileURL(join(ROOT, "dist", path)).href);
/** The image tab's default run (playground/index.html). */
const IMAGE_RUN = { unet: { base: 16, multipliers: [1, 2], attention: [] }, classes: 10, batch: 32, lr: 0.001, seed: 0 };

if (process.env.BENCH_CHILD) {
  const { configureEngine } = await lib("engine/configure.js");
  configureEngine({ threads: 1 });
  const vdm = await lib("index.js");
  await vdm.initEngine();
  const { onnxStepper, onnxModel } = vdm.onnx;
  const { numpy: np } = await lib("engine/jax.js");
  const out = {};
  // 2-D training: the Train tab's default run
  const moons = vdm.loadSplit("moons", 0);
  const config = vdm.runConfigFor("moons", moons, { steps, hidden: 128, layers: 3, batch: 256, lr: 0.002, schedule: "cosine", timesteps: 1000, seed: 0 });
  out.train2d = vdm.train(config, moons.train, { makeStepper: onnxStepper({ threads }) }).stepsPerSecond;
  // 16 images from the shipped model, as the Images tab draws them (second run timed)
  const shipped = vdm.loadRun(join(ROOT, "models", "fashion-mnist"));
  const fast = { model: onnxModel(shipped.denoiser.model, shipped.denoiser.params, { threads }), params: shipped.denoiser.params };
  const labels = Int32Array.from({ length: 16 }, (_, i) => i % 10);
  for (const k of [0, 1]) {
    const t0 = performance.now();
    vdm.drawSamples(
      { model: vdm.cfgModel(fast.model), params: { net: fast.params, labels: np.array(labels, { dtype: np.int32 }), scale: np.array([4]) } },
      shipped.process,
      { normalization: shipped.normalization, shape: [28, 28, 1], n: 16, rng: new vdm.Rng(0), sampler: new vdm.DpmSolverSampler(shipped.process, { steps: 20 }) },
    );
    out.images16 = (performance.now() - t0) / 1000;
  }
  // the image tab's run on the bundled subset
  const images = vdm.loadSplit("fashion-mnist", 0, { dataDir: join(ROOT, "data", "fashion-mnist") });
  const imageConfig = vdm.runConfigFor("fashion-mnist", images, { ...IMAGE_RUN, steps: imageSteps });
  out.trainImages = vdm.train(imageConfig, images.train, { makeStepper: onnxStepper({ threads }) }).stepsPerSecond;
  console.log(JSON.stringify(out));
  process.exit(0);
}

const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { env: { ...process.env, BENCH_CHILD: "1" }, encoding: "utf8" });
if (child.status !== 0) throw new Error(child.stderr);
const results = { steps, imageSteps, threads, node: { backend: `onnxruntime-node, ${threads} threads`, ...JSON.parse(child.stdout.trim().split("\n").pop()) }, page: {} };
console.error(`node: ${JSON.stringify(results.node)}`);

const site = join(ROOT, "dist-playground");
if (!existsSync(join(site, "index.html"))) throw new Error("build the playground first: npm run build:playground");
const TYPES = { ".html": "text/html", ".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css", ".json": "application/json", ".wasm": "application/wasm" };
const server = createServer((req, out) => {
  const file = join(site, normalize(decodeURIComponent(new URL(req.url, "http://x").pathname)).replace(/^[/\\]+/, "") || "index.html");
  if (!existsSync(file)) return void out.writeHead(404).end();
  out.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream", "cross-origin-opener-policy": "same-origin", "cross-origin-embedder-policy": "require-corp" });
  out.end(readFileSync(file));
});
const url = await new Promise((res) => server.listen(0, "127.0.0.1", () => res(`http://127.0.0.1:${server.address().port}/`)));
const { chromium } = await import(pathToFileURL(join(ROOT, "node_modules/playwright-core/index.mjs")).href);
const gpuArgs = ["--enable-unsafe-webgpu", "--use-webgpu-adapter=swiftshader", "--enable-features=Vulkan"];
const browser = await chromium.launch({ executablePath: opt.chromium, args: ["--headless", "--no-sandbox", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", ...(opt.webgpu ? gpuArgs : ["--disable-gpu"])] });
const backends = [...opt.backends.split(","), ...(opt.webgpu ? ["webgpu"] : [])];
for (const backend of backends) {
  const page = await browser.newPage();
  await page.goto(`${url}?backend=${backend}&threads=${threads}`);
  await page.waitForFunction(() => document.body.dataset.ready === "1" || document.getElementById("error").textContent, null, { timeout: 120000 });
  // each measurement as it lands (WebGPU on a software adapter is slow)
  await page.exposeFunction("benchReport", (key, value) => console.error(`${backend} ${key}: ${JSON.stringify(value)}`));
  // WebGPU on Chromium's software adapter: 2-D training only (the U-Nets take minutes per call there)
  const r = await page.evaluate(async ({ steps, imageSteps, IMAGE_RUN, only2d }) => {
    const { request } = window.vdm;
    const until = (f) => new Promise((res) => { const check = () => (f() ? res() : setTimeout(check, 50)); check(); });
    await request("data", { spec: "moons" });
    await request("configure", { data: "moons", hidden: 128, layers: 3, batch: 256, lr: 0.002, schedule: "cosine", timesteps: 1000, steps, seed: 0 });
    await request("start", {});
    await until(() => document.body.dataset.training === "done");
    const train2d = Number(document.body.dataset.stepsPerSecond);
    const onnxShare = Number(document.body.dataset.onnxShare);
    await window.benchReport("train2d", train2d);
    if (only2d) return { backend: document.getElementById("backend-info").textContent, train2d, onnxShare };
    let images16 = NaN;
    for (const k of [0, 1]) {
      images16 = (await request("images", { cls: -1, scale: 4, steps: 20, n: 16, seed: 0 })).ms / 1000;
      await window.benchReport(`images16 (run ${k + 1})`, images16);
    }
    const { unet, ...rest } = IMAGE_RUN;
    await request("imageConfigure", { ...unet, batch: rest.batch, lr: rest.lr, seed: rest.seed, steps: imageSteps });
    await request("imageStart", {});
    await until(() => document.body.dataset.imageTraining === "done");
    const trainImages = Number(document.body.dataset.imageStepsPerSecond);
    return { backend: document.getElementById("backend-info").textContent, train2d, onnxShare, images16, trainImages };
  }, { steps: backend === "webgpu" ? Math.min(steps, 200) : steps, imageSteps, IMAGE_RUN, only2d: backend === "webgpu" });
  results.page[backend] = r;
  await page.close();
}
await browser.close();
server.close();
console.log(JSON.stringify(results, null, 2));
