/**
 * `vdm export --format pytorch`: the directory holds the run byte for byte, the raw training rows the
 * run's normalisation was fitted on (2-D) or the IDX file's own pixels (images), the PyTorch package
 * and its launcher; what it cannot hand over is refused before anything is written.
 */
import assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { refused, tinyRuns, trainTinyText, vdmJson } from "../testing/cli.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** A .npy file read by its header alone (numpy.lib.format 1.0): dtype, shape and the data's bytes. */
function readNpy(path: string): { descr: string; shape: number[]; data: Buffer } {
  const bytes = readFileSync(path);
  assert.equal(bytes.subarray(0, 6).toString("latin1"), "\x93NUMPY");
  const length = bytes.readUInt16LE(8);
  const header = bytes.subarray(10, 10 + length).toString("latin1");
  const descr = /'descr': '([^']+)'/.exec(header)?.[1] ?? "";
  const shape = (/'shape': \(([^)]*)\)/.exec(header)?.[1] ?? "")
    .split(",")
    .filter((s) => s.trim() !== "")
    .map(Number);
  return { descr, shape, data: bytes.subarray(10 + length) };
}

const floats = (b: Buffer) => new Float32Array(b.buffer, b.byteOffset, b.length / 4);

describe("vdm export --format pytorch", () => {
  const runs = tinyRuns("vdm-export-pytorch-");

  it("copies the run byte for byte, with its raw training rows, vdm_torch and train.py", () => {
    const out = join(runs.root, "moons-torch");
    const written = vdmJson("export", "--format", "pytorch", "--model", runs.run, "--out", out, "--json");
    for (const name of ["config.json", "state.safetensors"])
      assert.deepEqual(readFileSync(join(out, name)), readFileSync(join(runs.run, name)));
    const python = join(ROOT, "python", "vdm_torch");
    for (const name of readdirSync(python).filter((n) => n.endsWith(".py")))
      assert.deepEqual(readFileSync(join(out, "vdm_torch", name)), readFileSync(join(python, name)), name);
    assert.ok(existsSync(join(out, "train.py")) && existsSync(join(out, "requirements.txt")));
    assert.match(readFileSync(join(out, "README.md"), "utf8"), /torchrun .*train\.py --steps \d+ --out/);
    // the rows are the raw training set: its mean and std are the run's normalisation (fitted on it)
    const config = JSON.parse(readFileSync(join(out, "config.json"), "utf8"));
    const x = readNpy(join(out, "data", "x.npy"));
    assert.equal(x.descr, "<f4");
    assert.deepEqual(x.shape, [config.data.train, 2]);
    assert.equal(written.rows, config.data.train);
    const values = floats(x.data);
    for (let d = 0; d < 2; d++) {
      let sum = 0;
      let sq = 0;
      for (let i = d; i < values.length; i += 2) sum += values[i]!;
      const mean = sum / x.shape[0]!;
      for (let i = d; i < values.length; i += 2) sq += (values[i]! - mean) ** 2;
      // float32 data, float64 sums: the fitted moments agree to the last digits
      assert.ok(Math.abs(mean - config.data.mean[d]) < 1e-5, `mean[${d}] ${mean} against ${config.data.mean[d]}`);
      assert.ok(Math.abs(Math.sqrt(sq / x.shape[0]!) / config.data.std[d] - 1) < 1e-4, `std[${d}]`);
    }
    const labels = readNpy(join(out, "data", "labels.npy"));
    assert.equal(labels.descr, "<i4");
    assert.deepEqual(labels.shape, [config.data.train]);
  });

  it("writes an image set's own 8-bit pixels and labels (the shipped model's weights, its data the 2,000 bundled images)", () => {
    // the shipped model reads the full set where Debian's is installed: a copy of it names the bundled subset
    const shipped = join(runs.root, "shipped");
    mkdirSync(shipped);
    const config = JSON.parse(readFileSync(join(ROOT, "models", "fashion-mnist", "config.json"), "utf8"));
    config.data.dataDir = join(ROOT, "data", "fashion-mnist");
    writeFileSync(join(shipped, "config.json"), JSON.stringify(config));
    copyFileSync(join(ROOT, "models", "fashion-mnist", "state.safetensors"), join(shipped, "state.safetensors"));
    const out = join(runs.root, "fashion-torch");
    const written = vdmJson("export", "--format", "pytorch", "--model", shipped, "--out", out, "--json");
    assert.equal(written.step, null);
    const idx = gunzipSync(readFileSync(join(ROOT, "data", "fashion-mnist", "train-images-idx3-ubyte.gz")));
    const idxLabels = gunzipSync(readFileSync(join(ROOT, "data", "fashion-mnist", "train-labels-idx1-ubyte.gz")));
    const n = idx.readUInt32BE(4);
    const x = readNpy(join(out, "data", "x.npy"));
    assert.equal(x.descr, "|u1");
    assert.deepEqual(x.shape, [n, 28, 28, 1]);
    assert.deepEqual(x.data, idx.subarray(16));
    assert.deepEqual(
      Array.from(new Int32Array(Uint8Array.from(readNpy(join(out, "data", "labels.npy")).data).buffer)),
      Array.from(idxLabels.subarray(8)),
    );
    assert.match(readFileSync(join(out, "README.md"), "utf8"), /--scratch/);
  });

  it("refuses what it cannot hand over before writing anything: classifiers, text runs, the oracle, a used --out, ONNX flags", () => {
    refused(
      /classifier run; --format pytorch hands over/,
      "export",
      "--format",
      "pytorch",
      "--model",
      runs.classifier,
      "--out",
      join(runs.root, "c"),
    );
    const text = join(runs.root, "text");
    const trained = trainTinyText(text, "--no-report");
    assert.equal(trained.code, 0, trained.stderr);
    refused(/Diffusion-LM \(text\) run/, "export", "--format", "pytorch", "--model", text, "--out", join(runs.root, "t"));
    refused(/needs --model DIR/, "export", "--format", "pytorch", "--model", "oracle", "--out", join(runs.root, "o"));
    refused(
      /--batch: for --format onnx/,
      "export",
      "--format",
      "pytorch",
      "--model",
      runs.run,
      "--out",
      join(runs.root, "b"),
      "--batch",
      "4",
    );
    const used = join(runs.root, "used");
    mkdirSync(used);
    writeFileSync(join(used, "mine.txt"), "keep");
    refused(/already exists and is not an empty directory/, "export", "--format", "pytorch", "--model", runs.run, "--out", used);
    assert.deepEqual(readdirSync(used), ["mine.txt"]);
    for (const name of ["c", "t", "o", "b"]) assert.ok(!existsSync(join(runs.root, name)), name);
    assert.deepEqual(
      readdirSync(runs.root).filter((n) => n.endsWith(".tmp")),
      [],
    );
  });
});
