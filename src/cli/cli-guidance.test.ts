/** The built `vdm` binary, end to end: conditional models, classifier-free and classifier guidance, and images. */
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { oracle, tempDir, vdm, vdmJson } from "../testing/cli.js";
import { assertClose } from "../testing/helpers.js";

describe("guidance commands", () => {
  const dir = tempDir("vdm-guide-");
  const tiny = ["--steps", "30", "--hidden", "16", "--timesteps", "50", "--quiet"];

  it("trains a conditional model and a classifier (with a CSV label column), samples with cfg and classifier guidance", () => {
    const csv = join(dir, "labelled.csv");
    writeFileSync(csv, `x,y,cls\n${Array.from({ length: 300 }, (_, i) => `${Math.cos(i)},${Math.sin(i)},${i % 3}`).join("\n")}\n`);
    const cond = vdm("train", "--data", csv, "--label-column", "cls", "--conditional", "--out", join(dir, "cond"), ...tiny);
    assert.equal(cond.code, 0, cond.stderr);
    const clf = vdm("train-classifier", "--data", csv, "--label-column", "2", "--out", join(dir, "clf"), ...tiny, "--json");
    assert.equal(clf.code, 0, clf.stderr);
    assert.equal(JSON.parse(clf.stdout).accuracy.length, 5);
    for (const extra of [
      ["--guidance", "cfg", "--scale", "3"],
      ["--guidance", "classifier", "--classifier", join(dir, "clf"), "--scale", "2"],
      ["--guidance", "none"],
    ]) {
      const r = vdm("sample", "--model", join(dir, "cond"), "--class", "2", "--n", "20", "--out", join(dir, "g.json"), ...extra);
      assert.equal(r.code, 0, `${extra.join(" ")}: ${r.stderr}`);
    }
    const table = vdm(
      "guidance",
      ...oracle("eight-gaussians"),
      "--timesteps",
      "20",
      "--guidance",
      "cfg",
      "--scales",
      "0,3",
      "--n",
      "20",
      "--out",
      dir,
      "--json",
    );
    assert.equal(table.code, 0, table.stderr);
    assert.equal(JSON.parse(table.stdout).length, 16);
  });

  it("bad guidance input is named", () => {
    vdm("train", "--data", "moons", "--out", join(dir, "uncond"), ...tiny);
    const cases: [string[], RegExp][] = [
      [["--model", join(dir, "cond"), "--class", "3"], /class 3 is out of range: the model knows classes 0..2/],
      [
        ["--model", join(dir, "uncond"), "--class", "0", "--guidance", "cfg"],
        /this model is unconditional: sampling a class needs a conditional model/,
      ],
      [["--model", join(dir, "uncond"), "--class", "0", "--guidance", "classifier"], /--guidance classifier needs --classifier DIR/],
      [
        ["--model", join(dir, "uncond"), "--class", "0", "--guidance", "classifier", "--classifier", join(dir, "nope")],
        /no checkpoint at .*nope/,
      ],
      [
        ["--model", join(dir, "uncond"), "--class", "0", "--guidance", "classifier", "--classifier", join(dir, "cond")],
        /this checkpoint is a denoiser, not a classifier/,
      ],
      [[...oracle("gaussian"), "--guidance", "cfg"], /--guidance needs --class K/],
    ];
    for (const [extra, pattern] of cases) {
      const r = vdm("sample", "--n", "5", "--out", join(dir, "h.json"), ...extra);
      assert.notEqual(r.code, 0, extra.join(" "));
      assert.match(r.stderr, pattern);
    }
    const noLabels = vdm("train", "--data", "swiss-roll", "--conditional", "--out", join(dir, "sr"), ...tiny);
    assert.match(noLabels.stderr, /data set "swiss-roll" has no labels/);
  });
});

