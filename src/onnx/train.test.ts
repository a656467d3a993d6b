/**
 * Training with the step in ONNX Runtime against the same run in jax-js: the same losses step by
 * step and the same parameters, in discrete and continuous time; ONNX steps write the same
 * checkpoints, so a run may switch backends on --resume.
 */
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { loadSplit } from "../data/index.js";
import { fitNormalization } from "../data/normalize.js";
import { namedLeaves } from "../io/checkpoint.js";
import { assertClose, useEngine } from "../testing/helpers.js";
import { makeRunConfig, type RunConfig, type RunOptions } from "../train/config.js";
import { loadRun } from "../train/load.js";
import { NonFiniteLossError, train } from "../train/trainer.js";
import { onnxStepper } from "./train.js";

useEngine("wasm");

const tmp = (name: string) => mkdtempSync(join(tmpdir(), `vdm-onnx-${name}-`));
const split = loadSplit("moons", 0, { train: 2000, test: 1000 });
const z = fitNormalization(split.train);

function tinyConfig(options: RunOptions = {}): RunConfig {
  const config = makeRunConfig({ spec: "moons", dim: 2, ...z, train: split.train.n, test: split.test.n }, { steps: 40, hidden: 16, layers: 2, batch: 32, ...options });
  return { ...config, checkpointEvery: 10 };
}

const values = (t: Parameters<typeof namedLeaves>[0]) => Float32Array.from(namedLeaves(t, "p").flatMap(([, a]) => Array.from(a.ref.dataSync() as Float32Array)));

/**
 * Both backends run the same float32 operations in different orders: losses agree to ~1e−6
 * relative after 40 steps; 1e−4 leaves room. Parameters: Adam divides each gradient entry by its
 * own running RMS, so an entry whose gradient is at rounding level can move by up to lr per step
 * differently; lr·steps bounds that, and every other entry agrees far closer.
 */
function assertSameRun(a: ReturnType<typeof train>["state"], b: ReturnType<typeof train>["state"], config: RunConfig) {
  assertClose(b.losses, a.losses, { rtol: 1e-4, label: "losses" });
  assertClose(values(b.params), values(a.params), { atol: config.adam.lr * config.steps, label: "params" });
  assertClose(values(b.ema), values(a.ema), { atol: config.adam.lr * config.steps, label: "ema" });
}

describe("training steps in ONNX Runtime", () => {
  for (const options of [{}, { timesteps: 0, loss: "elbo" as const, target: "v" as const }]) {
    it(`match jax-js's, loss for loss (${JSON.stringify(options)})`, () => {
      const config = tinyConfig(options);
      const ours = train(config, tmp("jax"), split.train, { quiet: true }).state;
      const theirs = train(config, tmp("onnx"), split.train, { quiet: true, makeStepper: onnxStepper() }).state;
      assertSameRun(ours, theirs, config);
    });
  }

  it("write checkpoints a jax-js run resumes from", () => {
    const config = tinyConfig();
    const whole = train(config, tmp("whole"), split.train, { quiet: true }).state;
    const dir = tmp("switch");
    train({ ...config, steps: 20 }, dir, split.train, { quiet: true, makeStepper: onnxStepper() });
    const resumed = train(config, dir, split.train, { resume: true, quiet: true }).state;
    assertSameRun(whole, resumed, config);
    assert.deepEqual(Array.from(resumed.rng), Array.from(whole.rng));
  });

  it("stop on a non-finite loss with the step named, keeping the last good checkpoint", () => {
    const dir = tmp("nan");
    const config = { ...tinyConfig({ lr: 1e30 }), checkpointEvery: 1 };
    assert.throws(() => train(config, dir, split.train, { quiet: true, makeStepper: onnxStepper() }), (err: Error) => err instanceof NonFiniteLossError && /loss is (NaN|-?Infinity) at step \d+; stopped\. The last good checkpoint/.test(err.message));
    const run = loadRun(dir, { ema: false });
    assert.ok(run.state!.step >= 1);
    for (const loss of run.state!.losses) assert.ok(Number.isFinite(loss));
  });
});
