/** The browser's stand-in for src/engine/workers.ts: browsers have web Workers, so there is no shim to install or end. */
export function installWorkerShim(_threads: number): void {}
export async function terminateWorkers(): Promise<void> {}
