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
import { namedLeaves } from "../io/state.js";
import { isLearnedSchedule } from "../schedule/learned.js";
import { assertClose, useEngine } from "../testing/helpers.js";
import { textRunConfig } from "../text/config.js";
import { loadTextCorpus, tokenPoints } from "../text/data.js";
import { Tokenizer } from "../text/tokenizer.js";
import type { RunConfig } from "../train/config.js";
import { makeRunConfig, type RunOptions } from "../train/defaults.js";
import { loadRun } from "../train/load.js";
import { NonFiniteLossError } from "../train/step.js";
import { train } from "../train/trainer.js";
import { onnxStepper } from "./train.js";

useEngine("wasm");

const tmp = (name: string) => mkdtempSync(join(tmpdir(), `vdm-onnx-${name}-`));
const split = loadSplit("moons", 0, { train: 2000, test: 1000 });
const z = fitNormalization(split.train);

function tinyConfig(options: RunOptions = {}): RunConfig {
  const config = makeRunConfig(
    { spec: "moons", dim: 2, ...z, train: split.train.n, test: split.test.n },
    { steps: 40, hidden: 16, layers: 2, batch: 32, ...options },
  );
  return { ...config, checkpointEvery: 10 };
}

const values = (t: Parameters<typeof namedLeaves>[0]) =>
  Float32Array.from(namedLeaves(t, "p").flatMap(([, a]) => Array.from(a.ref.dataSync() as Float32Array)));

/**
 * Both backends run the same float32 operations in different orders: losses agree to ~1e−6
 * relative after 40 steps; 1e−4 leaves room. Parameters: Adam divides each gradient entry by its
 * own running RMS, so an entry whose gradient is at rounding level can move by up to lr per step
 * differently; lr·steps bounds that, and every other entry agrees far closer.
 */
function assertSameRun(a: ReturnType<typeof train>["state"], b: ReturnType<typeof train>["state"], config: RunConfig) {
  // The whole −ELBO of a learned schedule sums terms of opposite sign that reach e^{−γ_min} ≈ 6·10⁵
  // times a squared error, so float32 rounding moves its value by ~10⁻⁵ of the per-example spread
  // from the first step; far below the batch's own sampling noise, a thousandth of that spread.
  const spread = Math.sqrt(a.variances.reduce((s, v) => s + v, 0) / a.variances.length);
  const atol = isLearnedSchedule(config.schedule) ? 1e-3 * spread : 0;
  assertClose(b.losses, a.losses, { rtol: 1e-4, atol, label: "losses" });
  assertClose(b.variances, a.variances, { rtol: 1e-3, atol: 2 * atol * spread, label: "loss variances" });
  assertClose(values(b.params), values(a.params), { atol: config.adam.lr * config.steps, label: "params" });
  assertClose(values(b.ema), values(a.ema), { atol: config.adam.lr * config.steps, label: "ema" });
}

describe("training steps in ONNX Runtime", () => {
  const cases: RunOptions[] = [
    {},
    { schedule: "cosine", timesteps: 1000, loss: "simple" },
    { schedule: "cosine", loss: "elbo", target: "v" },
    { schedule: "learned", timesteps: 0 },
    { schedule: "learned-linear" },
  ];
  for (const options of cases) {
    it(`match jax-js's, loss for loss (${JSON.stringify(options)})`, () => {
      const config = tinyConfig(options);
      const ours = train(config, split.train, { checkpointDir: tmp("jax") }).state;
      const theirs = train(config, split.train, { checkpointDir: tmp("onnx"), makeStepper: onnxStepper() }).state;
      assertSameRun(ours, theirs, config);
    });
  }

  it("match jax-js's for a Diffusion-LM run (token ids in, embeddings learned, rounding loss)", () => {
    const corpus = loadTextCorpus("text:restaurants", 0, { train: 200, test: 10 });
    const tokenizer = Tokenizer.fromSentences(corpus.train);
    const config = textRunConfig(corpus, tokenizer, { steps: 20, batch: 16, width: 16, layers: 1, heads: 2 });
    const data = tokenPoints(tokenizer, corpus.train, config.data.dim);
    const ours = train(config, data).state;
    const theirs = train(config, data, { makeStepper: onnxStepper() }).state;
    assertSameRun(ours, theirs, config);
  });

  it("take the same steps several at a time in one call as one at a time, checkpoints between the calls", () => {
    const config = tinyConfig(); // checkpoints every 10 steps: calls of 4 steps, and single steps up to each checkpoint
    const single = train(config, split.train, { checkpointDir: tmp("single"), makeStepper: onnxStepper({ chunk: 1 }) }).state;
    const dir = tmp("chunked");
    const chunked = train(config, split.train, { checkpointDir: dir, makeStepper: onnxStepper({ chunk: 4 }) }).state;
    assertSameRun(single, chunked, config);
    assert.equal(loadRun(dir, { ema: false }).state!.step, 40);
  });

  it("write checkpoints a jax-js run resumes from", () => {
    const config = tinyConfig();
    const whole = train(config, split.train, { checkpointDir: tmp("whole") }).state;
    const dir = tmp("switch");
    train({ ...config, steps: 20 }, split.train, { checkpointDir: dir, makeStepper: onnxStepper() });
    const resumed = train(config, split.train, { checkpointDir: dir, resume: true }).state;
    assertSameRun(whole, resumed, config);
    assert.deepEqual(Array.from(resumed.rng), Array.from(whole.rng));
  });

  it("stop on a non-finite loss with the step named, keeping the last good checkpoint", () => {
    const dir = tmp("nan");
    const config = { ...tinyConfig({ lr: 1e30 }), checkpointEvery: 1 };
    assert.throws(
      () => train(config, split.train, { checkpointDir: dir, makeStepper: onnxStepper() }),
      (err: Error) =>
        err instanceof NonFiniteLossError && /loss is (NaN|-?Infinity) at step \d+; stopped\. The last good checkpoint/.test(err.message),
    );
    const run = loadRun(dir, { ema: false });
    assert.ok(run.state!.step >= 1);
    for (const loss of run.state!.losses) assert.ok(Number.isFinite(loss));
    // several steps per call: the same step is named as when jax-js takes them one at a time
    const stepOf = (f: () => unknown) => {
      try {
        f();
      } catch (err) {
        return /at step (\d+)/.exec((err as Error).message)?.[1];
      }
      return undefined;
    };
    const chunked = { ...tinyConfig({ lr: 1e30 }), checkpointEvery: 20 };
    const named = stepOf(() => train(chunked, split.train, { makeStepper: onnxStepper({ chunk: 4 }) }));
    assert.ok(named !== undefined && Number(named) > 1, `step ${named}`);
    assert.equal(
      named,
      stepOf(() => train(chunked, split.train)),
    );
  });
});
