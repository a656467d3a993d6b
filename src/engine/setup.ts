/**
 * Process-wide set-up that must run before @jax-js/jax is evaluated: Node polyfills and, when
 * `VDM_THREADS` > 1, the worker-thread pool shim. Import `./jax.js` (which imports this first)
 * instead of `@jax-js/jax` anywhere in the project.
 */
import "./polyfills.js";
import { installWorkerShim } from "./workers.js";

/** Number of wasm threads requested through the environment (default 1 = no workers). */
export function requestedThreads(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.VDM_THREADS;
  if (raw === undefined || raw === "") return 1;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) {
    throw new Error(`VDM_THREADS must be a positive integer, got "${raw}"`);
  }
  return n;
}

const g = globalThis as Record<string, unknown>;
// jax-js reads navigator.userAgent in its kernel tuner; Node 20 has no navigator.
if (!g.navigator) g.navigator = { userAgent: `Node.js/${process.versions.node}` };

export const threads = requestedThreads();
if (threads > 1) installWorkerShim(threads);
