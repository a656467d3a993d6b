/**
 * `vdm export --format pytorch`: a run handed to PyTorch. The directory it writes holds everything a
 * machine with PyTorch needs to train the run further with torchrun (python/README.md):
 *   train.py            the launcher (`torchrun ... DIR/train.py --steps S --out RUN2`)
 *   vdm_torch/          the PyTorch twins of the networks, schedules, losses, AdamW/EMA and run files
 *   config.json, state.safetensors   the run's checkpoint, as vdm wrote it
 *   data/x.npy          the run's training rows as vdm loaded them, before normalisation
 *                       (float32 [N, dim] points, or uint8 [N, rows, cols, channels] images)
 *   data/labels.npy     int32 [N] class labels, when the data have them
 *   data/fourier.npy    float32 [dim, F]: the MLP's Fourier frequencies, when it has any (not in checkpoints)
 *   requirements.txt, README.md
 * The directory is written beside its final place and renamed into it, so a failed export leaves nothing.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { isImageSet } from "../data/index.js";
import { readCheckpointConfig, readStateFile } from "../io/checkpoint.js";
import { npyBytes } from "../io/npy.js";
import { stepOf, WEIGHTS_FORMAT } from "../io/state.js";
import { configOf } from "../models/kinds.js";
import { fourierFrequencies, mlpKind } from "../models/mlp.js";
import { type RunConfig, validateRunConfig } from "../train/config.js";
import { modelDirectory } from "../train/shipped.js";
import { UsageError } from "./args.js";
import { kindOf } from "./runs.js";
import { runSplit } from "./training.js";

/** The package's python/ folder (beside dist/ in the repository and in the npm package). */
const pythonDir = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "python");

/** What `exportPytorch` wrote: the directory, its files with their sizes, and the training rows. */
export interface PytorchExport {
  dir: string;
  files: { name: string; bytes: number }[];
  /** the training rows written to data/, and how many the run's config names (0: all there are; an image set may have fewer here than where it was trained) */
  rows: number;
  runRows: number;
  /** the steps the exported checkpoint has completed; null for exported weights (EMA only: train.py starts them with --scratch) */
  step: number | null;
}

/** The training rows of `config`'s data, raw (images as 8-bit pixels), with their labels and the MLP's Fourier frequencies. */
function trainingArrays(config: RunConfig): { rows: number; arrays: Record<string, Uint8Array> } {
  const { train } = runSplit(config);
  const image = isImageSet(config.data.spec);
  const shape = [train.n, ...(train.shape ?? [train.dim])];
  const arrays: Record<string, Uint8Array> = {
    "x.npy": npyBytes(image ? Uint8Array.from(train.points) : train.points, shape),
  };
  if (train.labels) arrays["labels.npy"] = npyBytes(train.labels, [train.n]);
  const mlp = configOf(config.model, mlpKind);
  const frequencies = mlp ? fourierFrequencies(mlp) : null;
  if (frequencies) arrays["fourier.npy"] = npyBytes(Float32Array.from(frequencies.ref.dataSync()), frequencies.shape);
  frequencies?.dispose();
  return { rows: train.n, arrays };
}

/** The steps of the training checkpoint in `dir`, or null when it holds exported weights (no optimiser state). */
function trainingStep(dir: string): number | null {
  const file = readStateFile(dir);
  return file.metadata.format === WEIGHTS_FORMAT ? null : stepOf(file);
}

/** The README of an exported run: python/export-readme.md with the run's names, step and batch filled in. */
function readme(model: string, out: string, config: RunConfig, step: number | null): string {
  const fill: Record<string, string> = {
    MODEL: model,
    OUT: out,
    STEP: step === null ? "0 (exported weights: start with --scratch)" : String(step),
    MORE: String((step ?? 0) + 1000),
    BATCH: String(config.batch),
  };
  return readFileSync(join(pythonDir, "export-readme.md"), "utf8").replace(
    /\{\{(\w+)\}\}/g,
    (_, name: string) => fill[name] ?? `{{${name}}}`,
  );
}

/**
 * Write the PyTorch hand-off of the run `model` (a run directory or a shipped model's name) into
 * `out`, which must not exist yet or be empty. A classifier or a text run is refused: they have no
 * PyTorch trainer.
 */
export function exportPytorch(model: string, out: string): PytorchExport {
  const dir = modelDirectory(model);
  if (!existsSync(join(dir, "config.json"))) throw new UsageError(`--model ${model}: ${dir} holds no run (no config.json)`);
  const config = readCheckpointConfig(dir, validateRunConfig);
  const kind = kindOf(config);
  if (kind !== "denoiser")
    throw new UsageError(
      `--model ${model} is a ${kind === "text" ? "Diffusion-LM (text)" : "classifier"} run; --format pytorch hands over 2-D and image denoisers only (MLP and U-Net)`,
    );
  if (config.latent)
    throw new UsageError(
      `--model ${model} is a latent run (vdm train --latent); --format pytorch hands over denoisers of their own data only`,
    );
  if (existsSync(out) && (!statSync(out).isDirectory() || readdirSync(out).length > 0))
    throw new UsageError(`--out ${out} already exists and is not an empty directory; --format pytorch writes a new directory`);
  const step = trainingStep(dir);
  const { rows, arrays } = trainingArrays(config);
  const tmp = `${out}.${process.pid}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  try {
    mkdirSync(join(tmp, "vdm_torch"), { recursive: true });
    mkdirSync(join(tmp, "data"));
    for (const name of readdirSync(join(pythonDir, "vdm_torch")).filter((n) => n.endsWith(".py")))
      copyFileSync(join(pythonDir, "vdm_torch", name), join(tmp, "vdm_torch", name));
    for (const name of ["train.py", "requirements.txt"]) copyFileSync(join(pythonDir, name), join(tmp, name));
    for (const name of ["config.json", "state.safetensors"]) copyFileSync(join(dir, name), join(tmp, name));
    for (const [name, bytes] of Object.entries(arrays)) writeFileSync(join(tmp, "data", name), bytes);
    writeFileSync(join(tmp, "README.md"), readme(model, out, config, step));
    if (existsSync(out)) rmSync(out, { recursive: true });
    renameSync(tmp, out);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  return { dir: out, files: listFiles(out), rows, runRows: config.data.train, step };
}

/** The files under `dir` (relative names, sorted) with their sizes. */
function listFiles(dir: string, prefix = ""): { name: string; bytes: number }[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((e) =>
      e.isDirectory()
        ? listFiles(dir, join(prefix, e.name))
        : [{ name: join(prefix, e.name), bytes: statSync(join(dir, prefix, e.name)).size }],
    );
}
