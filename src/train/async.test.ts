/** trainAsync: training that lets the event loop run, so that a timer (or Ctrl-C's handler) can stop it. */
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { loadSplit } from "../data/index.js";
import { fitNormalization } from "../data/normalize.js";
import { checkpointStep } from "../io/checkpoint.js";
import { namedLeaves } from "../io/state.js";
import { useEngine } from "../testing/helpers.js";
import { makeRunConfig } from "./defaults.js";
import { train, trainAsync } from "./trainer.js";

useEngine("wasm");

const split = loadSplit("moons", 0, { train: 2000, test: 1000 });
const long = {
  ...makeRunConfig(
    { spec: "moons", dim: 2, ...fitNormalization(split.train), train: split.train.n, test: split.test.n },
    { steps: 1_000_000, hidden: 16, layers: 2, batch: 32 },
  ),
  checkpointEvery: 10,
};
const leaves = (t: Parameters<typeof namedLeaves>[0]) =>
  namedLeaves(t, "p").map(([n, a]) => [n, Array.from(a.ref.dataSync() as Float32Array)]);

describe("trainAsync", () => {
  it("serves a timer while it trains: a signal aborted by the timer stops it with a checkpoint that resumes bit for bit", {
    timeout: 300_000,
  }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "vdm-async-"));
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 500);
    const stopped = await trainAsync(long, split.train, { checkpointDir: dir, signal: controller.signal });
    clearTimeout(timer);
    const k = stopped.state.step;
    assert.equal(stopped.completed, false);
    assert.ok(k > 0 && k < long.steps, `stopped at step ${k}`);
    assert.equal(checkpointStep(dir), k, "the checkpoint holds the step it stopped at");
    const more = { ...long, steps: k + 5 };
    const whole = train(more, split.train).state;
    const resumed = await trainAsync(more, split.train, { checkpointDir: dir, resume: true });
    assert.equal(resumed.completed, true);
    assert.deepEqual(leaves(resumed.state.params), leaves(whole.params));
    assert.deepEqual(Array.from(resumed.state.losses), Array.from(whole.losses));
  });
});
