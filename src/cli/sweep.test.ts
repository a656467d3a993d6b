/**
 * Faults of the kinds a new user meets, end to end through the built `vdm`: an --out that would
 * replace a run's own files, flags that do not do what their help says, usage mistakes reported as
 * internal errors, and long work without progress.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
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
/** A tiny moons classifier (2 classes, 20 steps). */
const classifier = join(root, "classifier");
const runFiles = ["config.json", "state.safetensors", "metrics.json"];
const bytes = () => runFiles.map((f) => readFileSync(join(run, f)));

before(() => {
  const r = vdm("train", "--data", "moons", "--out", run, "--steps", "20", "--hidden", "16", "--timesteps", "50", "--quiet", "--no-report");
  assert.equal(r.code, 0, r.stderr);
  const c = vdm("train-classifier", "--data", "moons", "--out", classifier, "--steps", "20", "--no-report", "--quiet");
  assert.equal(c.code, 0, c.stderr);
});

/** `vdm args` is refused as a usage mistake (exit 2, no "error:") with a message matching `message`. */
function refused(message: RegExp, ...args: string[]): void {
  const r = vdm(...args);
  assert.equal(r.code, 2, r.stderr + r.stdout);
  assert.doesNotMatch(r.stderr, /error:/);
  assert.match(r.stderr, message);
}

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
  const oracle8 = ["--model", "oracle", "--data", "eight-gaussians"];
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
    ["nfe", "--model", "oracle", "--data", "gaussian", "--samplers", "ddim", "--steps", "2", "--n", "10"],
    ["guidance", "--model", "oracle", "--data", "eight-gaussians", "--guidance", "cfg", "--scales", "0", "--n", "2"],
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
  const oracle = ["sample", "--model", "oracle", "--data", "gaussian", "--out", join(root, "s.json")];
  it("--class -1", () => refused(/--class must be an integer >= 0, got "-1"/, ...oracle, "--class", "-1", "--n", "3"));
  it("--n -3", () => refused(/--n must be an integer >= 1, got "-3"/, ...oracle, "--n", "-3"));
  it("--seed -1", () => refused(/--seed must be an integer >= 0, got "-1"/, ...oracle, "--n", "3", "--seed", "-1"));
  it("--n with no value before another flag", () =>
    refused(
      /^vdm sample: --n needs a value \(--n K;/m,
      "sample",
      "--model",
      "oracle",
      "--data",
      "gaussian",
      "--n",
      "--out",
      join(root, "s.json"),
    ));
  it("--out at the end of the line", () =>
    refused(/^vdm sample: --out needs a value \(--out FILE;/m, "sample", "--model", "oracle", "--data", "gaussian", "--out"));
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
      const r = vdm("eval", "--model", "oracle", "--data", "gaussian", "--sampler", "ancestral", "--n", "20", "--json", ...extra);
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

describe("vdm train of a text run", () => {
  it('--classifiers "" trains no classifier (it fell back to the default, food)', () => {
    const out = join(root, "text");
    const r = vdm(
      "train",
      "--data",
      "text:restaurants",
      "--out",
      out,
      "--steps",
      "2",
      "--width",
      "16",
      "--layers",
      "1",
      "--embed-dim",
      "4",
      "--classifiers",
      "",
      "--classifier-steps",
      "2",
    );
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      readdirSync(out).filter((name) => name.startsWith("classifier-")),
      [],
    );
  });
});

describe("a misspelt name or a refused combination of options is a usage mistake (it printed error: with exit 1)", () => {
  it("vdm train --data moonz suggests moons", () =>
    refused(/unknown dataset "moonz" .*; did you mean "moons"\?$/m, "train", "--data", "moonz", "--out", join(root, "o"), "--steps", "5"));
  it("vdm sample --model oracle --data gausian suggests gaussian", () =>
    refused(
      /no closed-form density for data set "gausian" .*; did you mean "gaussian"\?$/m,
      "sample",
      "--model",
      "oracle",
      "--data",
      "gausian",
      "--n",
      "3",
      "--out",
      join(root, "s.json"),
    ));
  it("vdm schedule --schedule cosin suggests cosine", () =>
    refused(/unknown schedule "cosin" .*; did you mean "cosine"\?$/m, "schedule", "--schedule", "cosin"));
  it("vdm train --schedule learned --loss simple", () =>
    refused(
      /a learned schedule trains through the ELBO/,
      "train",
      "--data",
      "moons",
      "--schedule",
      "learned",
      "--loss",
      "simple",
      "--out",
      join(root, "o"),
      "--steps",
      "5",
    ));
});

describe("score-field --grid", () => {
  it('a grid beyond 100 arrows per side is refused (400 failed with "Maximum call stack size exceeded")', () =>
    refused(
      /--grid must be an integer in \[2, 100\], got "400"/,
      "score-field",
      "--model",
      "oracle",
      "--data",
      "eight-gaussians",
      "--grid",
      "400",
      "--sigmas",
      "1",
      "--out",
      join(root, "sf.png"),
    ));
});

describe("long work shows progress", () => {
  it("vdm elbo counts the diffusion terms within each T (one T of 20 000 steps ran minutes in silence)", () => {
    const r = vdm("elbo", "--timesteps", "30,0", "--samples", "4", "--n", "50");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^ELBO \(diffusion terms of T = 30, 0\) 33\/33 /m);
  });

  it("vdm guidance of a 2-D model counts the sampler's steps over all scales, then says it draws the picture", () => {
    const r = vdm(
      "guidance",
      "--model",
      "oracle",
      "--data",
      "eight-gaussians",
      "--guidance",
      "cfg",
      "--scales",
      "0,3",
      "--n",
      "5",
      "--out",
      join(root, "g"),
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^guided samples \(steps of 2 scales\) 40\/40 /m);
    assert.match(r.stderr, /^drawing guidance\.png: 16 cells of 5 samples$/m);
  });
});

