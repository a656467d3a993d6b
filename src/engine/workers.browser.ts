/**
 * The browser's stand-in for ./workers.ts (package.json "imports" `#engine/workers`, condition
 * "browser"): browsers have web Workers, so there is no shim to end.
 */
export async function terminateWorkers(): Promise<void> {}
