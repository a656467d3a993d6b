/**
 * The process entry of `vdm`: the engine's thread count from `VDM_THREADS` first, then the
 * command line, loaded afterwards because jax-js fixes its thread pool when it loads.
 */
import { configureEngine } from "../engine/configure.js";
import { intFlag, UsageError } from "./args.js";

/** `VDM_THREADS` (default 1): worker threads for jax-js's wasm kernels. */
export function threadsFromEnv(env: NodeJS.ProcessEnv): number {
  const raw = env.VDM_THREADS;
  if (raw === undefined || raw === "") return 1;
  try {
    return intFlag("threads", raw, { min: 1 });
  } catch {
    throw new UsageError(`VDM_THREADS must be a positive integer, got "${raw}"`);
  }
}

/** Configure the engine from `env`, then run `vdm argv`; returns the exit code. */
export async function start(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  let threads: number;
  try {
    threads = threadsFromEnv(env);
  } catch (err) {
    console.error(`vdm: ${(err as Error).message}`);
    return 2;
  }
  configureEngine({ threads });
  const { main } = await import("./main.js");
  return main(argv);
}
