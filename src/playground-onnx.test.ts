/**
 * The playground on ONNX Runtime Web (its default backend) against jax-js in the same page: the
 * same checkpoint's forward pass and sampler step, the same run's training steps, each backend's
 * outputs within float32 tolerance of the other's; ONNX Runtime Web's WebGPU provider on Chromium's
 * software adapter; and the image tab's run, trained in the page, loss falling, downloaded, sampled
 * by `vdm sample` and loaded back. Nothing is fetched from outside the site.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Page } from "playwright-core";
import { loadSplit } from "./data/index.js";
import { tree } from "./engine/jax.js";
import { assertClose, useEngine } from "./testing/helpers.js";
import { type Playground, serve, startPlayground, waitForPage } from "./testing/playground.js";
import { runConfigFor } from "./train/defaults.js";
import { loadRun } from "./train/load.js";
import { train } from "./train/trainer.js";

useEngine("wasm");

const X = [-1, 0.5, 0, 0, 1.2, -0.3, 2, 1, -0.5, -1.5, 0.3, 0.8, -2, 2, 1, 1];
const T = [0.02, 0.1, 0.25, 0.4, 0.55, 0.7, 0.85, 0.98];
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe("the playground on ONNX Runtime Web", { timeout: 600_000 }, () => {
  let playground: Playground | undefined;
  const errors: string[] = [];
  const work = mkdtempSync(join(tmpdir(), "vdm-playground-onnx-"));
  const cliRun = join(work, "cli-run");

  /** A page on `backend` (`?backend=`), ready. */
  async function open(backend: string): Promise<Page> {
    const page = await playground!.browser.newPage({ acceptDownloads: true });
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(`console (${backend}): ${m.text()}`);
    });
    page.on("pageerror", (e) => errors.push(`page (${backend}): ${e.message}`));
    // the site is self-contained (ONNX Runtime Web's wasm bundled): nothing is fetched from elsewhere
    page.on("request", (r) => {
      if (!/^(blob|data):/.test(r.url()) && !r.url().startsWith(playground!.url)) errors.push(`fetched from outside the site: ${r.url()}`);
    });
    await page.goto(`${playground!.url}?backend=${backend}`);
    await waitForPage(page, `document.body.dataset.ready === "1"`, 120_000);
    return page;
  }
  const request = <R>(page: Page, type: string, args: object): Promise<R> =>
    page.evaluate(
      ([t, a]) =>
        (window as unknown as { vdm: { request: (t: string, a: object) => Promise<unknown> } }).vdm.request(t as string, a as object),
      [type, args] as const,
    ) as Promise<R>;
  /** Save the page's 2-D run (`save`) as a CLI run folder. */
  async function saveRun(page: Page, dir: string, type = "save"): Promise<void> {
    const r = await page.evaluate(async (t) => {
      const s = await (
        window as unknown as { vdm: { request: (t: string, a: object) => Promise<{ config: string; state: Uint8Array }> } }
      ).vdm.request(t, {});
      return { config: s.config, state: Array.from(s.state) };
    }, type);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "config.json"), r.config);
    writeFileSync(join(dir, "state.safetensors"), Uint8Array.from(r.state));
  }
  const predict = (page: Page) => request<{ prediction: number[] }>(page, "predict", { x: X, t: T }).then((r) => r.prediction);
  const sampleStep = (page: Page) =>
    request<{ points: Float32Array }>(page, "sample", { sampler: "ddim", steps: 1, n: 64, seed: 5, paths: 1 }).then((r) =>
      Array.from(Object.values(r.points) as number[]),
    );

  before(async () => {
    playground = await startPlayground(join(work, "site"), { webgpu: true });
    const split = loadSplit("moons", 0, { train: 2000, test: 500 });
    const config = runConfigFor("moons", split, { steps: 60, hidden: 32, layers: 2, batch: 128, seed: 4 });
    const { state } = train(config, split.train, { checkpointDir: cliRun });
    tree.dispose([state.params, state.ema, state.adam]);
  });

  after(async () => {
    await playground?.close();
    rmSync(work, { recursive: true, force: true });
  });

  let jaxPrediction: number[] = [];
  it("runs ONNX Runtime Web's wasm by default; its forward pass and sampler step equal jax-js's on the same checkpoint", async () => {
    const page = await open("wasm");
    assert.match((await page.textContent("#backend-info")) ?? "", /^ONNX Runtime Web 1\.30\.0 \(wasm, SIMD, 2 threads\)$/);
    await page.setInputFiles("#tr-load", [join(cliRun, "config.json"), join(cliRun, "state.safetensors")]);
    await waitForPage(page, `document.body.dataset.loaded === "training state:60"`);
    const [onnxPrediction, onnxSample] = [await predict(page), await sampleStep(page)];
    const switched = await request<{ backend: string }>(page, "backend", { backend: "jax" });
    assert.equal(switched.backend, "jax");
    jaxPrediction = await predict(page);
    const jaxSample = await sampleStep(page);
    assertClose(onnxPrediction, jaxPrediction, { rtol: 1e-4, atol: 1e-5, label: "prediction (ONNX Runtime Web vs jax-js)" });
    // two engines computed them: equal within rounding, not bit for bit (one engine answering twice would be)
    assert.notDeepEqual(onnxPrediction, jaxPrediction);
    assertClose(onnxSample, jaxSample, { rtol: 1e-4, atol: 1e-4, label: "one DDIM step (ONNX Runtime Web vs jax-js)" });
    await page.close();
  });

  it("takes the same training steps as jax-js: losses within float32 rounding, parameters within lr per step", async () => {
    const page = await open("wasm");
    await request(page, "data", { spec: "moons" });
    const settings = { data: "moons", hidden: 32, layers: 2, batch: 64, lr: 0.002, schedule: "cosine", timesteps: 1000, steps: 8, seed: 1 };
    const runs: Record<string, ReturnType<typeof loadRun>> = {};
    for (const backend of ["wasm", "jax"]) {
      await request(page, "backend", { backend });
      await request(page, "configure", settings);
      await request(page, "start", {});
      await waitForPage(page, `document.body.dataset.training === "done"`);
      // where the steps ran: ONNX Runtime Web took most of the time on wasm, none on jax-js
      const share = Number(await page.evaluate(() => document.body.dataset.onnxShare));
      assert.ok(backend === "wasm" ? share > 0.5 : !(share > 0), `${backend}: share of time in ONNX Runtime Web ${share}`);
      await saveRun(page, join(work, `steps-${backend}`));
      runs[backend] = loadRun(join(work, `steps-${backend}`), { ema: false });
    }
    const [a, b] = [runs.jax!.state!, runs.wasm!.state!];
    assert.equal(b.step, 8);
    assertClose(Array.from(b.losses), Array.from(a.losses), { rtol: 1e-4, label: "losses (ONNX Runtime Web vs jax-js)" });
    const values = (p: typeof a.params) => (tree.leaves(p) as { dataSync(): ArrayLike<number> }[]).flatMap((l) => Array.from(l.dataSync()));
    assertClose(values(b.params), values(a.params), { atol: settings.lr * settings.steps, label: "params" });
    await page.close();
  });

  it("runs the forward pass on ONNX Runtime Web's WebGPU provider (Chromium's SwiftShader adapter), equal to jax-js's", async () => {
    const page = await open("webgpu");
    const info = (await page.textContent("#backend-info")) ?? "";
    console.log(`# WebGPU: ${info}`);
    assert.match(info, /^ONNX Runtime Web 1\.30\.0 \(WebGPU: /, `the page fell back: ${info}`);
    await page.setInputFiles("#tr-load", [join(cliRun, "config.json"), join(cliRun, "state.safetensors")]);
    await waitForPage(page, `document.body.dataset.loaded === "training state:60"`);
    assertClose(await predict(page), jaxPrediction, { rtol: 1e-3, atol: 1e-4, label: "prediction (WebGPU vs jax-js)" });
    await page.close();
  });

  it("trains a Fashion-MNIST U-Net in the page: the loss falls, samples show, the run loads in `vdm sample` and back in the page", async () => {
    const page = await open("wasm");
    await page.click("#tabs [data-tab=image-train]");
    await page.fill("#it-base", "8");
    await page.fill("#it-batch", "16");
    await page.fill("#it-steps", "40");
    await page.fill("#it-sample-steps", "2");
    await page.click("#it-new");
    await waitForPage(page, `document.body.dataset.imageStep === "0"`);
    await page.click("#it-start");
    await waitForPage(page, `document.body.dataset.imageTraining === "done" && document.body.dataset.imageGridStep === "40"`, 300_000);
    const losses = await page.evaluate(() => (window as unknown as { vdm: { imageLosses: () => number[] } }).vdm.imageLosses());
    assert.equal(losses.length, 40);
    const [first, last] = [mean(losses.slice(0, 8)), mean(losses.slice(-8))];
    assert.ok(last < 0.8 * first, `loss fell from ${first} to ${last}`);
    const dir = join(work, "image-run");
    await saveRun(page, dir, "imageSave");
    const runner = join(work, "vdm.mjs");
    writeFileSync(
      runner,
      `import { start } from ${JSON.stringify(new URL("./cli/start.js", import.meta.url).href)};\nprocess.exitCode = await start(process.argv.slice(2), process.env);\n`,
    );
    const r = spawnSync(
      process.execPath,
      [runner, "sample", "--model", dir, "--n", "4", "--sample-steps", "2", "--out", join(dir, "s.png")],
      {
        encoding: "utf8",
        timeout: 120_000,
      },
    );
    assert.equal(r.status, 0, `vdm sample --model <page's image run>: ${r.stderr}`);
    await page.setInputFiles("#it-load", [join(dir, "config.json"), join(dir, "state.safetensors")]);
    await waitForPage(page, `document.body.dataset.imageLoaded === "40"`);
    await page.close();
  });

  it("falls back to jax-js on one thread, saying why, where the host sends no COOP/COEP headers", async () => {
    const { server, url } = await serve(join(work, "site"), { isolated: false });
    try {
      const page = await playground!.browser.newPage();
      await page.goto(url);
      await waitForPage(page, `document.body.dataset.ready === "1"`, 120_000);
      assert.equal(await page.textContent("#engine"), "Engine: jax-js on wasm, 1 thread.");
      assert.match(
        (await page.textContent("#backend-info")) ?? "",
        /^jax-js: ONNX Runtime Web could not start \(ONNX Runtime Web needs SharedArrayBuffer/,
      );
      await page.close();
    } finally {
      server.close();
    }
  });

  it("logged no console errors along the way", () => {
    assert.deepEqual(errors, []);
  });
});
