/**
 * Where the benchmark's sides run (bench.ts, recipe.ts): the repository root, the peers' Python in
 * bench/.venv, and a command pinned to as many cores as it has threads.
 */
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const root = join(dirname(fileURLToPath(import.meta.url)), "..");
/** The Python of bench/.venv (`npm run bench:setup`): PyTorch 2 and JAX */
export const VENV_PYTHON = join(root, "bench", ".venv", "bin", "python");
const TASKSET = "/usr/bin/taskset";
/** This machine's cores */
export const cores = availableParallelism();

/** `command args` pinned to the first `threads` cores (when taskset exists and there are enough). */
export function pinned(threads: number, command: string, args: string[]): [string, string[]] {
  if (threads > cores || !existsSync(TASKSET)) return [command, args];
  return [TASKSET, ["-c", threads === 1 ? "0" : `0-${threads - 1}`, command, ...args]];
}
