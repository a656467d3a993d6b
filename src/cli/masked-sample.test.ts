/**
 * `vdm sample` and `vdm eval-text` on a (tiny) masked-diffusion run: sentences from both masked
 * samplers, steered both ways and infilled; eval-text's bound beside the grammar's exact entropy;
 * the refusals of Diffusion-LM-only flags and of guidance the run cannot give.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { refused, tempDir, vdm } from "../testing/cli.js";
import { grammarEntropy } from "../text/entropy.js";

const tiny = ["--data", "text:restaurants", "--process", "masked", "--width", "16", "--layers", "1", "--heads", "2", "--batch", "8"];

describe("sampling and evaluating a masked run", () => {
  const root = tempDir("vdm-masked-sample-");
  const run = join(root, "run");
  const plain = join(root, "plain");
  before(() => {
    for (const [out, extra] of [
      [run, ["--conditional", "food"]],
      [plain, []],
    ] as const) {
      const r = vdm("train", ...tiny, ...extra, "--out", out, "--steps", "30", "--classifier-steps", "5", "--onnx-threads", "1", "--json");
      assert.equal(r.code, 0, r.stderr);
    }
  });

  it("samples with both samplers, steered by classifier-free guidance or the classifier, and infills keeping the fixed words", () => {
    for (const sampler of ["ancestral", "confidence"]) {
      const r = vdm("sample", "--model", run, "--n", "3", "--sampler", sampler, "--sample-steps", "8", "--json");
      assert.equal(r.code, 0, r.stderr);
      assert.equal(JSON.parse(r.stdout).samples.length, 3);
      for (const guidance of ["cfg", "classifier"]) {
        const g = vdm(
          "sample",
          "--model",
          run,
          "--n",
          "2",
          "--sampler",
          sampler,
          "--control",
          "food=Thai",
          "--guidance",
          guidance,
          "--json",
        );
        assert.equal(g.code, 0, g.stderr);
      }
      const pattern = "Cotto is an _ _ restaurant rated 5 out of 5.";
      const f = vdm("sample", "--model", run, "--n", "2", "--sampler", sampler, "--infill", pattern, "--json");
      assert.equal(f.code, 0, f.stderr);
      // the blanks may come out as <pad>, which sentences drop
      for (const s of JSON.parse(f.stdout).samples as string[]) assert.match(s, /^Cotto is an\b.*\brestaurant rated 5 out of 5\.$/);
    }
  });

  it("eval-text reports the bound beside the exact entropy, the discrete-time bound, and both ways of steering a conditional run", () => {
    const r = vdm("eval-text", "--model", run, "--n", "8", "--draws", "1", "--bound-timesteps", "4", "--json");
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    const H = grammarEntropy();
    assert.equal(report.process, "masked");
    assert.ok(Math.abs(report.entropy.bitsPerSentence - H.bits) < 1e-9);
    assert.ok(Math.abs(report.bound.bitsPerToken * report.entropy.length - report.bound.bitsPerSentence) < 1e-9);
    // an untrained model's bound lies far above the entropy (the floor no model can beat)
    assert.ok(report.bound.bitsPerSentence > H.bits + (4 * report.bound.seNats) / Math.LN2, JSON.stringify(report.bound));
    assert.deepEqual(
      report.bound.discrete.map((d: { timesteps: number }) => d.timesteps),
      [4],
    );
    assert.deepEqual(
      report.control.steered.map((s: { name: string }) => s.name),
      ["classifier-free guidance, w = 0", "classifier guidance, scale 10"],
    );
    assert.ok(report.samplesPerSecond > 0 && report.infill.keep === 0.5);
  });

  it("refuses Diffusion-LM's flags, Gaussian samplers, and classifier-free guidance of a run not conditional on the attribute", () => {
    refused(/--fluency and --no-clamp apply to Diffusion-LM runs/, "sample", "--model", run, "--fluency", "0.3");
    refused(
      /--sampler ddim is not a masked sampler \(known for masked runs: ancestral, confidence\)/,
      "sample",
      "--model",
      run,
      "--sampler",
      "ddim",
    );
    refused(
      /classifier-free guidance needs a run conditional on food/,
      "sample",
      "--model",
      plain,
      "--control",
      "food=Thai",
      "--guidance",
      "cfg",
    );
    refused(/--guidance must be cfg or classifier/, "sample", "--model", run, "--control", "food=Thai", "--guidance", "free");
  });
});
