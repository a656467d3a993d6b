/** Run by engine.test.ts in a child process: configure N threads, then a seeded matmul and a clean shutdown. */
import { configureEngine } from "./configure.js";

configureEngine({ threads: Number(process.argv[2]) });
const { initEngine, Rng, shutdownEngine } = await import("./index.js");
const { numpy: np } = await import("./jax.js");

await initEngine("wasm");
const rng = new Rng(0);
const a = rng.normal([256, 256]);
const b = rng.normal([256, 256]);
const sum = (np.sum(np.matmul(a, b)).dataSync() as Float32Array)[0];
console.log(JSON.stringify({ sum, workers: typeof (globalThis as { Worker?: unknown }).Worker === "function" }));
await shutdownEngine();
