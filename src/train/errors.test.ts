/**
 * The library's typed errors: a missing data set (an unknown name, a missing file or image
 * directory) is a `DataError`, a missing, truncated or corrupt checkpoint a `CheckpointError`, and
 * an invalid run config (in `config.json` or from options) a `ConfigError` naming the field and the
 * value. No message speaks the command line's language (flags).
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { loadSplit, requireLabels } from "../data/index.js";
import { Rng } from "../engine/index.js";
import { tree } from "../engine/jax.js";
import { CheckpointError, ConfigError, DataError, VdmError } from "../errors.js";
import { saveCheckpoint } from "../io/checkpoint.js";
import { useEngine } from "../testing/helpers.js";
import { adamInit } from "./adam.js";
import { buildClassifier, initParams } from "./build.js";
import { type RunConfig, validateRunConfig } from "./config.js";
import { makeRunConfig } from "./defaults.js";
import { loadClassifier, loadRun } from "./load.js";

useEngine("wasm");

const tmp = (name: string) => mkdtempSync(join(tmpdir(), `vdm-errors-${name}-`));

/** `f` throws an instance of `kind` (and of VdmError) whose message matches `pattern` and names no flag. */
function throwsTyped(f: () => unknown, kind: typeof VdmError, pattern: RegExp): void {
  assert.throws(f, (err: Error) => {
    assert.ok(err instanceof kind, `expected a ${kind.name}, got ${err.name}: ${err.message}`);
    assert.ok(err instanceof VdmError);
    assert.equal(err.name, kind.name);
    assert.match(err.message, pattern);
    assert.doesNotMatch(err.message, /(^|\s)--[a-z]|vdm [a-z]/, `a command-line word in a library message: ${err.message}`);
    return true;
  });
}

const points = { spec: "moons", dim: 2, mean: [0, 0], std: [1, 1], train: 100, test: 20 };
const tiny = (): RunConfig => makeRunConfig(points, { steps: 10, hidden: 8, layers: 1, batch: 4 });

/** A checkpoint of fresh parameters (no training needed to test reading). */
function checkpoint(config: RunConfig): string {
  const dir = tmp("ckpt");
  const params = initParams(config, new Rng(0));
  const ema = initParams(config, new Rng(0));
  const adam = adamInit(params);
  saveCheckpoint(dir, config, {
    params,
    ema,
    adam,
    step: 0,
    rng: new Rng(1).state(),
    losses: new Float32Array(0),
    variances: new Float32Array(0),
  });
  tree.dispose([params, ema, adam.m, adam.v]);
  return dir;
}

