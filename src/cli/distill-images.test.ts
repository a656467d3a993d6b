/**
 * `vdm distill` and `vdm nfe` on a tiny conditional U-Net (the bundled Fashion-MNIST subset): each
 * round's Fréchet distance and class accuracy, guidance folded into the first teacher only, a guided
 * student refusing guidance again, and nfe's class accuracy with two evaluations a cfg step.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { refused, tempDir, vdm, vdmJson } from "../testing/cli.js";

const root = tempDir("vdm-distill-images-");
const teacher = join(root, "teacher");
const fast = join(root, "fast");
const subsetDir = fileURLToPath(new URL("../../data/fashion-mnist", import.meta.url));
const json = (file: string) => JSON.parse(readFileSync(file, "utf8"));

before(() => {
  const t = vdm(
    "train",
    ...["--data", "fashion-mnist", "--data-dir", subsetDir, "--conditional", "--out", teacher],
    ...["--batch", "4", "--base", "8", "--multipliers", "1,2", "--attention", "1", "--steps", "3", "--quiet", "--no-report"],
  );
  assert.equal(t.code, 0, t.stderr);
  const d = vdm(
    "distill",
    ...["--model", teacher, "--out", fast, "--from-steps", "4", "--to-steps", "1", "--steps-per-round", "2"],
    ...["--cfg-scale", "2", "--n", "20", "--quiet"],
  );
  assert.equal(d.code, 0, d.stderr);
});

describe("distillation of a conditional image model", () => {
  it("reports each round's Fréchet distance and class accuracy, and folds the guidance into the first teacher only", () => {
    const { rounds } = json(join(fast, "metrics.json"));
    assert.deepEqual(
      rounds.map((r: { steps: number }) => r.steps),
      [2, 1],
    );
    for (const r of rounds) {
      assert.ok(r.frechet > 0 && r.noiseFloor > 0, JSON.stringify(r));
      // 20 samples, classes 0..9 in turn: the accuracy is a multiple of 1/20
      assert.ok(r.accuracy >= 0 && r.accuracy <= 1 && Number.isInteger(Math.round(r.accuracy * 20 * 1e6) / 1e6), JSON.stringify(r));
    }
    const [first, second] = [json(join(fast, "round-2", "config.json")).distill, json(join(fast, "round-1", "config.json")).distill];
    assert.deepEqual([first.guidance, first.teacherGuided], [2, undefined]);
    assert.deepEqual([second.guidance, second.teacherGuided], [2, true]);
  });

  it("a student carrying guidance refuses --guidance cfg; vdm nfe counts two evaluations a cfg step and reports class accuracy", {
    timeout: 300_000,
  }, () => {
    refused(
      /carries classifier-free guidance w = 2 already/,
      "sample",
      "--model",
      fast,
      "--class",
      "all",
      "--guidance",
      "cfg",
      "--n",
      "2",
      "--out",
      join(root, "x.npy"),
    );
    const { rows } = vdmJson(
      "nfe",
      ...["--model", teacher, "--samplers", "ddim", "--steps", "2", "--distilled", fast, "--n", "20", "--out", join(root, "nfe"), "--json"],
    );
    assert.deepEqual(
      rows.map((r: { sampler: string; steps: number; nfe: number; guidance: string }) => [r.sampler, r.steps, r.nfe, r.guidance]),
      [
        ["ddim", 2, 4, "cfg"],
        ["distilled", 1, 1, "none"],
        ["distilled", 2, 2, "none"],
      ],
    );
    for (const r of rows) assert.ok(r.accuracy >= 0 && r.accuracy <= 1 && r.error > 0, JSON.stringify(r));
  });
});
