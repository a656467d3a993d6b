/**
 * Process-wide set-up that must run before @jax-js/jax is evaluated: Node polyfills and the
 * thread count (`configureEngine`, default 1 thread). Import `./jax.js` (which imports this first)
 * instead of `@jax-js/jax` anywhere in the project.
 */
import "./polyfills.js";
import { engineThreads } from "./configure.js";

// jax-js reads navigator.userAgent in its kernel tuner; Node 20 has no navigator (the thread
// set-up may have made one with hardwareConcurrency only).
const g = globalThis as unknown as { navigator?: Record<string, unknown> };
g.navigator ??= {};
g.navigator.userAgent ??= `Node.js/${process.versions.node}`;

/** Worker threads running jax-js's wasm kernels (1 = none), fixed from here on. */
export const threads = engineThreads();
