/** Run by engine.test.ts in a child process: a seeded matmul, then a clean shutdown. */
import { initEngine, Rng, shutdownEngine } from "./index.js";
import { numpy as np } from "./jax.js";

await initEngine("wasm");
const rng = new Rng(0);
const a = rng.normal([256, 256]);
const b = rng.normal([256, 256]);
const sum = (np.sum(np.matmul(a, b)).dataSync() as Float32Array)[0];
console.log(JSON.stringify({ sum, workers: typeof (globalThis as { Worker?: unknown }).Worker === "function" }));
await shutdownEngine();
