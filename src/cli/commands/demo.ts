/** `vdm demo` (the README's main command): train a small model on moons, sample it, write pictures. */
import * as train from "./train.js";

export const help = `vdm demo [--out DIR]

Trains the default MLP on the built-in "moons" set (about a minute on two cores), evaluates it on
held-out points, and writes DIR/samples.png, loss.png, forward.png and metrics.json (DIR defaults
to runs/demo).`;

export function run(argv: string[]): void {
  if (argv.includes("--help") || argv.includes("-h")) return void console.log(help);
  const out = argv[argv.indexOf("--out") + 1] ?? "runs/demo";
  train.run(["--data", "moons", "--out", argv.includes("--out") ? out : "runs/demo", "--seed", "0"]);
}
