/**
 * The engine's thread count, chosen once before jax-js loads. jax-js sizes its wasm worker pool
 * when its module is evaluated, so the choice must come from code that runs before the first
 * import of the library: import this module (the package's `vdm/engine` entry, which does not
 * load jax-js), call {@link configureEngine}, then import `vdm` dynamically.
 *
 * @example
 * ```ts
 * import { configureEngine } from "vdm/engine";
 * configureEngine({ threads: 2 });
 * const vdm = await import("vdm");
 * ```
 */
import { ConfigError } from "../errors.js";
import { installWorkerShim } from "./workers.js";

/** Options of {@link configureEngine}. */
export interface EngineOptions {
  /** Worker threads for jax-js's wasm kernels; 1 runs them on the calling thread (default 1). */
  threads?: number;
}

let chosen: number | undefined;

/**
 * Fix the engine's thread count (default 1). Must run before `vdm` (and so jax-js) is first
 * imported; afterwards the count is fixed, and asking for another one throws a
 * {@link ConfigError}. Returns the count in force.
 */
export function configureEngine(options: EngineOptions = {}): number {
  const threads = options.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1) throw new ConfigError(`threads must be a positive integer, got ${threads}`);
  if (chosen !== undefined) {
    if (threads === chosen) return chosen;
    throw new ConfigError(
      `the engine already runs with ${chosen} thread${chosen === 1 ? "" : "s"}: the count is fixed when the library first loads, so call configureEngine({ threads: ${threads} }) from "vdm/engine" before importing "vdm"`,
    );
  }
  if (threads > 1) installWorkerShim(threads);
  chosen = threads;
  return chosen;
}

/** The thread count in force; fixes the default (1) if {@link configureEngine} was not called. */
export function engineThreads(): number {
  return chosen ?? configureEngine();
}
