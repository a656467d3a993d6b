/** Engine: seeded randomness, exact float64 device, and the optional worker-thread pool. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { ConfigError } from "../errors.js";
import { useEngine } from "../testing/helpers.js";
import { configureEngine } from "./configure.js";
import { exactArray, Rng } from "./index.js";
import { threads } from "./setup.js";

useEngine("wasm");

describe("engine", () => {
  it("Rng: the same seed gives the same draws, different seeds differ", () => {
    const draw = (seed: number) => {
      const r = new Rng(seed);
      return [...(r.normal([4]).dataSync() as Float32Array), ...(r.uniform([2]).dataSync() as Float32Array)];
    };
    assert.deepEqual(draw(3), draw(3));
    assert.notDeepEqual(draw(3), draw(4));
    assert.throws(() => new Rng(-1), /seed must be an integer/);
  });

  it("the cpu device computes float64 exactly", () => {
    const x = exactArray([1e-10]);
    assert.equal(x.dtype, "float64");
    assert.equal((x.add(1).dataSync() as Float64Array)[0], 1 + 1e-10);
  });

  it("the thread count is fixed once jax-js has loaded: the same count is accepted, another one is a ConfigError", () => {
    assert.equal(threads, 1);
    assert.equal(configureEngine({ threads: 1 }), 1);
    assert.throws(
      () => configureEngine({ threads: 2 }),
      (e: Error) => e instanceof ConfigError && /already runs with 1 thread: .*before importing "vdm"/.test(e.message),
    );
    assert.throws(
      () => configureEngine({ threads: 0 }),
      (e: Error) => e instanceof ConfigError && /threads must be a positive integer, got 0/.test(e.message),
    );
  });

  it("the CLI reads VDM_THREADS and refuses a bad value before loading the engine", () => {
    const bin = fileURLToPath(new URL("../../bin/vdm.js", import.meta.url));
    const r = spawnSync(process.execPath, [bin, "schedule", "--help"], {
      env: { ...process.env, VDM_THREADS: "two" },
      encoding: "utf8",
      timeout: 60_000,
    });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /VDM_THREADS must be a positive integer, got "two"/);
  });

  it("configured with 2 threads, a matmul runs on worker threads, agrees with one thread, and the process exits", () => {
    const script = fileURLToPath(new URL("./threads.fixture.js", import.meta.url));
    const run = (count: string) => {
      const r = spawnSync(process.execPath, [script, count], { encoding: "utf8", timeout: 60_000 });
      assert.equal(r.status, 0, r.stderr);
      return JSON.parse(r.stdout) as { sum: number; workers: boolean };
    };
    const one = run("1");
    const two = run("2");
    assert.equal(one.workers, false);
    assert.equal(two.workers, true);
    assert.ok(Math.abs(one.sum - two.sum) <= 1e-3 * Math.abs(one.sum), `${one.sum} vs ${two.sum}`);
  });
});