describe("typed errors", () => {
  it("a missing data set is a DataError: an unknown name, a missing file, a missing image directory, no labels", () => {
    throwsTyped(
      () => loadSplit("spiral", 0),
      DataError,
      /^unknown dataset "spiral" \(built in: moons, .*images: fashion-mnist, read from a directory of IDX files; or a path to a \.csv or \.json file\)$/,
    );
    const dir = tmp("data");
    throwsTyped(() => loadSplit(join(dir, "nope.csv"), 0), DataError, /^cannot read data file .*nope\.csv: ENOENT$/);
    throwsTyped(() => loadSplit(join(dir, "nope.json"), 0), DataError, /^cannot read data file .*nope\.json: ENOENT$/);
    throwsTyped(
      () => loadSplit("fashion-mnist", 0, { dataDir: join(dir, "nowhere") }),
      DataError,
      /^no train-images-idx3-ubyte\[\.gz\] in .*nowhere \(no such directory\)$/,
    );
    throwsTyped(
      () => loadSplit("fashion-mnist", 0, { dataDir: dir }),
      DataError,
      /^no train-images-idx3-ubyte\[\.gz\] in .*vdm-errors-data-\w+$/,
    );
    writeFileSync(join(dir, "train-images-idx3-ubyte"), Uint8Array.from([0, 0, 8, 3, 0, 0, 0, 9]));
    writeFileSync(join(dir, "train-labels-idx1-ubyte"), Uint8Array.from([0, 0, 8, 1, 0, 0, 0, 9]));
    throwsTyped(
      () => loadSplit("fashion-mnist", 0, { dataDir: dir }),
      DataError,
      /train-images-idx3-ubyte: truncated header \(3 dimensions\)$/,
    );
    writeFileSync(join(dir, "p.csv"), "1,2\n3,4\n5,6\n");
    throwsTyped(() => loadSplit(join(dir, "p.csv"), 0, { labelColumn: "y" }), DataError, /p\.csv: no label column "y" \(2 columns\)$/);
    throwsTyped(
      () => requireLabels(loadSplit("swiss-roll", 0, { train: 10, test: 10 }).train, "swiss-roll"),
      DataError,
      /^data set "swiss-roll" has no labels \(.*CSV files: name a label column\)$/,
    );
  });

  it("a missing, truncated or corrupt checkpoint is a CheckpointError", () => {
    throwsTyped(
      () => loadRun(join(tmpdir(), "vdm-no-such-dir")),
      CheckpointError,
      /^no checkpoint at .*vdm-no-such-dir \(missing config\.json\)$/,
    );
    const dir = checkpoint(tiny());
    assert.equal(loadRun(dir).config.steps, 10, "the intact checkpoint loads");
    const state = join(dir, "state.safetensors");
    const bytes = readFileSync(state);
    truncateSync(state, statSync(state).size - 100);
    throwsTyped(() => loadRun(dir), CheckpointError, /^checkpoint .*state\.safetensors: truncated: tensor [\w.]+ ends at byte \d+ of \d+$/);
    writeFileSync(state, bytes.subarray(0, 4));
    throwsTyped(() => loadRun(dir), CheckpointError, /state\.safetensors: truncated: 4 bytes, no header$/);
    writeFileSync(state, Buffer.concat([bytes.subarray(0, 8), Buffer.from("{{"), bytes.subarray(10)]));
    throwsTyped(() => loadRun(dir), CheckpointError, /state\.safetensors: corrupt header \(not JSON\)$/);
    writeFileSync(state, bytes);
    const config = readFileSync(join(dir, "config.json"), "utf8");
    writeFileSync(join(dir, "config.json"), config.slice(0, 40));
    throwsTyped(() => loadRun(dir), CheckpointError, /^checkpoint .*: config\.json is corrupt \(.*JSON.*\)$/);
    throwsTyped(() => loadClassifier(dir), CheckpointError, /config\.json is corrupt/);
    writeFileSync(join(dir, "config.json"), config);
    const other = checkpoint(makeRunConfig(points, { steps: 10, hidden: 16, layers: 1, batch: 4 }));
    writeFileSync(join(other, "config.json"), config); // a config whose network does not fit the state
    throwsTyped(
      () => loadRun(other),
      CheckpointError,
      /state\.safetensors: tensor params\.[\w.]+ has shape \[\d+(,\d+)*\], the model needs \[\d+(,\d+)*\]$/,
    );
  });

  it("an invalid config.json is a ConfigError naming the field and the value", () => {
    const dir = checkpoint(tiny());
    const good = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
    // biome-ignore lint/suspicious/noExplicitAny: each case edits the parsed config.json at its own depth
    const cases: [(c: any) => void, RegExp][] = [
      [(c) => (c.steps = -5), /field "steps" must be a positive integer, got -5$/],
      // the built-in kinds, in the table's order (the table is open: a new kind follows them)
      [(c) => (c.model.kind = "transformer"), /field "model\.kind" must be one of mlp, unet, cnn, text(, [\w-]+)*, got "transformer"$/],
      [(c) => delete c.data.std, /field "data\.std" is missing \(a list of positive numbers\), got nothing$/],
      [(c) => (c.data.std = [1, -1]), /field "data\.std\[1\]" must be a positive number, got -1$/],
      [(c) => (c.model.mlp.dim = 3), /field "model\.mlp\.dim" must equal data\.dim = 2, got 3$/],
      [(c) => (c.schedule = "learned"), /field "learnedSchedule" is missing \(an object\), got nothing$/],
      [
        (c) => (c.schedule = "quadratic"),
        /field "schedule" must be one of linear, cosine, log-snr-linear, geometric, sqrt, learned, learned-linear, got "quadratic"$/,
      ],
      [(c) => (c.adam.lr = "fast"), /field "adam\.lr" must be a positive number, got "fast"$/],
      [(c) => (c.format = "vdm-run-0"), /field "format" must be "vdm-run-1" \(an unknown format\), got "vdm-run-0"$/],
    ];
    for (const [edit, pattern] of cases) {
      const c = structuredClone(good);
      edit(c);
      writeFileSync(join(dir, "config.json"), JSON.stringify(c));
      throwsTyped(() => loadRun(dir), ConfigError, new RegExp(`^checkpoint .*: config\\.json: ${pattern.source}`));
    }
    writeFileSync(join(dir, "config.json"), "[1, 2]");
    throwsTyped(() => loadRun(dir), ConfigError, /config\.json: the config must be a JSON object, got \[1, 2\]$/);
    // not JSON values: NaN and Infinity from JavaScript
    throwsTyped(
      () => validateRunConfig({ ...good, seed: Number.NaN }),
      ConfigError,
      /^run config: field "seed" must be an integer in \[0, 2\^32\), got NaN$/,
    );
    throwsTyped(
      () => validateRunConfig({ ...good, batch: Infinity }),
      ConfigError,
      /^run config: field "batch" must be a positive integer \(at most \d+\), got Infinity$/,
    );
    assert.equal(validateRunConfig(good), good, "a valid config is returned as it is");
  });

  it("invalid options and mismatched runs are ConfigErrors", () => {
    throwsTyped(() => makeRunConfig(points, { steps: -1 }), ConfigError, /^run options: field "steps" must be a positive integer/);
    throwsTyped(() => makeRunConfig(points, { lr: 0 }), ConfigError, /^run options: field "adam\.lr" must be a positive number, got 0$/);
    throwsTyped(() => makeRunConfig(points, { architecture: "unet" }), ConfigError, /^the U-Net needs image data/);
    throwsTyped(() => makeRunConfig(points, { schedule: "learnt" }), ConfigError, /^unknown schedule "learnt"/);
    throwsTyped(
      () => makeRunConfig(points, { schedule: "learned", loss: "simple" }),
      ConfigError,
      /^a learned schedule trains through the ELBO/,
    );
    throwsTyped(
      () => buildClassifier(tiny()),
      ConfigError,
      /^this checkpoint is a denoiser, not a classifier \(a classifier's run has task "classifier"\)$/,
    );
  });
});
