/**
 * Faults of the kinds a new user meets, end to end through the built `vdm`: an --out that would
 * replace a run's own files, flags that do not do what their help says, usage mistakes reported as
 * internal errors, and long work without progress.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { oracle, refused, tinyRuns, vdm } from "../testing/cli.js";

/** A tiny 2-D run and classifier that the tests read. */
const { root, run, classifier } = tinyRuns("vdm-sweep-");
const runFiles = ["config.json", "state.safetensors", "metrics.json"];
const bytes = () => runFiles.map((f) => readFileSync(join(run, f)));

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

describe("a class or classifier that does not fit the model is a usage mistake (exit 2) naming the flag", () => {
  const oracle8 = oracle("eight-gaussians");
  it("vdm sample --class 9 of eight Gaussians", () =>
    refused(
      /--class 9: class 9 is out of range: the model knows classes 0\.\.7/,
      "sample",
      ...oracle8,
      "--class",
      "9",
      "--n",
      "3",
      "--out",
      join(root, "s.json"),
    ));
  it("vdm sample --class 0 of an unconditional run", () =>
    refused(/--class 0: this model is unconditional/, "sample", "--model", run, "--class", "0", "--n", "3", "--out", join(root, "s.json")));
  it("vdm sample --classifier given a denoiser's run", () =>
    refused(
      /--classifier .*: this checkpoint is a denoiser, not a classifier/,
      "sample",
      "--model",
      run,
      "--class",
      "0",
      "--guidance",
      "classifier",
      "--classifier",
      run,
      "--n",
      "3",
      "--out",
      join(root, "s.json"),
    ));
  it("vdm guidance --judge given a denoiser's run", () =>
    refused(
      /--judge .*: this checkpoint is a denoiser, not a classifier/,
      "guidance",
      ...oracle8,
      "--guidance",
      "classifier",
      "--judge",
      run,
      "--n",
      "3",
      "--out",
      join(root, "g"),
    ));
  it("vdm guidance --classifier of the oracle (it guides with its exact classifier; the trained one was ignored)", () =>
    refused(
      /--classifier .*: the oracle guides with its exact classifier/,
      "guidance",
      ...oracle8,
      "--guidance",
      "classifier",
      "--classifier",
      classifier,
      "--scales",
      "0",
      "--n",
      "2",
      "--out",
      join(root, "g"),
    ));
  it("vdm guidance --judge given a classifier of other classes", () =>
    refused(
      /--judge .*: the classifier knows 2 classes \(moons\), the guided model 8 \(eight-gaussians\)/,
      "guidance",
      ...oracle8,
      "--guidance",
      "classifier",
      "--judge",
      classifier,
      "--n",
      "3",
      "--out",
      join(root, "g"),
    ));
});

describe("an --out DIR that is a file is refused before any work (it failed with EEXIST after the work)", () => {
  const file = join(root, "a-file");
  before(() => writeFileSync(file, "mine\n"));
  for (const args of [
    ["train", "--data", "moons", "--steps", "5"],
    ["train-classifier", "--data", "moons", "--steps", "5"],
    ["nfe", ...oracle("gaussian"), "--samplers", "ddim", "--steps", "2", "--n", "10"],
    ["guidance", ...oracle("eight-gaussians"), "--guidance", "cfg", "--scales", "0", "--n", "2"],
    ["langevin-demo", "--n", "10"],
    ["elbo", "--estimators", "denoising", "--timesteps", "5", "--n", "4", "--draws", "2"],
  ]) {
    it(`vdm ${args[0]} --out FILE`, () => {
      refused(/--out .*a-file is a file; --out names the directory/, ...args, "--out", file);
      assert.equal(readFileSync(file, "utf8"), "mine\n");
    });
  }
});

describe("a negative number or a missing value is named by the flag's own check (the parser said the value was ambiguous)", () => {
  const sample = ["sample", ...oracle("gaussian"), "--out", join(root, "s.json")];
  it("--class -1", () => refused(/--class must be an integer >= 0, got "-1"/, ...sample, "--class", "-1", "--n", "3"));
  it("--n -3", () => refused(/--n must be an integer >= 1, got "-3"/, ...sample, "--n", "-3"));
  it("--seed -1", () => refused(/--seed must be an integer >= 0, got "-1"/, ...sample, "--n", "3", "--seed", "-1"));
  it("--n with no value before another flag", () =>
    refused(/^vdm sample: --n needs a value \(--n K;/m, "sample", ...oracle("gaussian"), "--n", "--out", join(root, "s.json")));
  it("--out at the end of the line", () =>
    refused(/^vdm sample: --out needs a value \(--out FILE;/m, "sample", ...oracle("gaussian"), "--out"));
});

describe("a flag that does not apply is refused, not ignored", () => {
  it("--schedule with a checkpoint (oracle only: the run has its own)", () =>
    refused(
      /--schedule is for --model oracle; the checkpoint .* has its own \(--schedule log-snr-linear\)/,
      "sample",
      "--model",
      run,
      "--schedule",
      "linear",
      "--n",
      "3",
      "--out",
      join(root, "s.json"),
    ));
  it("--timesteps with a checkpoint", () =>
    refused(
      /--timesteps is for --model oracle; the checkpoint .* has its own \(--timesteps 50\)/,
      "sample",
      "--model",
      run,
      "--timesteps",
      "7",
      "--n",
      "3",
      "--out",
      join(root, "s.json"),
    ));
  it("the oracle still takes them, and defaults to cosine with 1000 steps", () => {
    const nfe = (...extra: string[]) => {
      const r = vdm("eval", ...oracle("gaussian"), "--sampler", "ancestral", "--n", "20", "--json", ...extra);
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout).nfe; // ancestral takes every step of the chain
    };
    assert.equal(nfe(), 1000);
    assert.equal(nfe("--schedule", "linear", "--timesteps", "100"), 100);
  });
});

describe("vdm eval refuses the flags its model or mode does not use (they were silently ignored)", () => {
  it("--data-dir and --elbo-samples of a 2-D model", () =>
    refused(
      /--data-dir, --elbo-samples: image models only/,
      "eval",
      "--model",
      run,
      "--data-dir",
      root,
      "--elbo-samples",
      "3",
      "--n",
      "20",
    ));
  it("--guidance of a 2-D model", () => refused(/--guidance: image models only/, "eval", "--model", run, "--guidance", "cfg", "--n", "20"));
  it("the ODE solver's flags without --likelihood ode", () =>
    refused(
      /--rtol, --ode-steps: the ODE solver's flags apply with --likelihood ode only/,
      "eval",
      "--model",
      run,
      "--rtol",
      "1e-3",
      "--ode-steps",
      "4",
      "--n",
      "20",
    ));
  it("the sampler of an image model without --quality", () =>
    refused(
      /--sampler, --sample-steps: these apply to the samples of --quality only/,
      "eval",
      "--model",
      "fashion-mnist",
      "--sampler",
      "ddim",
      "--sample-steps",
      "5",
      "--n",
      "2",
    ));
  it("--n 1 of an image model (its standard error printed as NaN)", () =>
    refused(/--n must be an integer >= 2, got "1"/, "eval", "--model", "fashion-mnist", "--n", "1"));
});
