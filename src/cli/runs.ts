/**
 * The run in a training command's --out: a directory that holds a run is refused unless the user
 * continues it (--resume) or replaces it (--force); a resumed run checks the flags given against
 * its own values (what training leaves in metrics.json: facts.ts); and Ctrl-C, which stops training with a checkpoint and says how to resume it.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { writeFileAtomic } from "../io/atomic.js";
import { checkpointStep, readCheckpointConfig } from "../io/checkpoint.js";
import { networkOf } from "../models/kinds.js";
import { type RunConfig, validateRunConfig } from "../train/config.js";
import { defineFlags, Interrupted, type RawValues, UsageError } from "./args.js";

/**
 * --resume, --force and --no-report of a training command; `changeable` names the flags whose new
 * values a resumed run takes (besides a larger --steps).
 */
export function runFlags(changeable: readonly string[]) {
  return defineFlags(
    "The run in --out",
    {
      resume: {
        type: "boolean",
        help: `continue DIR's run from its last checkpoint: a larger --steps trains further; ${changeable.map((f) => `--${f}`).join(", ")} take new values; a flag that would change the run's model, data or process is an error`,
      },
      force: {
        type: "boolean",
        help: "replace the run in DIR: its files (checkpoint, pictures, grids, metrics, samples, classifiers) are deleted first; other files stay",
      },
      "no-report": {
        type: "boolean",
        help: "train only: no evaluation, samples, grids or pictures (those of an earlier report stay); metrics.json then holds the training facts only (steps, trainSeconds, stepsPerSecond, finalLoss)",
      },
    },
    `A DIR that already holds a run is refused without --resume or --force. Ctrl-C stops training after
the current step, saves the checkpoint and prints the command that resumes it (exit code 130).
A resumed run's metrics.json counts trainSeconds over all its invocations. Resuming a run that has
done all its steps writes nothing, unless its report is missing (--no-report, or stopped during the
report): then it writes the report.`,
  );
}

/** What a training command trains; it decides which command resumes a run. */
export type RunKind = "denoiser" | "classifier" | "text" | "autoencoder";

/** The kind of run `config` describes. */
export function kindOf(config: RunConfig): RunKind {
  if (config.task === "classifier") return "classifier";
  const { kind } = networkOf(config.model);
  return kind.autoencoder ? "autoencoder" : kind.objective === "diffusion-lm" || kind.objective === "masked" ? "text" : "denoiser";
}

const COMMAND_OF: Record<RunKind, string> = {
  denoiser: "vdm train",
  classifier: "vdm train-classifier",
  text: "vdm train",
  autoencoder: "vdm train-autoencoder",
};

/** `s` as one shell word (quoted when it holds anything but plain path characters). */
function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

/** The command line that continues the run of `kind` in `dir`. */
export function resumeCommand(kind: RunKind, dir: string): string {
  return `${COMMAND_OF[kind]} --out ${shellWord(dir)} --resume`;
}

/** Whether `dir` holds a run (a config.json). */
function holdsRun(dir: string): boolean {
  return existsSync(join(dir, "config.json"));
}

/** Whether `dir`'s config.json is a vdm run's (format "vdm-run-1"), not some other program's file of that name. */
function isVdmRun(dir: string): boolean {
  try {
    return (JSON.parse(readFileSync(join(dir, "config.json"), "utf8")) as { format?: unknown }).format === "vdm-run-1";
  } catch {
    return false;
  }
}

/** The kind of the run in `dir` (undefined when it holds none or its config cannot be read). */
export function kindIn(dir: string): RunKind | undefined {
  try {
    return kindOf(readCheckpointConfig(dir, validateRunConfig));
  } catch {
    return undefined;
  }
}

/** Whether a checkpoint directory holds a text run. */
export function isTextRun(dir: string): boolean {
  return kindIn(dir) === "text";
}

/** The run in `dir` in a few words for messages ("a moons denoiser run at step 400 of 4000"), or "a run" when unreadable. */
function describeRun(dir: string): string {
  try {
    const config = readCheckpointConfig(dir, validateRunConfig);
    let step = "?";
    try {
      step = String(checkpointStep(dir));
    } catch {
      // a run without a readable state file is still a run; its step is unknown
    }
    return `a ${config.data.spec} ${kindOf(config) === "text" ? "Diffusion-LM" : kindOf(config)} run at step ${step} of ${config.steps}`;
  } catch {
    return "a run";
  }
}

/**
 * The files and folders a training command writes into its run directory (what --force deletes),
 * with the leftovers of interrupted atomic writes (NAME.PID.tmp).
 */
const RUN_FILE =
  /^(config\.json|state\.safetensors|metrics\.json|samples\.png|samples\.txt|loss\.png|recon\.png|forward\.png|cfg\.png|grid(-\d+)?\.png|classifier-[a-z]+|\.vdm-demo)(\.\d+\.tmp)?$/;

