/**
 * The browser's stand-in for ./setup.ts (package.json "imports" `#engine/setup`, condition
 * "browser"): no Node polyfills, and jax-js sizes its own
 * wasm worker pool from navigator.hardwareConcurrency when the page is cross-origin isolated
 * (SharedArrayBuffer available); otherwise it runs on one thread.
 */
const g = globalThis as unknown as { crossOriginIsolated?: boolean; navigator?: { hardwareConcurrency?: number } };

/** Threads jax-js may use for its wasm kernels here (1 without cross-origin isolation). */
export const threads = g.crossOriginIsolated ? Math.max(1, g.navigator?.hardwareConcurrency ?? 1) : 1;
