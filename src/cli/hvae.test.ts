/**
 * `vdm train --net hvae` end to end on moons: a run resumed from 30 to 40 steps equals one trained
 * to 40 at once, bit for bit, and one trained in ONNX Runtime to float32 rounding; its report's held-out bound and per-level terms are what `vdm eval`
 * measures on the same points with the same seed; flags an HVAE does not take, and the diffusion
 * models' commands, are refused.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { refused, tempDir, vdm, vdmJson } from "../testing/cli.js";
import { assertClose } from "../testing/helpers.js";

const tiny = ["--data", "moons", "--net", "hvae", "--levels", "2", "--hidden", "16", "--layers", "2", "--quiet", "--onnx-threads", "1"];

describe("vdm train --net hvae", () => {
  it("resumes bit for bit, and its report is what vdm eval measures", () => {
    const root = tempDir("vdm-hvae-");
    const [once, resumed] = [join(root, "once"), join(root, "resumed")];
    assert.equal(vdm("train", ...tiny, "--steps", "40", "--out", once, "--no-report").code, 0);
    const first = vdm("train", ...tiny, "--steps", "30", "--out", resumed, "--no-report");
    assert.equal(first.code, 0, first.stderr);
    const metrics = vdmJson("train", "--resume", "--out", resumed, "--steps", "40", "--quiet", "--json");
    assert.deepEqual(readFileSync(join(resumed, "state.safetensors")), readFileSync(join(once, "state.safetensors")));
    // the same 40 steps in ONNX Runtime (the objective exported with its gradient): the same losses to float32 rounding
    const onnx = join(root, "onnx");
    assert.equal(vdm("train", ...tiny, "--steps", "40", "--out", onnx, "--no-report", "--backend", "onnx").code, 0);
    const finalLoss = (dir: string) => JSON.parse(readFileSync(join(dir, "metrics.json"), "utf8")).finalLoss;
    assertClose([finalLoss(onnx)], [finalLoss(once)], { rtol: 1e-5, label: "mean loss of 40 steps, ONNX vs jax-js" });
    assert.equal(metrics.net, "hvae");
    assert.equal(metrics.levels, 2);
    assert.equal(metrics.terms.consistency.length, 1);
    assert.ok(Number.isFinite(metrics.bpd) && metrics.bpd > 0 && metrics.bpdStdError > 0);
    assert.ok(metrics.energyDistance > 0 && metrics.noiseFloor > 0);
    // the report: all held-out points, the run's seed; eval with --n that many and --seed 0 draws the same paths
    const ev = vdmJson("eval", "--model", resumed, "--n", String(metrics.n), "--json");
    for (const key of ["bpd", "bpdStdError", "nats", "natsStdError", "terms"]) assert.deepEqual(ev[key], metrics[key], key);
    refused(/--sampler: a hierarchical VAE run/, "eval", "--model", resumed, "--sampler", "ddim");
    refused(
      /is a hierarchical VAE \(vdm train --net hvae\), not a diffusion model: vdm eval/,
      "sample",
      "--model",
      resumed,
      "--out",
      join(root, "s.png"),
    );
    refused(/--levels: the levels of a hierarchical VAE/, "train", "--levels", "3", "--out", join(root, "mlp"));
    refused(
      /--schedule: a hierarchical VAE has learned Gaussian levels/,
      "train",
      "--net",
      "hvae",
      "--schedule",
      "cosine",
      "--out",
      join(root, "x"),
    );
  });
});
