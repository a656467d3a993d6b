/** Shared test utilities: engine start-up and float comparisons that report the worst index. */
import assert from "node:assert/strict";
import { before } from "node:test";
import { type EngineDevice, initEngine } from "../engine/index.js";

/** Start the engine once for a test file. */
export function useEngine(device: EngineDevice = "wasm"): void {
  before(async () => {
    await initEngine(device);
  });
}

/** |a_i − b_i| ≤ atol + rtol·|b_i| for every i, naming the first index that fails. */
export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  { rtol = 0, atol = 0, label = "" }: { rtol?: number; atol?: number; label?: string },
): void {
  assert.equal(actual.length, expected.length, `${label}: length ${actual.length} != ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const b = expected[i]!;
    if (a === b) continue; // covers equal infinities
    const ok = Math.abs(a - b) <= atol + rtol * Math.abs(b);
    assert.ok(ok, `${label}[${i}]: got ${a}, expected ${b} (rtol ${rtol}, atol ${atol})`);
  }
}
