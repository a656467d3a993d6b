/**
 * Faults of the kinds a new user meets, end to end through the built `vdm`: an --out that would
 * replace a run's own files, flags that do not do what their help says, usage mistakes reported as
 * internal errors, and long work without progress.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const BIN = process.env.VDM_BIN ?? fileURLToPath(new URL("../../bin/vdm.js", import.meta.url));

function vdm(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const root = mkdtempSync(join(tmpdir(), "vdm-sweep-"));
/** A tiny 2-D run (moons, 20 steps, no report) that every test reads. */
const run = join(root, "run");
const runFiles = ["config.json", "state.safetensors", "metrics.json"];
const bytes = () => runFiles.map((f) => readFileSync(join(run, f)));

before(() => {
  const r = vdm("train", "--data", "moons", "--out", run, "--steps", "20", "--hidden", "16", "--timesteps", "50", "--quiet", "--no-report");
  assert.equal(r.code, 0, r.stderr);
});

describe("an --out FILE never replaces a file of a run", () => {
  for (const [command, file, ...rest] of [
    ["sample", "config.json", "--n", "4"],
    ["sample", "metrics.json", "--n", "4"],
    ["score-field", "samples.png"],
  ] as const) {
    it(`vdm ${command} --out RUN/${file} is refused (exit 2) and the run's files stay as they were`, () => {
      const before = bytes();
      const r = vdm(command, "--model", run, "--out", join(run, file), ...rest);
      assert.equal(r.code, 2, r.stderr + r.stdout);
      assert.match(r.stderr, new RegExp(`is a file of the run in .*\\(its ${file.replace(".", "\\.")}\\)`));
      assert.deepEqual(bytes(), before);
    });
  }
});
