/**
 * The programs in examples/ (compiled to dist-examples/ by `npm run build`), each run as a user
 * would, importing the library by its package name.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const EXAMPLES = fileURLToPath(new URL("../dist-examples/", import.meta.url));

/** Run one example with `args`; its last stdout line is JSON. */
function example(name: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [join(EXAMPLES, `${name}.js`), ...args], { encoding: "utf8", timeout: 300_000 });
  assert.equal(r.status, 0, `${name}: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").pop()!);
}

describe("examples/", () => {
  it("train-and-sample: a short moons run samples closer to the data than the untrained model", () => {
    const trained = example("train-and-sample", "600");
    const untrained = example("train-and-sample", "1");
    assert.ok(
      trained.energyDistance < untrained.energyDistance / 5,
      `energy distance ${trained.energyDistance} after 600 steps, ${untrained.energyDistance} untrained`,
    );
  });

  it("evaluate-bits-per-dim: the shipped Fashion-MNIST model", () => {
    const r = example("evaluate-bits-per-dim", "20");
    assert.equal(r.images, 20);
    assert.ok(r.bitsPerDim > 2.5 && r.bitsPerDim < 4.5, `bits/dim ${r.bitsPerDim}`);
  });

  it("guided-sampling: trousers at w = 3 are classified as trousers", () => {
    const r = example("guided-sampling", "1", "3", "8");
    assert.equal(r.predicted.length, 8);
    assert.ok(r.accuracy >= 0.75, `predicted classes ${r.predicted}`);
  });

  it("export-onnx: writes the network, and ONNX Runtime agrees with jax-js where it is installed", () => {
    const out = join(mkdtempSync(join(tmpdir(), "vdm-example-")), "mlp.onnx");
    const r = example("export-onnx", out);
    assert.ok(r.bytes > 1000, `${r.bytes} bytes`);
    if (r.maxDifference !== null) assert.ok(r.maxDifference < 1e-4, `ONNX Runtime differs by ${r.maxDifference}`);
  });
});
