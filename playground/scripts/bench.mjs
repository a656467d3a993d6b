/**
 * Training speed of the same model in Node and in the page, and the time to generate 16 images in
 * the page. Needs `npx tsc -p tsconfig.json --outDir DIST` (default dist/) and `npm run build:playground`.
 *   node playground/scripts/bench.mjs [--dist dist] [--steps 500] [--chromium /usr/bin/chromium]
 * Node runs the library's train() in a child: jax-js at 1 and 2 threads, and the ONNX Runtime stepper
 * (the CLI's default backend) at 1 thread; the page trains the same
 * config (moons, MLP 2→128×3→2, batch 256, cosine T = 1000, seed 0) in its worker, served
 * cross-origin isolated (jax-js's thread pool) and plain (one thread).
 */
import { spawnSync } from "node:child_process";
import { createServer } from "node:http";
import { existsSync, readFileSync } from "node:fs";
import { extname, join, normalize, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

const ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));
const { values: opt } = parseArgs({ options: { dist: { type: "string", default: "dist" }, steps: { type: "string", default: "500" }, chromium: { type: "string", default: "/usr/bin/chromium" }, "node-only": { type: "boolean", default: false } } });
const steps = Number(opt.steps);
const dist = resolve(ROOT, opt.dist);

if (process.env.BENCH_CHILD) {
  // the thread count is fixed before the library (jax-js) loads
  const { configureEngine } = await import(pathToFileURL(join(dist, "engine/configure.js")).href);
  configureEngine({ threads: Number(process.env.BENCH_THREADS) });
  const { initEngine, shutdownEngine } = await import(pathToFileURL(join(dist, "engine/index.js")).href);
  const { loadSplit } = await import(pathToFileURL(join(dist, "data/index.js")).href);
  const { runConfigFor } = await import(pathToFileURL(join(dist, "train/defaults.js")).href);
  const { train } = await import(pathToFileURL(join(dist, "train/trainer.js")).href);
  await initEngine();
  const split = loadSplit("moons", 0);
  const config = runConfigFor("moons", split, { steps, hidden: 128, layers: 3, batch: 256, lr: 0.002, schedule: "cosine", timesteps: 1000, seed: 0 });
  const backend = process.env.BENCH_BACKEND;
  const makeStepper = backend === "onnx" ? (await import(pathToFileURL(join(dist, "onnx/train.js")).href)).onnxStepper({ threads: 1 }) : undefined;
  const r = train(config, split.train, makeStepper ? { makeStepper } : {});
  console.log(JSON.stringify({ stepsPerSecond: r.stepsPerSecond, lastLoss: r.state.losses.at(-1) }));
  await shutdownEngine();
  process.exit(0);
}

const node = (threads, backend = "jax") => {
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), "--dist", opt.dist, "--steps", String(steps)], { env: { ...process.env, BENCH_CHILD: "1", BENCH_THREADS: String(threads), BENCH_BACKEND: backend }, encoding: "utf8" });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout.trim().split("\n").pop());
};
const results = { steps, node1: node(1), node2: node(2), nodeOnnx1: node(1, "onnx") };
if (!opt["node-only"]) {
  const site = join(ROOT, "dist-playground");
  if (!existsSync(join(site, "index.html"))) throw new Error("build the playground first: npm run build:playground");
  const TYPES = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".json": "application/json", ".wasm": "application/wasm" };
  const serve = (isolated) => new Promise((res) => {
    const server = createServer((req, out) => {
      const file = join(site, normalize(decodeURIComponent(new URL(req.url, "http://x").pathname)).replace(/^[/\\]+/, "") || "index.html");
      if (!existsSync(file)) return void out.writeHead(404).end();
      out.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream", ...(isolated ? { "cross-origin-opener-policy": "same-origin", "cross-origin-embedder-policy": "require-corp" } : {}) });
      out.end(readFileSync(file));
    });
    server.listen(0, "127.0.0.1", () => res({ server, url: `http://127.0.0.1:${server.address().port}/` }));
  });
  const { chromium } = await import(pathToFileURL(join(ROOT, "node_modules/playwright-core/index.mjs")).href);
  const browser = await chromium.launch({ executablePath: opt.chromium, args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"] });
  for (const isolated of [true, false]) {
    const { server, url } = await serve(isolated);
    const page = await browser.newPage();
    await page.goto(url);
    await page.waitForFunction(() => document.body.dataset.ready === "1", null, { timeout: 60000 });
    const engine = await page.textContent("#engine");
    await page.click("#tabs [data-tab=train]");
    await page.fill("#tr-steps", String(steps));
    await page.click("#tr-apply");
    await page.waitForFunction(() => document.body.dataset.step === "0");
    await page.click("#tr-start");
    await page.waitForFunction(() => document.body.dataset.training === "done" || document.getElementById("error").textContent, null, { timeout: 600000 });
    const speed = Number(await page.evaluate(() => document.body.dataset.stepsPerSecond));
    const lastLoss = await page.evaluate(() => window.vdm.losses().at(-1));
    let images = null;
    if (isolated || process.env.BENCH_IMAGES_BOTH) {
      await page.click("#tabs [data-tab=images]");
      await page.fill("#im-n", "16");
      await page.fill("#im-steps", "20");
      await page.fill("#im-scale", "4");
      // a first run compiles and loads the model; the second is timed
      for (const k of [0, 1]) {
        await page.evaluate(() => delete document.body.dataset.images);
        await page.click("#im-run");
        await page.waitForFunction(() => document.body.dataset.images || document.getElementById("error").textContent, null, { timeout: 600000 });
        images = { run: k, ms: Number(await page.evaluate(() => document.body.dataset.imagesMs)), info: await page.textContent("#im-info") };
      }
    }
    results[isolated ? "pageIsolated" : "pagePlain"] = { engine, stepsPerSecond: speed, lastLoss, images };
    await page.close();
    server.close();
  }
  await browser.close();
}
console.log(JSON.stringify(results, null, 2));
