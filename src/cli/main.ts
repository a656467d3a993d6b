/** The `vdm` command line. */
import { initEngine, shutdownEngine } from "../engine/index.js";
import { VdmError } from "../errors.js";
import { closest, type FlagGroup, Interrupted, UsageError } from "./args.js";
import * as demo from "./commands/demo.js";
import * as distill from "./commands/distill.js";
import * as elbo from "./commands/elbo.js";
import * as evalCommand from "./commands/eval.js";
import * as evalText from "./commands/eval-text.js";
import * as exportCommand from "./commands/export.js";
import * as guidance from "./commands/guidance.js";
import * as langevinDemo from "./commands/langevin-demo.js";
import * as nfe from "./commands/nfe.js";
import * as sample from "./commands/sample.js";
import * as schedule from "./commands/schedule.js";
import * as scoreField from "./commands/score-field.js";
import * as train from "./commands/train.js";
import * as trainAutoencoder from "./commands/train-autoencoder.js";
import * as trainClassifier from "./commands/train-classifier.js";

export interface Command {
  /** the flag tables its parser takes (besides the common flags), which its help lists */
  flagTables: readonly FlagGroup[];
  summary: string;
  help: string;
  run(argv: string[]): void | Promise<void>;
}

export const COMMANDS: Record<string, Command> = {
  demo,
  train,
  "train-classifier": trainClassifier,
  "train-autoencoder": trainAutoencoder,
  sample,
  eval: evalCommand,
  nfe,
  distill,
  export: exportCommand,
  guidance,
  "score-field": scoreField,
  "langevin-demo": langevinDemo,
  schedule,
  elbo,
  "eval-text": evalText,
};

/** `vdm --help`: one line per command from its `summary`, then what every command shares. */
function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length)) + 2;
  const lines = Object.entries(COMMANDS).map(([name, command]) => `  ${name.padEnd(width)}${command.summary}`);
  return `vdm — variational diffusion models

Commands:
${lines.join("\n")}

Every command takes --seed S, --json and -h/--help. Environment: VDM_THREADS=n runs jax-js's kernels
on n worker threads (default 1).
Run "vdm <command> --help" for a command's flags.`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    console.log(usage());
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    const near = closest(name, Object.keys(COMMANDS));
    console.error(`vdm: unknown command "${name}"${near ? `; did you mean "${near}"?` : ` (known: ${Object.keys(COMMANDS).join(", ")})`}`);
    return 2;
  }
  try {
    await initEngine("wasm");
    await command.run(rest);
    return 0;
  } catch (err) {
    if (err instanceof Interrupted) {
      console.error(`vdm ${name}: ${err.message}`);
      return 130;
    }
    const e = err as Error & { code?: string };
    // a name that is none of those an option takes (a data set, a schedule) is a usage mistake: suggest the nearest
    const unknown = err instanceof VdmError ? err.unknown : undefined;
    const usageLike =
      err instanceof UsageError || unknown !== undefined || (typeof e.code === "string" && e.code.startsWith("ERR_PARSE_ARGS"));
    const near = unknown && closest(unknown.name, unknown.known);
    console.error(`vdm ${name}: ${usageLike ? "" : "error: "}${e.message}${near ? `; did you mean "${near}"?` : ""}`);
    if (!usageLike && process.env.VDM_DEBUG) console.error(e.stack);
    return usageLike ? 2 : 1;
  } finally {
    await shutdownEngine();
  }
}