describe("vdm train refuses the flags its data make moot (they were silently ignored)", () => {
  const train = (...extra: string[]) => ["train", "--data", "moons", "--steps", "3", "--out", join(root, "moot"), "--no-report", ...extra];
  it("the U-Net's and the image reports' flags for points", () =>
    refused(
      /--base, --eval-images, --zoom: image data only; --data moons is points/,
      ...train("--base", "8", "--eval-images", "3", "--zoom", "3"),
    ));
  it("--data-dir for points", () => refused(/--data-dir: image data only/, ...train("--data-dir", root)));
  it("--label-column for a built-in set", () =>
    refused(/--label-column: names a column of a CSV file; --data moons is not one/, ...train("--label-column", "2")));
  it("--cfg-dropout without --conditional", () =>
    refused(/--cfg-dropout: these apply to a conditional model only \(--conditional\)/, ...train("--cfg-dropout", "0.3")));
  it("vdm train-classifier --multipliers for points", () =>
    refused(
      /--multipliers: image data only/,
      "train-classifier",
      "--data",
      "moons",
      "--steps",
      "3",
      "--out",
      join(root, "moot-c"),
      "--no-report",
      "--multipliers",
      "1,2",
    ));
});

describe("sample, guidance and nfe refuse the flags their model does not use (they were silently ignored)", () => {
  it("vdm sample --zoom of a 2-D model", () =>
    refused(/--zoom: image models only/, "sample", "--model", run, "--n", "3", "--zoom", "3", "--out", join(root, "z.png")));
  it("vdm guidance --zoom of a 2-D model", () =>
    refused(
      /--zoom: image models only/,
      "guidance",
      "--model",
      "oracle",
      "--data",
      "eight-gaussians",
      "--guidance",
      "cfg",
      "--scales",
      "0",
      "--n",
      "2",
      "--zoom",
      "3",
      "--out",
      join(root, "g"),
    ));
  it("vdm guidance --judge of an image model (judged by the shipped classifier)", () =>
    refused(
      /--judge: 2-D models only/,
      "guidance",
      "--model",
      "fashion-mnist",
      "--guidance",
      "cfg",
      "--judge",
      "exact",
      "--n",
      "2",
      "--out",
      join(root, "g"),
    ));
  it("vdm nfe --data-dir of a 2-D model", () =>
    refused(
      /--data-dir: image models only/,
      "nfe",
      "--model",
      run,
      "--samplers",
      "ddim",
      "--steps",
      "2",
      "--n",
      "10",
      "--data-dir",
      root,
      "--out",
      join(root, "n"),
    ));
});

