/**
 * The browser playground (playground/) end to end in a real browser: Vite builds the static site,
 * a small static server serves it cross-origin isolated, and Debian's Chromium (headless, driven
 * by playwright-core) uses it like a person would. The page's numbers are checked against the
 * library in Node on the same checkpoint, and checkpoints go both ways: page → CLI and CLI → page.
 * Screenshots land in artifacts/playground/.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Page } from "playwright-core";
import { loadSplit } from "./data/index.js";
import { Rng } from "./engine/index.js";
import { numpy as np, tree } from "./engine/jax.js";
import { heldOutElbo } from "./eval/run.js";
import { assertClose, useEngine } from "./testing/helpers.js";
import { ARTIFACTS, type Playground, ROOT, startPlayground, waitForPage } from "./testing/playground.js";
import { runConfigFor } from "./train/defaults.js";
import { loadRun } from "./train/load.js";
import { train } from "./train/trainer.js";

useEngine("wasm");

/** Fixed inputs for forward passes: 8 points at 8 times. */
const X = [-1, 0.5, 0, 0, 1.2, -0.3, 2, 1, -0.5, -1.5, 0.3, 0.8, -2, 2, 1, 1];
const T = [0.02, 0.1, 0.25, 0.4, 0.55, 0.7, 0.85, 0.98];

/** The network's prediction at (X, T) for a run rebuilt from a checkpoint directory, as the CLI rebuilds it (`loadRun`). */
function nodePrediction(dir: string): number[] {
  const run = loadRun(dir);
  const gammas = T.map((t) => run.process.gammaAt(t));
  const pred = run.denoiser.model.apply(
    tree.ref(run.denoiser.params),
    np.array(Float32Array.from(X)).reshape([8, 2]),
    np.array(Float32Array.from(T)),
    np.array(Float32Array.from(gammas)),
  );
  return Array.from(pred.dataSync() as Float32Array);
}