describe("images from the command line", () => {
  const dir = tempDir("vdm-images-cli-");
  const subsetDir = fileURLToPath(new URL("../../data/fashion-mnist", import.meta.url));
  /** A tiny U-Net on the bundled subset: batch 4, 8 base channels on two levels, attention at the second. */
  const tinyImages = [
    "--data",
    "fashion-mnist",
    "--data-dir",
    subsetDir,
    "--batch",
    "4",
    "--base",
    "8",
    "--multipliers",
    "1,2",
    "--attention",
    "1",
  ];

  it("trains a conditional U-Net on the bundled subset, then samples a grid with cfg and evaluates bits/dim", () => {
    const out = join(dir, "run");
    const r = vdm(
      "train",
      ...tinyImages,
      "--out",
      out,
      "--steps",
      "3",
      "--conditional",
      "--eval-images",
      "8",
      "--elbo-samples",
      "1",
      "--sample-steps",
      "2",
      "--quiet",
      "--json",
    );
    assert.equal(r.code, 0, r.stderr);
    for (const f of ["config.json", "state.safetensors", "samples.png", "loss.png", "cfg.png", "metrics.json", "grid-3.png"])
      assert.ok(existsSync(join(out, f)), f);
    const metrics = JSON.parse(r.stdout);
    assert.equal(metrics.testImages, 8);
    for (const key of ["bpd", "nats", "stepsPerSecond"]) assert.ok(Number.isFinite(metrics[key]), key);
    const s = vdm(
      "sample",
      "--model",
      out,
      "--n",
      "4",
      "--sample-steps",
      "2",
      "--class",
      "3",
      "--guidance",
      "cfg",
      "--scale",
      "2",
      "--out",
      join(dir, "g.png"),
    );
    assert.equal(s.code, 0, s.stderr);
    assert.ok(existsSync(join(dir, "g.png")));
    // 18 images go through the network as a batch of 16 and one of 2
    const rows = vdm(
      "sample",
      "--model",
      out,
      "--n",
      "18",
      "--sample-steps",
      "2",
      "--class",
      "3",
      "--guidance",
      "cfg",
      "--out",
      join(dir, "g.json"),
    );
    assert.equal(rows.code, 0, rows.stderr);
    const pixels: number[][] = JSON.parse(readFileSync(join(dir, "g.json"), "utf8"));
    assert.equal(pixels.length, 18);
    for (const row of pixels) assert.ok(row.length === 784 && row.every(Number.isFinite), "784 finite pixels per image");
    assert.notDeepEqual(pixels[17], pixels[1], "the second batch draws its own noise");
    // NumPy arrays: uint8 images [n, 28, 28] and, with --class all, int32 labels cycling over the classes
    const npy = vdm("sample", "--model", out, "--n", "12", "--sample-steps", "2", "--class", "all", "--out", join(dir, "g.npy"), "--json");
    assert.equal(npy.code, 0, npy.stderr);
    assert.deepEqual(JSON.parse(npy.stdout).written, [join(dir, "g.npy"), join(dir, "g.labels.npy")]);
    const header = (file: string) => readFileSync(join(dir, file)).subarray(10, 80).toString("latin1");
    assert.match(header("g.npy"), /'descr': '\|u1', 'fortran_order': False, 'shape': \(12, 28, 28\)/);
    assert.match(header("g.labels.npy"), /'descr': '<i4', 'fortran_order': False, 'shape': \(12,\)/);
    const labelBytes = readFileSync(join(dir, "g.labels.npy"));
    const labels = Array.from({ length: 12 }, (_, i) => labelBytes.readInt32LE(labelBytes.length - 48 + 4 * i));
    assert.deepEqual(labels, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
    const e = vdmJson("eval", "--model", out, "--n", "4", "--elbo-samples", "1", "--json");
    assert.deepEqual(Object.keys(e.terms), ["reconstruction", "prior", "diffusion"]);
    assert.equal(e.testImages, 4);
    // sample quality: Fréchet distance in the shipped classifier's features, its floor, class accuracy (classes 0..9 in turn)
    // (a model trained with label dropout is guided classifier-free by default, at guidanceDefaults.cfgScale)
    const q = vdm(
      "eval",
      "--model",
      out,
      "--n",
      "2",
      "--elbo-samples",
      "1",
      "--quality",
      "--quality-n",
      "20",
      "--sample-steps",
      "2",
      "--json",
    );
    assert.equal(q.code, 0, q.stderr);
    const quality = JSON.parse(q.stdout).quality;
    assert.deepEqual(
      [quality.n, quality.sampler, quality.nfe, quality.guidance, quality.scale],
      [20, "dpm++2m", 4, "cfg", 4],
      "two evaluations a step: with and without the label",
    );
    assert.ok(quality.frechet > 0 && quality.noiseFloor > 0 && quality.accuracy >= 0 && quality.accuracy <= 1, JSON.stringify(quality));
    assert.match(q.stderr, /eval: the ELBO of 2 test images/, "the work is announced up front, --json or not");
    const table = vdmJson(
      "guidance",
      "--model",
      out,
      "--guidance",
      "cfg",
      "--scales",
      "0,3",
      "--n",
      "2",
      "--sample-steps",
      "2",
      "--out",
      join(dir, "guidance"),
      "--json",
    );
    assert.deepEqual(
      table.map((row: { scale: number }) => row.scale),
      [0, 3],
    );
    for (const row of table)
      assert.ok(row.accuracy >= 0 && row.accuracy <= 1 && row.perClass.length === 10 && row.frechet > 0, JSON.stringify(row));
    assert.ok(existsSync(join(dir, "guidance", "guidance.png")));
    // the model shipped with the package, by its built-in name
    const shipped = vdm(
      "sample",
      "--model",
      "fashion-mnist",
      "--n",
      "2",
      "--sample-steps",
      "2",
      "--class",
      "all",
      "--out",
      join(dir, "shipped.npy"),
    );
    assert.equal(shipped.code, 0, shipped.stderr);
    assert.ok(existsSync(join(dir, "shipped.labels.npy")));
    // the ONNX backend: the same pixels from the same seed (up to float32 rounding), the same ELBO draws
    const json = (file: string) => JSON.parse(readFileSync(join(dir, file), "utf8")) as number[][];
    for (const backend of ["jax", "onnx"]) {
      const b = vdm(
        "sample",
        "--model",
        out,
        "--n",
        "3",
        "--sample-steps",
        "4",
        "--seed",
        "5",
        "--backend",
        backend,
        "--out",
        join(dir, `${backend}.json`),
      );
      assert.equal(b.code, 0, b.stderr);
    }
    // float32 rounding, ordered differently by the two runtimes, relative to the values: this briefly
    // trained model's unclipped pixels reach the thousands
    assertClose(json("onnx.json").flat(), json("jax.json").flat(), { rtol: 1e-5, atol: 0.01, label: "pixels (0..255), ONNX vs jax-js" });
    const evOnnx = JSON.parse(vdm("eval", "--model", out, "--n", "4", "--elbo-samples", "1", "--json", "--backend", "onnx").stdout);
    assertClose([evOnnx.bpd], [e.bpd], { rtol: 1e-4, label: "bits/dim, ONNX vs jax-js" });
    const ex = vdm("export", "--model", out, "--out", join(dir, "net.onnx"), "--batch", "2", "--json");
    assert.equal(ex.code, 0, ex.stderr);
    assert.deepEqual(JSON.parse(ex.stdout).inputs, ["x [2, 28, 28, 1]", "t [2]", "gamma [2]", "labels [2] int32"]);
    assert.equal(readFileSync(join(dir, "net.onnx")).length, JSON.parse(ex.stdout).bytes);
    const onnxRun = vdm(
      "train",
      ...tinyImages,
      "--out",
      join(dir, "onnx-run"),
      "--steps",
      "2",
      "--eval-images",
      "4",
      "--elbo-samples",
      "1",
      "--sample-steps",
      "2",
      "--quiet",
      "--json",
      "--backend",
      "onnx",
    );
    assert.equal(onnxRun.code, 0, onnxRun.stderr);
    assert.ok(Number.isFinite(JSON.parse(onnxRun.stdout).bpd));
    assert.match(
      vdm("sample", "--model", out, "--n", "2", "--backend", "tpu", "--out", join(dir, "x.json")).stderr,
      /--backend must be auto, onnx or jax, got "tpu"/,
    );
    assert.match(vdm("export", "--model", out, "--out", join(dir, "net.pb")).stderr, /--out must be a \.onnx file/);
    const bad = vdm("train", "--data", "fashion-mnist", "--data-dir", join(dir, "nowhere"), "--out", join(dir, "x"));
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /no train-images-idx3-ubyte\[\.gz\] in .*nowhere/);
    const wrongNet = vdm("train", "--data", "moons", "--net", "unet", "--out", join(dir, "y"));
    assert.match(wrongNet.stderr, /the U-Net needs image data/);
  });
});