describe("vdm elbo refuses the flags of its other mode (they were silently ignored)", () => {
  it("--out and --draws without --estimators", () =>
    refused(/--draws, --out: --estimators only/, "elbo", "--out", join(root, "e"), "--draws", "3"));
  it("--samples with --estimators", () =>
    refused(/--samples: continuous time's draws of t/, "elbo", "--estimators", "denoising", "--samples", "3", "--out", join(root, "e")));
  it("--schedule with --estimators of a trained run", () =>
    refused(
      /--schedule: the oracle's; the run .* has its own/,
      "elbo",
      "--estimators",
      "denoising",
      "--model",
      run,
      "--schedule",
      "cosine",
      "--out",
      join(root, "e"),
    ));
});

describe("an --out FILE in a directory that does not exist is refused before any work (the work was lost at the write: ENOENT ... .tmp)", () => {
  for (const [command, file, ...rest] of [
    ["sample", "a.json", "--model", "oracle", "--data", "gaussian", "--n", "3"],
    ["export", "x.onnx", "--model", "oracle", "--data", "gaussian"],
    ["score-field", "x.png", "--model", "oracle", "--data", "eight-gaussians"],
    ["schedule", "x.svg", "--model", "fashion-mnist"],
  ] as const) {
    it(`vdm ${command}`, () =>
      refused(/--out .*: the directory .*no-such-dir does not exist/, command, ...rest, "--out", join(root, "no-such-dir", file)));
  }
});

describe('vdm sample names the flags of the other kind of model (it said only "unknown flag")', () => {
  it("--control of a 2-D model", () =>
    refused(
      /unknown flag --control here: Diffusion-LM \(text\) runs only; .*run is a 2-D or image model/,
      "sample",
      "--model",
      run,
      "--control",
      "food=Italian",
      "--n",
      "3",
      "--out",
      join(root, "s.json"),
    ));
  it("--infill of the oracle", () =>
    refused(
      /unknown flag --infill here: Diffusion-LM \(text\) runs only; oracle is the oracle of a density/,
      "sample",
      "--model",
      "oracle",
      "--data",
      "gaussian",
      "--infill",
      "a _",
      "--n",
      "3",
      "--out",
      join(root, "s.json"),
    ));
  it("--class and --zoom of a text run", () => {
    const out = join(root, "text-k");
    const r = vdm(
      "train",
      "--data",
      "text:restaurants",
      "--out",
      out,
      "--steps",
      "2",
      "--width",
      "16",
      "--layers",
      "1",
      "--embed-dim",
      "4",
      "--no-report",
    );
    assert.equal(r.code, 0, r.stderr);
    refused(
      /unknown flag --class here: 2-D and image models only; .* is a Diffusion-LM \(text\) run/,
      "sample",
      "--model",
      out,
      "--class",
      "0",
      "--zoom",
      "2",
    );
  });
});

describe("vdm nfe --samplers", () => {
  const nfe = (samplers: string) => [
    "nfe",
    "--model",
    "oracle",
    "--data",
    "gaussian",
    "--samplers",
    samplers,
    "--steps",
    "2,4",
    "--n",
    "10",
    "--out",
    join(root, "n"),
  ];
  it("refuses a Langevin sampler, whose cost --steps does not set (its rows repeated one run under every N)", () =>
    refused(/--samplers langevin: its cost is set by its own flags/, ...nfe("ddim,langevin")));
  it("refuses a sampler named twice", () => refused(/--samplers names ddim twice/, ...nfe("ddim,euler,ddim")));
});
