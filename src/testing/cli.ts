/** The built `vdm` binary for the CLI's end-to-end tests: run it, and check a usage mistake. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before } from "node:test";
import { fileURLToPath } from "node:url";

/** The binary; VDM_BIN runs the tests against another build (a shim that imports that build's cli/main.js). */
export const BIN = process.env.VDM_BIN ?? fileURLToPath(new URL("../../bin/vdm.js", import.meta.url));

/** `vdm args` with `env` added to the environment: its exit code, stdout, stderr and the seconds it took. */
export function vdmWith(env: Record<string, string>, ...args: string[]) {
  const started = performance.now();
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", env: { ...process.env, ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, seconds: (performance.now() - started) / 1000 };
}

/** `vdm args`: its exit code, stdout, stderr and seconds. */
export function vdm(...args: string[]) {
  return vdmWith({}, ...args);
}

/** `vdm args`, which must succeed: its stdout as JSON (the command given --json). */
export function vdmJson(...args: string[]) {
  const r = vdm(...args);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

/** A new temporary directory whose name starts with `prefix`. */
export const tempDir = (prefix: string): string => mkdtempSync(join(tmpdir(), prefix));

/** The flags of the oracle of `data`: `--model oracle --data data`. */
export const oracle = (data: string): string[] => ["--model", "oracle", "--data", data];

/** `vdm train` of a tiny Diffusion-LM on text:restaurants into `out` (2 steps, width 16, one layer), with `extra` flags. */
export function trainTinyText(out: string, ...extra: string[]) {
  return vdm("train", "--data", "text:restaurants", "--out", out, "--steps", "2", "--width", "16", "--layers", "1", ...extra);
}

/** `vdm args` is refused as a usage mistake (exit 2, no "error:") with a message matching `message`. */
export function refused(message: RegExp, ...args: string[]): void {
  const r = vdm(...args);
  assert.equal(r.code, 2, r.stderr + r.stdout);
  assert.doesNotMatch(r.stderr, /error:/);
  assert.match(r.stderr, message);
}

/** The training flags of a tiny 2-D run: 20 steps of a 16-wide MLP, T = 50, no progress lines. */
export const tinyTraining = ["--steps", "20", "--hidden", "16", "--timesteps", "50", "--quiet"];

/**
 * A temporary directory with a tiny 2-D run (moons, 20 steps, T = 50, no report) and a tiny moons
 * classifier (2 classes, 20 steps), trained before the file's tests.
 */
export function tinyRuns(prefix: string): { root: string; run: string; classifier: string } {
  const root = tempDir(prefix);
  const runs = { root, run: join(root, "run"), classifier: join(root, "classifier") };
  before(() => {
    const r = vdm("train", "--data", "moons", "--out", runs.run, ...tinyTraining, "--no-report");
    assert.equal(r.code, 0, r.stderr);
    const c = vdm("train-classifier", "--data", "moons", "--out", runs.classifier, "--steps", "20", "--no-report", "--quiet");
    assert.equal(c.code, 0, c.stderr);
  });
  return runs;
}