/** Check a command's --out DIR before any work: a file of that name (not a directory) is refused, not found when the results are written. */
export function checkOutDir(dir: string): void {
  if (existsSync(dir) && !statSync(dir).isDirectory())
    throw new UsageError(`--out ${dir} is a file; --out names the directory the results go into`);
}

/**
 * Check a command's --out FILE before any work: its directory must exist (else the work was lost
 * at the write), and a file that a training command wrote into a run directory (RUN_FILE: its
 * config, checkpoint, metrics or report pictures) is refused, so samples or a chart never replace
 * the run they came from.
 */
export function checkOutFile(file: string): void {
  const dir = dirname(file);
  const name = basename(file);
  if (!existsSync(dir)) throw new UsageError(`--out ${file}: the directory ${dir} does not exist`);
  if (!statSync(dir).isDirectory()) throw new UsageError(`--out ${file}: ${dir} is a file, not a directory`);
  if (RUN_FILE.test(name) && isVdmRun(dir)) {
    throw new UsageError(
      `--out ${file} is a file of the run in ${dir} (its ${name}); writing there would replace it: choose another file name or directory`,
    );
  }
}

/** Delete the run files of `dir` (RUN_FILE), leaving any other file; returns their names. */
function removeRunFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const names = readdirSync(dir)
    .filter((name) => RUN_FILE.test(name))
    .sort();
  for (const name of names) rmSync(join(dir, name), { recursive: true, force: true });
  return names;
}

/** How a command treats --out: continue, replace, and the command that may replace its own runs. */
export interface OutOptions {
  resume: boolean;
  force: boolean;
  kind: RunKind;
  /** `vdm demo`: it marks its runs (DIR/.vdm-demo) and replaces a marked run without --force */
  owner?: "demo";
}

/**
 * Check --out before any work starts: a DIR that holds a run (a config.json) is refused unless
 * `resume` (continue it), `force` (replace it) or `owner` wrote it; a config.json that is not a
 * vdm run's is never written over. Returns the step that makes DIR the new run's, to be taken once
 * the run's flags have been checked: it deletes the old run's files (RUN_FILE: none of the user's
 * others), saying which on stderr, and marks an owner's run.
 */
export function checkOut(dir: string, { resume, force, kind, owner }: OutOptions): () => void {
  if (resume && force) throw new UsageError("--resume continues the run in --out and --force replaces it: give one of them");
  checkOutDir(dir);
  if (resume) {
    if (!holdsRun(dir))
      throw new UsageError(`--resume: ${dir} holds no run to continue (no config.json); without --resume a new run starts there`);
    return () => {};
  }
  const mark = owner ? join(dir, `.vdm-${owner}`) : undefined;
  const owned = mark !== undefined && existsSync(mark);
  const held = holdsRun(dir);
  if (held && !isVdmRun(dir))
    throw new UsageError(
      `${join(dir, "config.json")} is not a vdm run's config, so ${dir} is left alone (--force too): choose another --out`,
    );
  if (held && !force && !owned) {
    throw new UsageError(
      owner
        ? `${dir} already holds ${describeRun(dir)} that vdm ${owner} did not write; --force replaces it (deleting its checkpoint, pictures and metrics), --out DIR writes elsewhere`
        : `${dir} already holds ${describeRun(dir)}; --resume continues it (${resumeCommand(kindIn(dir) ?? kind, dir)}), --force replaces it (deleting its checkpoint, pictures and metrics), or choose another --out`,
    );
  }
  return () => {
    const removed = held && (force || owned) ? removeRunFiles(dir).filter((name) => name !== ".vdm-demo") : [];
    if (removed.length > 0) console.error(`replacing the run in ${dir}: deleted ${removed.join(", ")}`);
    mkdirSync(dir, { recursive: true });
    if (mark) writeFileAtomic(mark, `written by vdm ${owner}, which replaces this run when it runs again\n`);
  };
}

/**
 * A flag that a resumed run checks: `of` gives the run's value as the flag would be written
 * (undefined: the run has no such setting); `apply`, for a flag the run may change (one that
 * leaves its model, data and process alone), gives the config with the new value, read from the
 * parsed `flags` (of type F).
 */
export interface ResumeFlag<F> {
  of(config: RunConfig): string | undefined;
  apply?(config: RunConfig, flags: F): RunConfig;
}

/** A number (or absent value) as a flag would be written. */
export const flagText = (v: number | undefined): string | undefined => (v === undefined ? undefined : String(v));

/** Whether two flag values agree: as numbers when both are ("1e-3" and "0.001"), else as text. */
function sameValue(a: string, b: string): boolean {
  const [x, y] = [Number(a), Number(b)];
  return a.trim() !== "" && b.trim() !== "" && Number.isFinite(x) && Number.isFinite(y) ? x === y : a === b;
}

