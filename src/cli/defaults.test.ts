/**
 * The library's defaults are the CLI's: `vdm sample` with no sampler flags draws bit for bit what
 * `drawSamples` draws when given no sampler, stream or count (DPM-Solver++ 2M on 20 levels, seed 0,
 * 1000 samples), and of a text run what `sampleSentences` draws given no options (DDIM on 50 levels
 * with clamping, seed 0; 20 sentences, vdm sample's default); and `vdm train` and `vdm train-classifier`
 * with no flags but the steps write the config `runConfigFor` makes given only the steps (and, for a
 * classifier, its classes). The CLI runs the network on jax-js here (--backend jax), as the library does: its
 * default "auto" picks ONNX Runtime where it loads, a runtime and not a sampling choice.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { loadSplit } from "../data/index.js";
import { drawSamples } from "../eval/run.js";
import { vdm } from "../testing/cli.js";
import { useEngine } from "../testing/helpers.js";
import { loadTextLM, sampleSentences } from "../text/sample.js";
import { runConfigFor } from "../train/defaults.js";
import { loadRun } from "../train/load.js";
import { train } from "../train/trainer.js";

useEngine("wasm");

describe("the library's defaults are the CLI's", { timeout: 120_000 }, () => {
  const configOf = (dir: string) => JSON.parse(readFileSync(join(dir, "config.json"), "utf8")) as unknown;

  it("trains a denoiser and a classifier with the config the library makes by default", () => {
    const root = mkdtempSync(join(tmpdir(), "vdm-defaults-train-"));
    const split = loadSplit("moons", 0);
    const den = vdm("train", "--data", "moons", "--out", join(root, "den"), "--steps", "2", "--no-report", "--backend", "jax");
    assert.equal(den.code, 0, den.stderr);
    assert.deepEqual(configOf(join(root, "den")), runConfigFor("moons", split, { steps: 2 }));
    const cls = vdm("train-classifier", "--data", "moons", "--out", join(root, "cls"), "--steps", "2", "--no-report", "--backend", "jax");
    assert.equal(cls.code, 0, cls.stderr);
    assert.deepEqual(configOf(join(root, "cls")), runConfigFor("moons", split, { steps: 2, classifierClasses: 2 }));
  });

  it("samples a trained model exactly as vdm sample does by default", () => {
    const dir = mkdtempSync(join(tmpdir(), "vdm-defaults-"));
    const split = loadSplit("moons", 0);
    train(runConfigFor("moons", split, { steps: 30, hidden: 16, layers: 2, batch: 64, seed: 1 }), split.train, { checkpointDir: dir });
    const out = join(dir, "x.json");
    const r = vdm("sample", "--model", dir, "--out", out, "--backend", "jax");
    assert.equal(r.code, 0, r.stderr);
    const cli = Float32Array.from((JSON.parse(readFileSync(out, "utf8")) as number[][]).flat());
    const run = loadRun(dir);
    const library = drawSamples(run.denoiser, run.process, { shape: [2], normalization: run.normalization });
    assert.equal(cli.length, 2000);
    assert.deepEqual(library, cli);
  });

  it("samples a text run exactly as vdm sample does by default", () => {
    const dir = join(mkdtempSync(join(tmpdir(), "vdm-defaults-text-")), "run");
    const args = ["--steps", "20", "--width", "32", "--layers", "1", "--heads", "2", "--embed-dim", "8", "--no-report", "--backend", "jax"];
    const t = vdm("train", "--data", "text:restaurants", "--out", dir, ...args);
    assert.equal(t.code, 0, t.stderr);
    const r = vdm("sample", "--model", dir, "--json");
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((JSON.parse(r.stdout) as { samples: string[] }).samples, sampleSentences(loadTextLM(dir), 20));
  });
});
