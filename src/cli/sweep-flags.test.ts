/**
 * Faults of the kinds a new user meets, end to end through the built `vdm` (continued from sweep.test.ts):
 * misspelt names, flags a command's model or mode does not use, work without progress, and flags of
 * the other kind of model.
 */
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { oracle, refused, tinyRuns, trainTinyText, vdm } from "../testing/cli.js";

/** A tiny 2-D run and classifier that the tests read. */
const { root, run } = tinyRuns("vdm-sweep-flags-");

describe("vdm train of a text run", () => {
  it('--classifiers "" trains no classifier (it fell back to the default, food)', () => {
    const out = join(root, "text");
    const r = trainTinyText(out, "--embed-dim", "4", "--classifiers", "", "--classifier-steps", "2");
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
      ...oracle("gausian"),
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
      ...oracle("eight-gaussians"),
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
    const r = vdm("guidance", ...oracle("eight-gaussians"), "--guidance", "cfg", "--scales", "0,3", "--n", "5", "--out", join(root, "g"));
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
      ...oracle("eight-gaussians"),
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
    ["sample", "a.json", ...oracle("gaussian"), "--n", "3"],
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
      ...oracle("gaussian"),
      "--infill",
      "a _",
      "--n",
      "3",
      "--out",
      join(root, "s.json"),
    ));
  it("--class and --zoom of a text run", () => {
    const out = join(root, "text-k");
    const r = trainTinyText(out, "--embed-dim", "4", "--no-report");
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
    ...oracle("gaussian"),
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