describe("the browser playground", { timeout: 240_000 }, () => {
  let playground: Playground | undefined;
  let page: Page;
  const errors: string[] = [];
  const work = mkdtempSync(join(tmpdir(), "vdm-playground-"));

  /** Call the page's worker (the page's test hook). */
  const request = <R>(type: string, args: object): Promise<R> =>
    page.evaluate(
      ([t, a]) =>
        (window as unknown as { vdm: { request: (t: string, a: object) => Promise<unknown> } }).vdm.request(t as string, a as object),
      [type, args] as const,
    ) as Promise<R>;
  const waitFor = (condition: string, timeout?: number) => waitForPage(page, condition, timeout);
  const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
  const tab = (name: string) => page.click(`#tabs [data-tab=${name}]`);

  before(async () => {
    playground = await startPlayground(join(work, "site"));
    page = await playground.browser.newPage({ viewport: { width: 1200, height: 900 }, acceptDownloads: true });
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(`console: ${m.text()}`);
    });
    page.on("pageerror", (e) => errors.push(`page: ${e.message}`));
    await page.goto(playground.url);
    await waitFor(`document.body.dataset.ready === "1"`, 60_000);
  });

  after(async () => {
    await playground?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it("loads cross-origin isolated with jax-js running, and no console errors", async () => {
    assert.match((await page.textContent("#engine")) ?? "", /jax-js on wasm, \d+ threads? \(cross-origin isolated\)/);
    assert.deepEqual(errors, []);
    await shot("data");
  });

  let untrainedEnergy = NaN;
  it("trains 200 steps on moons live: the loss falls, and samples get closer to the data than an untrained model's", async () => {
    await tab("train");
    await page.fill("#tr-steps", "200");
    await page.click("#tr-apply");
    await waitFor(`document.body.dataset.step === "0"`);
    // the untrained model's samples (same sampler and seed as after training)
    await tab("sampling");
    await page.click("#smp-run");
    await waitFor(`document.body.dataset.sampled === "1"`);
    untrainedEnergy = Number(await page.evaluate(() => document.body.dataset.energy));
    await tab("train");
    await page.click("#tr-start");
    await waitFor(`document.body.dataset.training === "done"`);
    const losses = await page.evaluate(() => (window as unknown as { vdm: { losses: () => number[] } }).vdm.losses());
    assert.equal(losses.length, 200);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const [first, last] = [mean(losses.slice(0, 20)), mean(losses.slice(-20))];
    assert.ok(last < 0.8 * first, `loss fell from ${first} to ${last}`);
    const speed = Number(await page.evaluate(() => document.body.dataset.stepsPerSecond));
    assert.ok(speed > 0, `steps/s ${speed}`);
    console.log(`# in-page training: ${speed.toFixed(1)} steps/s (moons MLP 2→128×3→2, batch 256)`);
    await page.waitForTimeout(600); // the loss chart's last render
    await shot("train");

    await tab("sampling");
    await page.evaluate(() => delete document.body.dataset.sampled);
    await page.click("#smp-run");
    await waitFor(`document.body.dataset.sampled === "1"`);
    const trainedEnergy = Number(await page.evaluate(() => document.body.dataset.energy));
    assert.ok(trainedEnergy < untrainedEnergy / 2, `energy distance ${trainedEnergy} (trained) vs ${untrainedEnergy} (untrained)`);
    await shot("sample");
  });

  it("shows the forward process, the ELBO's terms and the score field", async () => {
    await tab("forward");
    await page.fill("#fwd-t", "0.5");
    await page.dispatchEvent("#fwd-t", "input");
    await waitFor(`/SNR\\(t\\) = /.test(document.getElementById("fwd-info").textContent) && document.querySelector("#fwd-chart svg")`);
    await shot("forward");
    await tab("elbo");
    await page.click("#elbo-run");
    await waitFor(`document.body.dataset.elbo !== undefined && document.querySelector("#elbo-chart svg")`);
    assert.ok(Number.isFinite(Number(await page.evaluate(() => document.body.dataset.elbo))));
    await shot("elbo");
    await tab("score");
    await waitFor(`document.querySelector("#sc-chart svg")`);
  });

  it("downloads a checkpoint that the CLI loads, with the same forward pass", async () => {
    const dir = join(work, "from-page");
    mkdirSync(dir);
    await tab("train");
    const downloads: Promise<void>[] = [];
    const got = new Promise<void>((resolve) => {
      page.on("download", (d) => {
        downloads.push(d.saveAs(join(dir, d.suggestedFilename())));
        if (downloads.length === 2) resolve();
      });
    });
    await page.click("#tr-save");
    await got;
    await Promise.all(downloads);
    assert.ok(existsSync(join(dir, "config.json")) && existsSync(join(dir, "state.safetensors")));
    const inPage = await request<{ prediction: number[] }>("predict", { x: X, t: T });
    assertClose(inPage.prediction, nodePrediction(dir), { rtol: 1e-4, atol: 1e-5, label: "prediction (page vs Node)" });
    // and the command line samples from it
    // (the CLI of this build: bin/vdm.js with this folder's cli/ in place of dist/cli/)
    const runner = join(work, "vdm.mjs");
    writeFileSync(
      runner,
      `import { start } from ${JSON.stringify(new URL("./cli/start.js", import.meta.url).href)};\nprocess.exitCode = await start(process.argv.slice(2), process.env);\n`,
    );
    const out = join(dir, "samples.json");
    const r = spawnSync(process.execPath, [runner, "sample", "--model", dir, "--n", "20", "--out", out], {
      encoding: "utf8",
      timeout: 120_000,
    });
    assert.equal(r.status, 0, `vdm sample --model <page checkpoint>: ${r.stderr}`);
    assert.ok(existsSync(out), r.stdout);
  });

  it("loads a CLI run and agrees with Node on its forward pass and ELBO (same seed)", async () => {
    const dir = join(work, "from-cli");
    const split = loadSplit("moons", 0);
    const config = runConfigFor("moons", split, { steps: 60, hidden: 32, layers: 2, batch: 128, seed: 4 });
    const { state } = train(config, split.train, { checkpointDir: dir });
    tree.dispose([state.params, state.ema, state.adam]);
    await tab("train");
    await page.setInputFiles("#tr-load", [join(dir, "config.json"), join(dir, "state.safetensors")]);
    await waitFor(`document.body.dataset.loaded === "training state:60"`);
    const inPage = await request<{ prediction: number[] }>("predict", { x: X, t: T });
    assertClose(inPage.prediction, nodePrediction(dir), { rtol: 1e-4, atol: 1e-5, label: "prediction (page vs Node)" });
    const elbo = await request<{ nats: number; terms: { reconstruction: number; prior: number; diffusion: number } }>("elbo", {
      n: 200,
      seed: 3,
    });
    const run = loadRun(dir);
    const test = { points: split.test.points.slice(0, 400), n: 200, dim: 2 };
    const node = heldOutElbo(run.denoiser, run.process, test, { normalization: run.normalization, rng: new Rng(3), samples: 16 });
    assertClose(
      [elbo.nats, elbo.terms.reconstruction, elbo.terms.prior, elbo.terms.diffusion],
      [node.nats, node.terms.reconstruction, node.terms.prior, node.terms.diffusion],
      { rtol: 1e-3, atol: 1e-6, label: "ELBO (page vs Node)" },
    );
    console.log(`# ELBO of the CLI run: page ${elbo.nats} nats, Node ${node.nats} nats`);
  });

  it("annealed Langevin puts ~0.8 of the samples in the heavy mode of ncsn-gmm; plain Langevin does not", async () => {
    const n = 2000;
    await tab("score");
    await page.fill("#lg-n", String(n));
    await page.fill("#lg-steps", "300");
    await page.click("#lg-run");
    await waitFor(`document.body.dataset.annealedHeavy !== undefined`);
    const annealed = Number(await page.evaluate(() => document.body.dataset.annealedHeavy));
    const plain = Number(await page.evaluate(() => document.body.dataset.plainHeavy));
    const se = Math.sqrt((0.8 * 0.2) / n);
    // 4 binomial standard errors, plus the sampler's own finite-budget bias (0.798 at 300 steps per level, n = 10,000)
    assert.ok(Math.abs(annealed - 0.8) < 4 * se + 0.005, `annealed heavy-mode share ${annealed} vs 0.8 ± ${4 * se}`);
    assert.ok(Math.abs(plain - 0.8) > 10 * se, `plain Langevin's heavy-mode share ${plain} should be far from 0.8`);
    await shot("score");
  });

  it("samples with classifier-free guidance", async () => {
    await tab("guidance");
    await waitFor(`document.body.dataset.guidance !== undefined`);
    await page.fill("#gd-scale", "4");
    await page.dispatchEvent("#gd-scale", "input");
    await waitFor(`/^w = 4:/.test(document.getElementById("gd-info").textContent)`);
    assert.ok(Number(await page.evaluate(() => document.body.dataset.guidance)) > 0.9);
    await shot("guidance");
  });

  it("renders a grid of Fashion-MNIST images from the shipped model", async () => {
    await tab("images");
    await page.fill("#im-n", "4");
    await page.fill("#im-steps", "4");
    await page.click("#im-run");
    await waitFor(`document.body.dataset.images === "4"`);
    const spread = await page.evaluate(() => {
      const c = document.getElementById("im-canvas") as HTMLCanvasElement;
      const d = c.getContext("2d")!.getImageData(0, 0, c.width, c.height).data;
      let [s, s2, n] = [0, 0, 0];
      for (let i = 0; i < d.length; i += 4) {
        s += d[i]!;
        s2 += d[i]! ** 2;
        n++;
      }
      return { width: c.width, std: Math.sqrt(s2 / n - (s / n) ** 2) };
    });
    assert.equal(spread.width, 2 * 28 * 4);
    assert.ok(spread.std > 20, `the grid is blank (pixel std ${spread.std})`);
    await shot("images");
  });

  it("the page's own TypeScript type-checks (playground/tsconfig.json)", () => {
    const r = spawnSync(
      process.execPath,
      [join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", join(ROOT, "playground", "tsconfig.json")],
      { encoding: "utf8", timeout: 120_000 },
    );
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });

  it("logged no console errors along the way", () => {
    assert.deepEqual(errors, []);
  });
});
