/**
 * `vdm train --data text:restaurants --process masked` end to end, on a tiny transformer: the ONNX
 * Runtime step and jax-js's give the same first loss; the report writes the held-out bound and the
 * masked food classifier; a run stopped and resumed equals one trained straight through, bit for
 * bit; and the refusals (a non-masking schedule, an unknown attribute, flags of another process,
 * a resumed run's contradicted process or attribute).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { BIN, refused, tempDir, vdm } from "../testing/cli.js";

const tiny = ["--data", "text:restaurants", "--process", "masked", "--width", "16", "--layers", "1", "--heads", "2", "--batch", "8"];
/** `vdm args`, sent Ctrl-C (SIGINT) once its stderr matches `ready`: its exit code and output. */
function vdmInterrupted(ready: RegExp, ...args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
      if (ready.test(stderr) && !child.killed) child.kill("SIGINT");
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stderr }));
  });
}

const json = (path: string) => JSON.parse(readFileSync(path, "utf8"));

describe("vdm train --process masked", () => {
  const root = tempDir("vdm-masked-");

  it("steps alike on ONNX Runtime and jax-js, and reports the held-out bound and the masked classifier", () => {
    const onnx = vdm(
      "train",
      ...tiny,
      "--conditional",
      "food",
      "--out",
      join(root, "onnx"),
      "--steps",
      "1",
      "--classifier-steps",
      "2",
      "--backend",
      "onnx",
      "--onnx-threads",
      "1",
      "--json",
    );
    assert.equal(onnx.code, 0, onnx.stderr);
    const metrics = JSON.parse(onnx.stdout);
    const jax = vdm(
      "train",
      ...tiny,
      "--conditional",
      "food",
      "--out",
      join(root, "jax"),
      "--steps",
      "1",
      "--no-report",
      "--backend",
      "jax",
      "--json",
    );
    assert.equal(jax.code, 0, jax.stderr);
    const jaxLoss = JSON.parse(jax.stdout).finalLoss;
    assert.ok(Math.abs(metrics.finalLoss - jaxLoss) <= 1e-4 * Math.abs(jaxLoss), `ONNX ${metrics.finalLoss} vs jax-js ${jaxLoss}`);
    const { bound } = metrics;
    assert.equal(bound.sentences, 500);
    assert.ok(bound.natsPerSentence > 0 && bound.seNats > 0);
    assert.ok(Math.abs(bound.bitsPerToken - bound.natsPerSentence / (bound.length * Math.LN2)) < 1e-9);
    assert.equal(metrics.conditional.attribute, "food");
    assert.deepEqual(json(join(root, "onnx", "metrics.json")).bound, bound);
    const clf = json(join(root, "onnx", "classifier-food", "config.json"));
    assert.equal(clf.task, "classifier");
    assert.equal(clf.model.kind, "masked-text");
    assert.equal(clf.model["masked-text"].outputs, metrics.conditional.classNames.length);
  });

  it("resumes bit for bit: a run stopped by Ctrl-C and resumed equals one trained straight through", async () => {
    const args = [...tiny, "--conditional", "price", "--cfg-dropout", "0.5", "--steps", "300", "--no-report", "--onnx-threads", "1"];
    const straight = vdm("train", ...args, "--out", join(root, "straight"));
    assert.equal(straight.code, 0, straight.stderr);
    const half = join(root, "half");
    const stopped = await vdmInterrupted(/^train \d+\/300/m, "train", ...args, "--out", half);
    assert.equal(stopped.code, 130, stopped.stderr);
    const rest = vdm("train", "--out", half, "--resume", "--process", "masked", "--conditional", "price", "--no-report");
    assert.equal(rest.code, 0, rest.stderr);
    assert.match(rest.stderr, /resuming .* at step \d+ of 300/);
    assert.ok(
      readFileSync(join(half, "state.safetensors")).equals(readFileSync(join(root, "straight", "state.safetensors"))),
      "resumed state differs",
    );
    refused(
      /--process diffusion-lm contradicts the run .* which has --process masked/,
      "train",
      "--out",
      half,
      "--resume",
      "--process",
      "diffusion-lm",
    );
    refused(
      /--conditional food contradicts the run .* which has --conditional price/,
      "train",
      "--out",
      half,
      "--resume",
      "--conditional",
      "food",
    );
    refused(
      /--cfg-dropout 0.1 contradicts the run .* which has --cfg-dropout 0.5/,
      "train",
      "--out",
      half,
      "--resume",
      "--cfg-dropout",
      "0.1",
    );
  });

  it("refuses a non-masking schedule, an unknown attribute and the masked flags without --process masked", () => {
    refused(
      /field "schedule" must be a masking schedule \(linear, cosine\), got "sqrt"/,
      "train",
      ...tiny,
      "--schedule",
      "sqrt",
      "--out",
      join(root, "bad"),
    );
    refused(/unknown attribute "flavour"/, "train", ...tiny, "--conditional", "flavour", "--out", join(root, "bad"));
    refused(
      /--conditional: apply to --process masked only/,
      "train",
      "--data",
      "text:restaurants",
      "--conditional",
      "food",
      "--out",
      join(root, "bad"),
    );
    refused(/--cfg-dropout applies to a --conditional run only/, "train", ...tiny, "--cfg-dropout", "0.2", "--out", join(root, "bad"));
    refused(/--embed-dim: does not apply to --process masked/, "train", ...tiny, "--embed-dim", "8", "--out", join(root, "bad"));
  });
});
