/** The `vdm` command line. */
import { shutdownEngine, initEngine } from "../engine/index.js";
import { UsageError } from "./args.js";
import * as demo from "./commands/demo.js";
import * as elbo from "./commands/elbo.js";
import * as evalCommand from "./commands/eval.js";
import * as exportCommand from "./commands/export.js";
import * as guidance from "./commands/guidance.js";
import * as trainClassifier from "./commands/train-classifier.js";
import * as langevinDemo from "./commands/langevin-demo.js";
import * as nfe from "./commands/nfe.js";
import * as scoreField from "./commands/score-field.js";
import * as sample from "./commands/sample.js";
import * as schedule from "./commands/schedule.js";
import * as train from "./commands/train.js";

interface Command {
  help: string;
  run(argv: string[]): void | Promise<void>;
}

const COMMANDS: Record<string, Command> = { demo, train, "train-classifier": trainClassifier, sample, eval: evalCommand, nfe, export: exportCommand, guidance, "score-field": scoreField, "langevin-demo": langevinDemo, schedule, elbo };

const usage = `vdm — variational diffusion models

Commands:
  demo       the built-in default job: train on moons, sample, write pictures
  train      train a denoiser (or with --conditional p(x|y)), write a checkpoint, pictures and metrics
  train-classifier  a noise-aware classifier p(y | x_t, t) for classifier guidance
  sample     draw samples from a checkpoint or the exact oracle
  eval       bits/dim, ELBO terms and energy distance on held-out data; --likelihood ode for the exact likelihood
  nfe        sample quality against network evaluations for several samplers and step counts
  export     a checkpoint's network as an ONNX file
  guidance   judge accuracy and diversity of guided samples across scales and classes
  score-field    the score as arrows over the data at chosen noise levels
  langevin-demo  plain vs annealed Langevin on ncsn-gmm: mode proportions
  schedule   a noise schedule's β, α, ᾱ, SNR and posterior variance
  elbo       the ELBO's three terms for the exact denoiser of a known density

Common flags: --timesteps T (0 = continuous time), --steps N, --seed S, --json;
sample and eval: --backend onnx runs the network in ONNX Runtime (optional package onnxruntime-node).
Run "vdm <command> --help" for a command's flags.`;

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    console.log(usage);
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`vdm: unknown command "${name}" (known: ${Object.keys(COMMANDS).join(", ")})`);
    return 2;
  }
  try {
    await initEngine("wasm");
    await command.run(rest);
    return 0;
  } catch (err) {
    const e = err as Error & { code?: string };
    const usageLike = err instanceof UsageError || (typeof e.code === "string" && e.code.startsWith("ERR_PARSE_ARGS"));
    console.error(`vdm ${name}: ${usageLike ? "" : "error: "}${e.message}`);
    if (!usageLike && process.env.VDM_DEBUG) console.error(e.stack);
    return usageLike ? 2 : 1;
  } finally {
    await shutdownEngine();
  }
}
