/** `vdm distill` end to end on a tiny moons teacher: rounds, metrics, resume bit for bit, and `vdm sample` at the native steps. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { refused, tempDir, vdm } from "../testing/cli.js";

const root = tempDir("vdm-distill-cli-");
const teacher = join(root, "teacher");
const tiny = ["--steps-per-round", "4", "--n", "100", "--quiet", "--backend", "jax"];

before(() => {
  const r = vdm(
    "train",
    "--data",
    "moons",
    "--out",
    teacher,
    "--steps",
    "30",
    "--hidden",
    "16",
    "--quiet",
    "--no-report",
    "--backend",
    "jax",
  );
  assert.equal(r.code, 0, r.stderr);
});

const json = (file: string) => JSON.parse(readFileSync(file, "utf8"));

describe("vdm distill", () => {
  it("distills 4 → 2 → 1 steps, resumes a later round bit for bit, and vdm sample takes the student's native step", {
    timeout: 600_000,
  }, () => {
    const whole = join(root, "whole");
    const r = vdm("distill", "--model", teacher, "--out", whole, "--from-steps", "4", "--to-steps", "1", ...tiny);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /round 1\/2: 2 DDIM steps, .*energy distance .*noise floor/);
    assert.match(r.stdout, /round 2\/2: 1 DDIM steps/);
    const metrics = json(join(whole, "metrics.json"));
    assert.deepEqual(
      metrics.rounds.map((m: { steps: number }) => m.steps),
      [2, 1],
    );
    assert.ok(metrics.rounds.every((m: { energyDistance: number }) => Number.isFinite(m.energyDistance)));
    const config = json(join(whole, "config.json"));
    assert.deepEqual(config.distill, { teacher: join(whole, "round-2"), steps: 1, sampler: "ddim", spacing: "trailing" });
    assert.equal(json(join(whole, "round-2", "config.json")).distill.teacher, teacher);

    // one round, then --resume with a further round: the same student bit for bit
    const parts = join(root, "parts");
    assert.equal(vdm("distill", "--model", teacher, "--out", parts, "--from-steps", "4", "--to-steps", "2", ...tiny).code, 0);
    const resumed = vdm("distill", "--model", teacher, "--out", parts, "--from-steps", "4", "--to-steps", "1", "--resume", ...tiny);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.deepEqual(readFileSync(join(parts, "state.safetensors")), readFileSync(join(whole, "state.safetensors")));

    // vdm sample --model FAST: DDIM on the student's own trailing level, unless told otherwise
    const sample = (name: string, ...flags: string[]) => {
      const out = join(root, `${name}.json`);
      const s = vdm("sample", "--model", whole, "--n", "20", "--out", out, "--backend", "jax", ...flags);
      assert.equal(s.code, 0, s.stderr);
      return readFileSync(out, "utf8");
    };
    const native = sample("native");
    assert.equal(native, sample("explicit", "--sampler", "ddim", "--sample-steps", "1", "--spacing", "trailing"));
    assert.notEqual(native, sample("dpm", "--sampler", "dpm++2m"));
  });

  it("refuses what it cannot do", () => {
    refused(/--model RUN is required/, "distill", "--out", join(root, "x"));
    refused(/power of two/, "distill", "--model", teacher, "--out", join(root, "x"), "--from-steps", "12", "--to-steps", "4");
    refused(/holds no distillation to continue/, "distill", "--model", teacher, "--out", join(root, "none"), "--resume");
    refused(
      /already holds a distillation/,
      "distill",
      "--model",
      teacher,
      "--out",
      join(root, "whole"),
      "--from-steps",
      "4",
      "--to-steps",
      "1",
    );
  });
});
