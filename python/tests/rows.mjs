// A run's training rows as vdm loads and normalises them (the built dist/), as `vdm train` does:
//   node python/tests/rows.mjs RUN OUT
// writes OUT/x.npy (the raw rows: float32 [N, dim], or uint8 [N, H, W, C] for images), OUT/labels.npy
// (int32 [N], when the data have labels) and OUT/normalised.npy (float32, src/data/normalize.ts's normalize).
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadSplit } from "../../dist/data/index.js";
import { normalize } from "../../dist/data/normalize.js";
import { initEngine, shutdownEngine } from "../../dist/engine/index.js";
import { readCheckpointConfig } from "../../dist/io/checkpoint.js";
import { npyBytes } from "../../dist/io/npy.js";
import { dataShape } from "../../dist/train/build.js";
import { validateRunConfig } from "../../dist/train/config.js";

const [run, out] = process.argv.slice(2);
if (!run || !out) throw new Error("usage: node python/tests/rows.mjs RUN OUT");
await initEngine("wasm");
const config = readCheckpointConfig(run, validateRunConfig);
const { train } = loadSplit(config.data.spec, config.seed, {
  train: config.data.train,
  test: config.data.test,
  labelColumn: config.data.labelColumn ?? "",
  dataDir: config.data.dataDir ?? "",
});
const shape = [train.n, ...dataShape(config)];
const images = config.data.shape !== undefined;
mkdirSync(out, { recursive: true });
writeFileSync(join(out, "x.npy"), npyBytes(images ? Uint8Array.from(train.points) : train.points, shape));
if (train.labels) writeFileSync(join(out, "labels.npy"), npyBytes(Int32Array.from(train.labels), [train.n]));
writeFileSync(join(out, "normalised.npy"), npyBytes(normalize(train.points, config.data), shape));
shutdownEngine();
