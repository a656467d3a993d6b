/**
 * A minimal web `Worker` over `node:worker_threads`, enough for jax-js's wasm worker pool:
 * `new Worker(blobUrl, { type: "module" })`, `postMessage`, `onmessage`, `onerror`, `terminate`,
 * and `self.onmessage` / `postMessage` inside the worker. jax-js decides whether to start its pool
 * by reading `typeof Worker` (with `SharedArrayBuffer`) and sizes it by
 * `navigator.hardwareConcurrency`, so this must be installed before jax-js loads.
 */
import { resolveObjectURL } from "node:buffer";
import { Worker as NodeWorker } from "node:worker_threads";
import { UnsupportedError } from "../errors.js";

/** Code run in each thread before the worker's own source: the web-worker globals it uses. */
const PRELUDE = `
const { parentPort } = require("node:worker_threads");
globalThis.self = globalThis;
globalThis.postMessage = (data) => parentPort.postMessage(data);
parentPort.on("message", (data) => { if (typeof self.onmessage === "function") self.onmessage({ data }); });
`;

const live = new Set<NodeWorker>();

class WorkerShim {
  onmessage: ((e: { data: unknown }) => void) | null = null;
  onerror: ((e: { message: string }) => void) | null = null;
  #pending: unknown[] = [];
  #worker: NodeWorker | null = null;
  #terminated = false;

  constructor(url: string | URL) {
    const blob = resolveObjectURL(String(url));
    if (!blob) throw new UnsupportedError(`Worker shim: only blob: URLs are supported, got ${String(url)}`);
    // Blob text is async; messages posted before the thread exists are queued.
    void blob.text().then((source) => {
      if (this.#terminated) return;
      const worker = new NodeWorker(PRELUDE + source, { eval: true });
      worker.unref();
      live.add(worker);
      worker.on("message", (data) => this.onmessage?.({ data }));
      worker.on("error", (err) => this.onerror?.({ message: err.message }));
      worker.on("exit", () => live.delete(worker));
      this.#worker = worker;
      for (const msg of this.#pending) worker.postMessage(msg);
      this.#pending = [];
    });
  }

  postMessage(data: unknown): void {
    if (this.#worker) this.#worker.postMessage(data);
    else this.#pending.push(data);
  }

  terminate(): void {
    this.#terminated = true;
    void this.#worker?.terminate();
  }
}

/** Install the shim as the global `Worker` with `threads` workers advertised. */
export function installWorkerShim(threads: number): void {
  const g = globalThis as Record<string, unknown>;
  g.Worker = WorkerShim;
  const nav = (g.navigator ?? {}) as Record<string, unknown>;
  Object.defineProperty(nav, "hardwareConcurrency", { value: threads, configurable: true });
  if (!g.navigator) g.navigator = nav;
}

/** End every worker thread started through the shim. */
export async function terminateWorkers(): Promise<void> {
  await Promise.all([...live].map((w) => w.terminate()));
  live.clear();
}