/** Where a resumed run stands: its config (with the changes applied), the steps done, and whether there is nothing left to do. */
export interface Resumption {
  config: RunConfig;
  done: number;
  /** all steps done and the report written (or --no-report): the command ends, writing nothing */
  nothingLeft: boolean;
}

/** The keys of metrics.json that training alone writes (a report adds others). */
const FACT_KEYS = new Set(["data", "steps", "trainSeconds", "stepsPerSecond", "finalLoss"]);

/** Whether the run in `dir` has a report: a metrics.json with more than the training facts. */
function hasReport(dir: string): boolean {
  try {
    return Object.keys(JSON.parse(readFileSync(join(dir, "metrics.json"), "utf8")) as object).some((key) => !FACT_KEYS.has(key));
  } catch {
    return false;
  }
}

/**
 * The config a resumed run in `dir` trains with. Each flag in `given` that `table` knows is checked,
 * as written on the command line (`raw`), against the run: one that differs is applied if the run may change it, else an error naming the
 * flag, the run's value and the given one. --steps may only grow (below the steps done: an error).
 * A run with all its steps done has nothing left unless its report is missing (trained with
 * --no-report, or stopped during the report) and --no-report is not given: then the report is
 * written. Says on stderr where the run resumes and what changed, or what is left.
 */
export function resumeRun<F extends { steps?: number | undefined; "no-report": boolean }>(
  dir: string,
  kind: RunKind,
  { values: flags, raw: written }: { values: F; raw: RawValues },
  given: ReadonlySet<string>,
  table: Readonly<Record<string, ResumeFlag<F>>>,
): Resumption {
  let config = readCheckpointConfig(dir, validateRunConfig);
  if (kindOf(config) !== kind) throw new UsageError(`${dir} holds ${describeRun(dir)}; ${resumeCommand(kindOf(config), dir)} continues it`);
  const done = checkpointStep(dir);
  const changes: string[] = [];
  for (const name of given) {
    const flag = table[name];
    if (!flag) continue;
    // compared and quoted as written: "1e-3" agrees with a run's 0.001 (sameValue), and an error shows what the user typed
    const raw = String(written[name]);
    const ours = flag.of(config);
    if (ours !== undefined && sameValue(raw, ours)) continue;
    if (!flag.apply) {
      const keeps = `a resumed run keeps its model, data and process; --force starts a new run in ${dir} instead`;
      throw new UsageError(
        ours === undefined
          ? `--${name} ${raw} does not apply to the run in ${dir} (${describeRun(dir)}): ${keeps}`
          : `--${name} ${raw} contradicts the run in ${dir}, which has --${name} ${ours}: ${keeps}`,
      );
    }
    config = flag.apply(config, flags);
    changes.push(`--${name} ${raw} replaces ${ours}`);
  }
  if (given.has("steps") && flags.steps !== undefined) {
    const { steps } = flags;
    if (steps < done)
      throw new UsageError(
        `--steps ${steps} is below the ${done} steps the run in ${dir} has done: a resumed run trains further (--steps above ${done})`,
      );
    if (steps !== config.steps) changes.push(`--steps ${steps} replaces ${config.steps}`);
    config = { ...config, steps };
  }
  const trained = done >= config.steps;
  const nothingLeft = trained && (flags["no-report"] === true || hasReport(dir));
  if (nothingLeft)
    console.error(
      `nothing left to train: the run in ${dir} has done all its ${config.steps} steps; its checkpoint, pictures and metrics stay as they are (--steps N above ${done} trains further)`,
    );
  else if (trained) console.error(`the run in ${dir} has done all its ${config.steps} steps; writing the report it lacks`);
  else console.error(`resuming ${dir} at step ${done} of ${config.steps}${changes.length > 0 ? `; ${changes.join(", ")}` : ""}`);
  return { config, done, nothingLeft };
}

/**
 * `f` with a signal that Ctrl-C (SIGINT) aborts, so that training stops after its current
 * step(s) and writes its checkpoint; a second Ctrl-C quits at once (exit code 130).
 */
export async function stopOnCtrlC<T>(f: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort();
    console.error("\nCtrl-C: stopping after this step and saving the checkpoint (Ctrl-C again quits without saving)");
  };
  process.on("SIGINT", onSigint);
  try {
    return await f(controller.signal);
  } finally {
    process.off("SIGINT", onSigint);
  }
}

/** The error that ends a run Ctrl-C stopped at step `done` of `steps`: where its checkpoint is and the command that resumes it. */
export function interrupted(kind: RunKind, dir: string, done: number, steps: number): Interrupted {
  if (!holdsRun(dir)) return new Interrupted(`stopped by Ctrl-C before the first step; nothing was saved`);
  return new Interrupted(
    `stopped by Ctrl-C at step ${done} of ${steps}; the checkpoint in ${dir} holds step ${done}. Resume it with:\n  ${resumeCommand(kind, dir)}`,
  );
}
