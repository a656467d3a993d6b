/** `vdm demo` (the README's main command): train a small model on moons, sample it, write pictures. */
import { parse } from "../args.js";
import * as train from "./train.js";

export const help = `vdm demo [--out DIR]

Trains the default MLP on the built-in "moons" set (about 10 seconds on two cores with ONNX Runtime, a minute in jax-js), evaluates it on
held-out points, and writes DIR/samples.png, loss.png, forward.png and metrics.json (DIR defaults
to runs/demo).`;

export function run(argv: string[]): void {
  const flags = parse(argv, { out: "runs/demo" });
  if (flags.help) return void console.log(help);
  train.run(["--data", "moons", "--out", flags.out, "--seed", flags.seed, ...(flags.json ? ["--json"] : [])]);
}
