/**
 * Training: checkpoint round trip, resume equivalence (bit for bit), clear errors for corrupt
 * checkpoints and non-finite losses, and a short real run on moons judged by energy distance.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { loadSplit } from "../data/index.js";
import { fitNormalization } from "../data/normalize.js";
import { Rng } from "../engine/index.js";
import { energyDistance } from "../eval/energy.js";
import { drawSamples, referenceSample } from "../eval/run.js";
import { readCheckpointConfig, saveWeights } from "../io/checkpoint.js";
import { namedLeaves } from "../io/state.js";
import { AncestralSampler } from "../sample/ancestral.js";
import { useEngine } from "../testing/helpers.js";
import { defaultAdam, stepScalars } from "./adam.js";
import { buildModel, buildProcess } from "./build.js";
import type { RunConfig } from "./config.js";
import { makeRunConfig, type RunOptions } from "./defaults.js";
import { loadRun } from "./load.js";
import { NonFiniteLossError } from "./step.js";
import { train } from "./trainer.js";

useEngine("wasm");

const tmp = (name: string) => mkdtempSync(join(tmpdir(), `vdm-${name}-`));
const split = loadSplit("moons", 0, { train: 2000, test: 1000 });
const z = fitNormalization(split.train);

function tinyConfig(options: RunOptions & { checkpointEvery?: number } = {}): RunConfig {
  const config = makeRunConfig(
    { spec: "moons", dim: 2, ...z, train: split.train.n, test: split.test.n },
    { steps: 40, hidden: 16, layers: 2, batch: 32, ...options },
  );
  return { ...config, checkpointEvery: options.checkpointEvery ?? 10 };
}

const leaves = (t: Parameters<typeof namedLeaves>[0]) =>
  namedLeaves(t, "p").map(([n, a]) => [n, Array.from(a.ref.dataSync() as Float32Array)]);

describe("checkpoints and resume", () => {
  it("a checkpoint reloads exactly what was trained", () => {
    const dir = tmp("ckpt");
    const { state } = train(tinyConfig(), split.train, { checkpointDir: dir });
    const run = loadRun(dir, { ema: false });
    assert.equal(run.state!.step, 40);
    assert.deepEqual(leaves(run.state!.params), leaves(state.params));
    assert.deepEqual(leaves(run.state!.ema), leaves(state.ema));
    assert.deepEqual(leaves(run.state!.adam.m), leaves(state.adam.m));
    assert.deepEqual(Array.from(run.state!.losses), Array.from(state.losses));
    // exported weights: the EMA parameters alone, a quarter of the size, loadable for sampling, not for resuming
    const exported = tmp("weights");
    saveWeights(exported, readCheckpointConfig(dir), state.ema, { step: "40" });
    const weights = loadRun(exported);
    assert.equal(weights.state, null);
    assert.deepEqual(leaves(weights.denoiser.params), leaves(state.ema));
    assert.ok(statSync(join(exported, "state.safetensors")).size < statSync(join(dir, "state.safetensors")).size / 3.5);
    assert.throws(() => loadRun(exported, { ema: false }), /holds exported EMA weights only/);
    assert.throws(
      () => train(tinyConfig({ steps: 50 }), split.train, { checkpointDir: exported, resume: true }),
      /exported EMA weights only: it samples and evaluates, but cannot be resumed/,
    );
  });

  for (const options of [
    { schedule: "cosine", timesteps: 1000, loss: "simple" as const },
    { schedule: "cosine", target: "v" as const },
  ]) {
    it(`resuming equals an uninterrupted run, bit for bit (${JSON.stringify(options)})`, () => {
      const whole = train(tinyConfig(options), split.train, { checkpointDir: tmp("whole") }).state;
      const dir = tmp("parts");
      train({ ...tinyConfig(options), steps: 20 }, split.train, { checkpointDir: dir });
      const resumed = train(tinyConfig(options), split.train, { checkpointDir: dir, resume: true }).state;
      assert.deepEqual(leaves(resumed.params), leaves(whole.params));
      assert.deepEqual(leaves(resumed.ema), leaves(whole.ema));
      assert.deepEqual(Array.from(resumed.losses), Array.from(whole.losses));
      assert.deepEqual(Array.from(resumed.rng), Array.from(whole.rng));
    });
  }

  it("reports every step, and a run stopped by its signal leaves a checkpoint that resumes bit for bit", () => {
    const whole = train(tinyConfig(), split.train).state; // no checkpointDir: nothing written
    const dir = tmp("stopped");
    const controller = new AbortController();
    const seen: number[] = [];
    const stopped = train(tinyConfig(), split.train, {
      checkpointDir: dir,
      signal: controller.signal,
      onProgress: (p) => {
        seen.push(p.step);
        assert.ok(Number.isFinite(p.loss) && p.variance >= 0 && p.steps === 40);
        if (p.step === 15) controller.abort();
      },
    });
    assert.deepEqual(
      seen,
      Array.from({ length: 15 }, (_, k) => k + 1),
    );
    assert.equal(stopped.completed, false);
    assert.equal(stopped.state.step, 15);
    assert.equal(loadRun(dir, { ema: false }).state!.step, 15);
    const resumed = train(tinyConfig(), split.train, { checkpointDir: dir, resume: true });
    assert.equal(resumed.completed, true);
    assert.deepEqual(leaves(resumed.state.params), leaves(whole.params));
    assert.deepEqual(Array.from(resumed.state.losses), Array.from(whole.losses));
  });

  it("missing, truncated and corrupt checkpoints are named", () => {
    assert.throws(() => loadRun(join(tmpdir(), "vdm-no-such-dir")), /no checkpoint at .*vdm-no-such-dir \(missing config.json\)/);
    const dir = tmp("corrupt");
    train(tinyConfig({ steps: 10 }), split.train, { checkpointDir: dir });
    const state = join(dir, "state.safetensors");
    const bytes = readFileSync(state);
    truncateSync(state, statSync(state).size - 100);
    assert.throws(() => loadRun(dir), /state.safetensors: truncated: tensor .* ends at byte/);
    writeFileSync(state, bytes.subarray(0, 4));
    assert.throws(() => loadRun(dir), /truncated: 4 bytes, no header/);
    writeFileSync(state, bytes);
    writeFileSync(join(dir, "config.json"), "{ not json");
    assert.throws(() => loadRun(dir), /config.json is corrupt/);
  });

  it("a non-finite loss stops training with the step named and keeps the last good checkpoint", () => {
    const dir = tmp("nan");
    const config = tinyConfig({ lr: 1e30, checkpointEvery: 1 });
    assert.throws(
      () => train(config, split.train, { checkpointDir: dir }),
      (err: Error) =>
        err instanceof NonFiniteLossError &&
        /loss is (NaN|-?Infinity) at step (\d+); stopped\. The last good checkpoint \(step \d+\)/.test(err.message),
    );
    const run = loadRun(dir, { ema: false });
    assert.ok(run.state!.step >= 1);
    for (const loss of run.state!.losses) assert.ok(Number.isFinite(loss));
  });
});

describe("a short run on moons", () => {
  it("samples within a small factor of the energy-distance noise floor, far below a Gaussian fit", () => {
    const full = loadSplit("moons", 0);
    const zz = fitNormalization(full.train);
    const config = makeRunConfig({ spec: "moons", dim: 2, ...zz, train: full.train.n, test: full.test.n }, { steps: 2000, seed: 0 });
    const { state } = train(config, full.train, { checkpointDir: tmp("moons") });
    const process = buildProcess(config);
    const n = 1000;
    const model = buildModel(config);
    // ancestral over the whole chain: the sampler this bound was measured with (drawSamples' default before it became the CLI's)
    const sampler = new AncestralSampler(process);
    const samples = drawSamples({ model, params: state.ema }, process, { normalization: zz, shape: [2], n, rng: new Rng(5), sampler });
    const ed = energyDistance(samples, full.test.points, 2);
    const floor = energyDistance(referenceSample("moons", full.train, n, 0).points, full.test.points, 2);
    // baseline: the Gaussian with the data's mean and (diagonal) spread
    const z2 = new Rng(6).normal([n, 2]).dataSync() as Float32Array;
    const gaussian = Float32Array.from(z2, (v, i) => zz.mean[i % 2]! + zz.std[i % 2]! * v);
    const baseline = energyDistance(gaussian, full.test.points, 2);
    assert.ok(ed < 8 * floor, `energy distance ${ed} vs noise floor ${floor}`);
    assert.ok(ed < baseline / 5, `energy distance ${ed} vs Gaussian baseline ${baseline}`);
  });
});

describe("learning-rate schedule", () => {
  it("warms up linearly, then decays along a cosine to a tenth at the last step and stays there", () => {
    const config = { ...defaultAdam, lr: 1e-3, warmup: 10, decay: { kind: "cosine" as const, steps: 100, final: 0.1 } };
    const lr = (k: number) => stepScalars(config, k).lr;
    assert.ok(Math.abs(lr(0) - 1e-4) < 1e-15, `step 0: ${lr(0)}`); // 1/10 of the warm-up, decay factor 1
    // at k = 50 the cosine is halfway: f + (1 − f)/2 = 0.55
    assert.ok(Math.abs(lr(50) - 1e-3 * 0.55) < 1e-12, `step 50: ${lr(50)}`);
    assert.ok(Math.abs(lr(100) - 1e-4) < 1e-15 && Math.abs(lr(500) - 1e-4) < 1e-15, `after the decay: ${lr(100)}, ${lr(500)}`);
    for (let k = 10; k < 100; k++) assert.ok(lr(k + 1) <= lr(k), `non-increasing after the warm-up at ${k}`);
    assert.equal(stepScalars({ ...config, decay: undefined }, 50).lr, 1e-3, "no decay: constant");
  });
});

describe("a learned schedule trained with the denoiser", () => {
  for (const timesteps of [0, 1000]) {
    it(`${timesteps ? `T = ${timesteps}` : "continuous time"}: resumes bit for bit, moves its endpoints, stays monotone with γ(0) = γ_min and γ(1) = γ_max`, () => {
      const config = tinyConfig({ schedule: "learned", timesteps, steps: 60, lr: 1e-2, checkpointEvery: 30 });
      assert.equal(config.loss, "elbo");
      const straight = train(config, split.train, { checkpointDir: tmp("learned-a") }).state;
      const dir = tmp("learned-b");
      train({ ...config, steps: 30 }, split.train, { checkpointDir: dir });
      const resumed = train(config, split.train, { checkpointDir: dir, resume: true }).state;
      assert.deepEqual(leaves(resumed.params), leaves(straight.params));
      assert.deepEqual(leaves(resumed.ema), leaves(straight.ema));
      assert.deepEqual(Array.from(resumed.variances), Array.from(straight.variances));

      const { schedule } = straight.params as unknown as {
        schedule: { gammaMin: Parameters<typeof namedLeaves>[0]; gammaMax: Parameters<typeof namedLeaves>[0] };
      };
      const first = (t: Parameters<typeof namedLeaves>[0]) => (leaves(t)[0]![1] as number[])[0]!;
      const [gammaMin, gammaMax] = [first(schedule.gammaMin), first(schedule.gammaMax)];
      assert.ok(
        gammaMin !== config.learnedSchedule!.gammaMin && gammaMax !== config.learnedSchedule!.gammaMax,
        `endpoints did not move: ${gammaMin}, ${gammaMax}`,
      );
      const process = buildProcess(config, straight.params);
      const n = 201;
      const g = Array.from({ length: n }, (_, i) => process.gammaAt(i / (n - 1)));
      assert.ok(
        Math.abs(g[0]! - gammaMin) < 1e-4 && Math.abs(g[n - 1]! - gammaMax) < 1e-4,
        `γ(0) = ${g[0]} vs γ_min ${gammaMin}, γ(1) = ${g[n - 1]} vs γ_max ${gammaMax}`,
      );
      for (let i = 1; i < n; i++) assert.ok(g[i]! > g[i - 1]!, `γ(${i / (n - 1)}) = ${g[i]} ≤ γ(${(i - 1) / (n - 1)}) = ${g[i - 1]}`);
      assert.ok(
        straight.variances.every((v) => Number.isFinite(v) && v >= 0),
        "per-step loss variances",
      );
    });
  }
});
