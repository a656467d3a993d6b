/**
 * `vdm export`: a checkpoint's network as an ONNX file, for ONNX Runtime or any other ONNX runtime;
 * or (--format pytorch) the whole run handed to PyTorch's distributed training (export-pytorch.ts).
 */
import { writeFileAtomic } from "../../io/atomic.js";
import { OPSET } from "../../onnx/export.js";
import { exportModel, modelInputs } from "../../onnx/model.js";
import { defineFlags, helpText, int, oneOf, type Parsed, parseGiven, refuseGiven, UsageError } from "../args.js";
import { exportPytorch } from "../export-pytorch.js";
import { modelFlags, oracleDataHelp, resolveModel } from "../model.js";
import { checkOutFile } from "../runs.js";

/** `vdm export`'s own flags. */
const exportFlags = defineFlags("Flags", {
  format: {
    default: "onnx",
    value: "onnx|pytorch",
    help: "onnx: the network as one ONNX file; pytorch: the run, its data and a torchrun trainer in a new directory",
    parse: oneOf("onnx", "pytorch"),
  },
  out: { value: "FILE.onnx|DIR", help: "where the ONNX file (--format onnx) or the new directory (--format pytorch) goes (required)" },
  batch: { default: "16", value: "B", help: "the batch size the network is exported at (--format onnx)", parse: int({ min: 1 }) },
});

/** The flag tables `vdm export` parses, in the order its help lists them. */
export const flagTables = [exportFlags, modelFlags] as const;

/** One line for `vdm --help`. */
export const summary = "a checkpoint's network as an ONNX file, or a run handed to PyTorch (torchrun)";

export const help = helpText(
  `vdm export --model <DIR|oracle> --out FILE.onnx [--batch B]
           oracle only: --data ${oracleDataHelp} [--schedule S] [--timesteps T]
  vdm export --format pytorch --model DIR --out NEW_DIR`,
  `Writes the network (ONNX opset ${OPSET}) at batch size B. Inputs: x [B, ...] in the model's
normalised coordinates, t [B] in [0, 1], gamma [B] = −log SNR(t), and for conditional models labels
[B] int32 (the number of classes means "no label"). Output "output": the model's prediction of its
target (printed), as the jax-js model computes it.

With --format pytorch, NEW_DIR receives the run (config.json, state.safetensors), its training data
(data/*.npy), the PyTorch twins (vdm_torch/) and train.py, which trains it further on one machine or
many (torchrun, DistributedDataParallel) and writes checkpoints that vdm sample and eval read and
vdm train resumes: NEW_DIR/README.md has the commands.`,
  ...flagTables,
);

export function run(argv: string[]): void {
  const { values: flags, given } = parseGiven(argv, ...flagTables);
  if (flags.help) return void console.log(help);
  if (flags.format === "pytorch") return void exportToPytorch(flags, given);
  if (!flags.out.endsWith(".onnx")) throw new UsageError(`--out must be a .onnx file, got "${flags.out}"`);
  checkOutFile(flags.out);
  const { batch } = flags;
  // the export traces the jax-js network itself
  const { denoiser, shape } = resolveModel({ ...flags, backend: "jax" });
  const batchShape = [batch, ...shape];
  const bytes = exportModel(denoiser.model, denoiser.params, batchShape);
  writeFileAtomic(flags.out, bytes);
  const inputs = modelInputs(denoiser.model, batchShape).map((i) => `${i.name} [${i.shape.join(", ")}]${i.dtype ? ` ${i.dtype}` : ""}`);
  const out = {
    written: flags.out,
    bytes: bytes.length,
    inputs,
    output: `output [${batchShape.join(", ")}]`,
    target: denoiser.model.target,
  };
  if (flags.json) return void console.log(JSON.stringify(out));
  console.log(
    `wrote ${flags.out} (${(bytes.length / 1e6).toFixed(2)} MB): inputs ${inputs.join(", ")}; output [${batchShape.join(", ")}] predicts ${out.target}`,
  );
}

/** --format pytorch: the run in --model handed to PyTorch, written to the new directory --out. */
function exportToPytorch(flags: Parsed<typeof flagTables>, given: ReadonlySet<string>): void {
  refuseGiven(
    given,
    ["batch", "data", "schedule", "timesteps", "backend", "onnx-threads"],
    "for --format onnx; --format pytorch hands over a run",
  );
  if (!flags.out) throw new UsageError("--out is required: the new directory the run goes into");
  if (flags.model === "" || flags.model === "oracle")
    throw new UsageError("--format pytorch needs --model DIR: a run directory (vdm train --out DIR)");
  const written = exportPytorch(flags.model, flags.out);
  if (flags.json) return void console.log(JSON.stringify(written));
  const bytes = written.files.reduce((a, f) => a + f.bytes, 0);
  if (written.runRows > written.rows)
    console.error(
      `note: the run trained on ${written.runRows} rows, ${written.rows} are here (data/x.npy holds these); train.py --data-dir DIR reads the full image set's IDX files on the machine that trains`,
    );
  console.log(
    `wrote ${written.dir} (${written.files.length} files, ${(bytes / 1e6).toFixed(2)} MB: the run${written.step === null ? " (weights only)" : ` at step ${written.step}`}, ${written.rows} training rows, vdm_torch, train.py)
train further: torchrun --standalone --nproc_per_node N ${written.dir}/train.py --steps S --out RUN2 (see ${written.dir}/README.md)`,
  );
}
