/**
 * Spinning that follows the machine: the kernel's counters read as the cores of other work (against
 * hand-made /proc texts and against a real process burning a core), the rule that turns spinning off,
 * and a session remade mid-run when the answer changes, its held state carried across.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { describe, it } from "node:test";
import { useEngine } from "../testing/helpers.js";
import { exportOnnxOutputs } from "./export.js";
import { OnnxSession } from "./runtime.js";
import { type LoadSample, otherLoad, parseCpuList, SPARE, sampleLoad, shouldSpin, ticksOf } from "./spin.js";

useEngine("wasm");

describe("reading the machine's load", () => {
  it("reads /proc/self/status's CPU lists", () => {
    assert.deepEqual(parseCpuList("0-3,6\n"), [0, 1, 2, 3, 6]);
    assert.deepEqual(parseCpuList("1"), [1]);
  });

  it("sums busy and all ticks over the chosen CPUs only; iowait counts as idle", () => {
    const stat = [
      "cpu  100 0 100 1000 0 0 0 0 0 0",
      "cpu0 10 1 2 100 5 3 4 6 0 0", // busy 10+1+2+3+4+6 = 26, idle 100+5
      "cpu1 50 0 50 0 0 0 0 0 0 0",
      "cpu10 7 0 0 3 0 0 0 0 0 0",
      "intr 12345",
    ].join("\n");
    assert.deepEqual(ticksOf(stat, [0]), { busy: 26, total: 131 });
    assert.deepEqual(ticksOf(stat, [0, 10]), { busy: 33, total: 141 }); // cpu1 not chosen, cpu10 not mistaken for cpu1
  });

  it("counts other work as the busy cores minus this process's own CPU time", () => {
    const at = (ms: number, busy: number, total: number, cpuMs: number): LoadSample => ({
      busy,
      total,
      cpuMicros: cpuMs * 1000,
      at: ms,
      cores: 2,
    });
    // 2 cores for 1 s, all busy (200 of 200 ticks); we used 1.33 s of CPU: 0.67 cores of other work
    assert.ok(Math.abs(otherLoad(at(0, 0, 0, 0), at(1000, 200, 200, 1330)) - 0.67) < 1e-9);
    // half the ticks busy, all of it ours: nothing else
    assert.equal(otherLoad(at(0, 0, 0, 0), at(1000, 100, 200, 1000)), 0);
    // no time between the readings: no evidence of other work
    assert.equal(otherLoad(at(5, 0, 0, 0), at(5, 0, 0, 0)), 0);
  });

  it("spins while the cores have room for the threads, not beside other work", () => {
    assert.equal(shouldSpin(0.05, 2, 2), true); // a quiet machine's background
    assert.equal(shouldSpin(0.67, 2, 2), false); // a process burning a core, held to 2/3 of it by our spinning
    assert.equal(shouldSpin(1.0, 4, 2), true); // two spare cores take it
    assert.equal(shouldSpin(SPARE + 0.01, 2, 2), false);
    assert.equal(shouldSpin(0, 2, 4), false); // more threads than cores
  });

  it("sees a process burning a core on this machine", { skip: sampleLoad() === null && "no /proc here" }, async () => {
    const burner = spawn(process.execPath, ["-e", "for (;;);"], { stdio: "ignore" });
    try {
      await new Promise((r) => setTimeout(r, 200)); // running
      const before = sampleLoad()!;
      await new Promise((r) => setTimeout(r, 500));
      const others = otherLoad(before, sampleLoad()!);
      // the burner is one core's worth (whatever else runs only adds); the ticks are 10 ms, 100 of them here
      assert.ok(others > 0.8, `other work measured as ${others.toFixed(2)} cores beside a burning process`);
    } finally {
      burner.kill();
    }
  });
});

describe("a session that follows the answer", () => {
  it("is remade when the answer changes, and its held state carries across", () => {
    // state' = state + x, carried between runs
    const bytes = exportOnnxOutputs(
      (s, x) => [s.add(x)],
      [
        { name: "state", shape: [3] },
        { name: "x", shape: [3] },
      ],
      ["next"],
    );
    let spin = false;
    let asked = 0;
    const session = new OnnxSession(bytes, {
      threads: 2,
      spin: () => {
        asked++;
        return spin;
      },
    });
    try {
      assert.equal(session.spinning, false);
      session.hold({ state: { data: Float32Array.of(1, 2, 3), dims: [3] } });
      const x = { data: Float32Array.of(1, 1, 1), dims: [3] };
      const seen: boolean[] = [];
      for (let k = 0; k < 4; k++) {
        spin = k % 2 === 0; // flips every run: the session is remade before each
        session.runOutputs({ x }, [], { next: "state" });
        seen.push(session.spinning);
      }
      assert.deepEqual(seen, [true, false, true, false]);
      assert.equal(asked, 5); // once when made, once per run
      assert.deepEqual(Array.from(session.read(["state"])[0]!.data), [5, 6, 7]);
    } finally {
      session.close();
    }
  });

  it("never asks with one thread (no pool threads to spin)", () => {
    const bytes = exportOnnxOutputs((x) => [x.mul(2)], [{ name: "x", shape: [2] }]);
    let asked = 0;
    const spin = () => {
      asked++;
      return true;
    };
    const session = new OnnxSession(bytes, { threads: 1, spin });
    session.run({ x: { data: Float32Array.of(1, 2), dims: [2] } }, "o0");
    session.close();
    assert.equal(asked, 1); // only when made
  });
});
