/**
 * The run in --out, end to end through the built `vdm`: a run is never written over without
 * --resume or --force, a resumed run checks the flags given against its own, Ctrl-C leaves a
 * checkpoint and the command that resumes it, and --no-report stops after training.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { BIN, tempDir, tinyTraining, trainTinyText, vdm } from "../testing/cli.js";

/** `vdm args`, stopped by SIGINT once its stderr matches `ready`; its exit code and output. */
function vdmInterrupted(ready: RegExp, ...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let sent = false;
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
      if (!sent && ready.test(stderr)) {
        sent = true;
        child.kill("SIGINT");
      }
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

const bytes = (dir: string) => ["config.json", "state.safetensors"].map((f) => readFileSync(join(dir, f)));
const json = (file: string) => JSON.parse(readFileSync(file, "utf8"));
/** A path as it appears in a regular expression. */
const re = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

describe("a run in --out", () => {
  const root = tempDir("vdm-runs-");
  const run = join(root, "run");

  it("--no-report stops after training: a checkpoint and metrics.json with the training facts, no pictures", () => {
    const r = vdm("train", "--data", "moons", "--out", run, ...tinyTraining, "--no-report");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^trained moons: 20 steps in \d+s \([\d.]+ steps\/s\)$/m);
    for (const f of ["samples.png", "loss.png", "forward.png"]) assert.ok(!existsSync(join(run, f)), `${f} was not drawn`);
    const metrics = json(join(run, "metrics.json"));
    assert.deepEqual(Object.keys(metrics), ["data", "steps", "trainSeconds", "stepsPerSecond", "finalLoss"]);
    assert.equal(metrics.steps, 20);
    assert.ok(metrics.trainSeconds > 0 && Number.isFinite(metrics.finalLoss), JSON.stringify(metrics));
  });

  it("is refused by every training command without --resume or --force, naming both, and its checkpoint stays byte for byte", () => {
    const before = bytes(run);
    const held = `${re(run)} already holds a moons denoiser run at step 20 of 20`;
    const cases: [string[], RegExp][] = [
      [
        ["train", "--data", "moons", "--out", run, ...tinyTraining, "--hidden", "32"],
        new RegExp(`${held}; --resume continues it \\(vdm train --out ${re(run)} --resume\\), --force replaces it`),
      ],
      [
        ["train-classifier", "--data", "moons", "--out", run, ...tinyTraining],
        new RegExp(`${held}; --resume continues it \\(vdm train --out ${re(run)} --resume\\), --force replaces it`),
      ],
      [
        ["train", "--data", "text:restaurants", "--out", run, "--steps", "3"],
        new RegExp(`${held}; --resume continues it .*, --force replaces it`),
      ],
      [["demo", "--out", run], new RegExp(`${held} that vdm demo did not write; --force replaces it`)],
    ];
    for (const [args, pattern] of cases) {
      const r = vdm(...args);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, pattern);
      assert.doesNotMatch(r.stderr, /^train /m, "refused before any training");
    }
    assert.deepEqual(bytes(run), before);
    // another program's config.json is not a run: left alone, --force or not
    const foreign = join(root, "foreign");
    mkdirSync(foreign);
    writeFileSync(join(foreign, "config.json"), '{"name": "my app"}\n');
    const r = vdm("train", "--data", "moons", "--out", foreign, ...tinyTraining, "--force");
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`${re(join(foreign, "config.json"))} is not a vdm run's config`));
    assert.equal(readFileSync(join(foreign, "config.json"), "utf8"), '{"name": "my app"}\n');
  });

  it("--resume refuses flags that contradict the run, naming the flag and both values, and --steps below the steps done", () => {
    const before = bytes(run);
    const cases: [string[], RegExp][] = [
      [["--data", "swiss-roll"], new RegExp(`--data swiss-roll contradicts the run in ${re(run)}, which has --data moons`)],
      [["--hidden", "32"], new RegExp(`--hidden 32 contradicts the run in ${re(run)}, which has --hidden 16`)],
      [["--timesteps", "0"], /--timesteps 0 contradicts the run in .*, which has --timesteps 50/],
      [["--base", "8"], /--base 8 does not apply to the run in .* \(a moons denoiser run at step 20 of 20\)/],
      [["--steps", "10"], new RegExp(`--steps 10 is below the 20 steps the run in ${re(run)} has done`)],
      [["--force"], /--resume continues the run in --out and --force replaces it: give one of them/],
    ];
    for (const [extra, pattern] of cases) {
      const r = vdm("train", "--out", run, "--resume", "--quiet", ...extra);
      assert.equal(r.code, 2, `${extra.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, pattern);
      assert.doesNotMatch(r.stderr + r.stdout, /NaN/);
    }
    const wrongCommand = vdm("train-classifier", "--out", run, "--resume");
    assert.equal(wrongCommand.code, 2);
    assert.match(
      wrongCommand.stderr,
      new RegExp(`holds a moons denoiser run at step 20 of 20; vdm train --out ${re(run)} --resume continues it`),
    );
    assert.deepEqual(bytes(run), before);
  });

  it("--resume applies a new --lr and more --steps, says so, and adds up trainSeconds", () => {
    const earlier = json(join(run, "metrics.json")).trainSeconds;
    const r = vdm(
      "train",
      "--out",
      run,
      "--resume",
      "--steps",
      "30",
      "--lr",
      "1e-3",
      "--data",
      "moons",
      "--hidden",
      "16",
      "--no-report",
      "--quiet",
      "--json",
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`^resuming ${re(run)} at step 20 of 30; --lr 1e-3 replaces 0.002, --steps 30 replaces 20$`, "m"));
    const config = json(join(run, "config.json"));
    assert.deepEqual([config.adam.lr, config.steps], [0.001, 30]);
    const metrics = json(join(run, "metrics.json"));
    assert.equal(metrics.steps, 30);
    assert.ok(metrics.trainSeconds > earlier, `trainSeconds ${metrics.trainSeconds} adds this invocation's to the earlier ${earlier}`);
    assert.deepEqual(JSON.parse(r.stdout), metrics);
  });

  it("resuming a finished run says that nothing is left and rewrites nothing", () => {
    const pictured = join(root, "pictured");
    const first = vdm("train", "--data", "moons", "--out", pictured, ...tinyTraining);
    assert.equal(first.code, 0, first.stderr);
    const files = ["config.json", "state.safetensors", "samples.png", "loss.png", "forward.png", "metrics.json"];
    const mtimes = () => files.map((f) => statSync(join(pictured, f)).mtimeMs);
    const before = mtimes();
    const metrics = readFileSync(join(pictured, "metrics.json"), "utf8");
    for (const extra of [[], ["--steps", "20"]]) {
      const r = vdm("train", "--out", pictured, "--resume", ...extra);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, new RegExp(`nothing left to train: the run in ${re(pictured)} has done all its 20 steps`));
      assert.doesNotMatch(r.stderr + r.stdout, /NaN/);
    }
    assert.deepEqual(mtimes(), before);
    assert.equal(readFileSync(join(pictured, "metrics.json"), "utf8"), metrics, "trainSeconds and the rest are kept");

    // --force replaces it: the old run's files go (a classifier writes no pictures), the user's stay
    writeFileSync(join(pictured, "grid-100.png"), "stale");
    writeFileSync(join(pictured, "notes.txt"), "mine");
    const clf = vdm("train-classifier", "--data", "moons", "--out", pictured, ...tinyTraining, "--force", "--no-report");
    assert.equal(clf.code, 0, clf.stderr);
    assert.match(
      clf.stderr,
      new RegExp(
        `replacing the run in ${re(pictured)}: deleted config.json, forward.png, grid-100.png, loss.png, metrics.json, samples.png, state.safetensors`,
      ),
    );
    for (const f of ["samples.png", "loss.png", "forward.png", "grid-100.png"])
      assert.ok(!existsSync(join(pictured, f)), `${f} was deleted`);
    assert.equal(readFileSync(join(pictured, "notes.txt"), "utf8"), "mine");
    assert.equal(json(join(pictured, "config.json")).task, "classifier");
  });

  it("a Diffusion-LM run resumes with `vdm train --out DIR --resume`, refusing a contradicting --width and taking a new --lr", () => {
    const lm = join(root, "lm");
    const first = trainTinyText(lm, "--heads", "1", "--embed-dim", "8", "--batch", "8", "--no-report", "--json");
    assert.equal(first.code, 0, first.stderr);
    assert.ok(!existsSync(join(lm, "samples.txt")) && !existsSync(join(lm, "classifier-food")), "--no-report: no samples, no classifier");
    const before = bytes(lm);
    const wider = vdm("train", "--out", lm, "--resume", "--width", "32");
    assert.equal(wider.code, 2, wider.stderr);
    assert.match(wider.stderr, new RegExp(`--width 32 contradicts the run in ${re(lm)}, which has --width 16`));
    assert.deepEqual(bytes(lm), before);
    const more = vdm("train", "--out", lm, "--resume", "--steps", "3", "--lr", "1e-3", "--no-report", "--json");
    assert.equal(more.code, 0, more.stderr);
    assert.match(more.stderr, new RegExp(`resuming ${re(lm)} at step 2 of 3; --lr 1e-3 replaces 0.003, --steps 3 replaces 2`));
    assert.equal(JSON.parse(more.stdout).steps, 3);
  });

  it("Ctrl-C stops training with a checkpoint, says how to resume it and exits with 130; the run resumes, and a later --resume writes the report it lacks", async () => {
    const stopped = join(root, "stopped");
    const r = await vdmInterrupted(
      /^train \d+\/100000/m,
      "train",
      "--data",
      "moons",
      "--out",
      stopped,
      "--steps",
      "100000",
      "--hidden",
      "16",
    );
    assert.equal(r.code, 130, r.stderr);
    const m = new RegExp(
      `stopped by Ctrl-C at step (\\d+) of 100000; the checkpoint in ${re(stopped)} holds step \\1\\. Resume it with:\\n  vdm train --out ${re(stopped)} --resume$`,
      "m",
    ).exec(r.stderr);
    assert.ok(m, r.stderr);
    const step = Number(m[1]);
    assert.ok(step > 0);
    assert.equal(json(join(stopped, "metrics.json")).steps, step);
    const resumed = vdm("train", "--out", stopped, "--resume", "--steps", String(step + 5), "--no-report", "--quiet");
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stderr, new RegExp(`resuming ${re(stopped)} at step ${step} of ${step + 5}`));
    const facts = json(join(stopped, "metrics.json"));
    assert.equal(facts.steps, step + 5);
    // the report --no-report skipped is written by a --resume with nothing left to train
    const report = vdm("train", "--out", stopped, "--resume", "--quiet", "--json");
    assert.equal(report.code, 0, report.stderr);
    assert.match(report.stderr, new RegExp(`the run in ${re(stopped)} has done all its ${step + 5} steps; writing the report it lacks`));
    assert.ok(existsSync(join(stopped, "samples.png")));
    const metrics = json(join(stopped, "metrics.json"));
    assert.ok(Number.isFinite(metrics.bpd));
    assert.equal(metrics.trainSeconds, facts.trainSeconds, "no training, no added seconds");
    assert.equal(metrics.stepsPerSecond, facts.stepsPerSecond, "the last measured speed is kept");
  });

  it("vdm demo replaces a run it wrote (twice in a row), and only that", async () => {
    const demo = join(root, "demo");
    for (const time of [1, 2]) {
      const r = await vdmInterrupted(/^train \d+\/4000/m, "demo", "--out", demo);
      assert.equal(r.code, 130, `run ${time}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`Resume it with:\\n  vdm train --out ${re(demo)} --resume$`, "m"));
      if (time === 2)
        assert.match(r.stderr, new RegExp(`replacing the run in ${re(demo)}: deleted config.json, metrics.json, state.safetensors`));
    }
    assert.ok(existsSync(join(demo, ".vdm-demo")));
  });
});
