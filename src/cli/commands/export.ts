/** `vdm export`: a checkpoint's network as an ONNX file, for ONNX Runtime or any other ONNX runtime. */
import { writeFileAtomic } from "../../io/atomic.js";
import { OPSET } from "../../onnx/export.js";
import { exportModel, modelInputs } from "../../onnx/model.js";
import { defineFlags, helpText, int, parse, UsageError } from "../args.js";
import { modelFlags, oracleDataHelp, resolveModel } from "../model.js";
import { checkOutFile } from "../runs.js";

/** `vdm export`'s own flags. */
const exportFlags = defineFlags("Flags", {
  out: { value: "FILE.onnx", help: "where the ONNX file goes (required)" },
  batch: { default: "16", value: "B", help: "the batch size the network is exported at", parse: int({ min: 1 }) },
});

/** The flag tables `vdm export` parses, in the order its help lists them. */
export const flagTables = [exportFlags, modelFlags] as const;

/** One line for `vdm --help`. */
export const summary = "a checkpoint's network as an ONNX file";

export const help = helpText(
  `vdm export --model <DIR|oracle> --out FILE.onnx [--batch B]
           oracle only: --data ${oracleDataHelp} [--schedule S] [--timesteps T]`,
  `Writes the network (ONNX opset ${OPSET}) at batch size B. Inputs: x [B, ...] in the model's
normalised coordinates, t [B] in [0, 1], gamma [B] = −log SNR(t), and for conditional models labels
[B] int32 (the number of classes means "no label"). Output "output": the model's prediction of its
target (printed), as the jax-js model computes it.`,
  ...flagTables,
);

export function run(argv: string[]): void {
  const flags = parse(argv, ...flagTables);
  if (flags.help) return void console.log(help);
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
