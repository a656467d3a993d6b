/**
 * Engine: device choice, seeded randomness and shutdown, on top of jax-js.
 *
 * Every entry point (CLI, tests, benches) imports from here or from `./jax.js`, never from
 * `@jax-js/jax` directly, so that the Node polyfills and the optional thread pool are in place
 * before jax-js loads.
 */

import { threads as setupThreads } from "#engine/setup";
import { terminateWorkers } from "#engine/workers";
import { ConfigError, ShapeError } from "../errors.js";
import { type Array, type Device, defaultDevice, init, type JsTree, jit, numpy as np, random } from "./jax.js";
import { normal as hostNormal, uniform as hostUniform, type Key, splitKey } from "./random.js";

/** Worker threads running jax-js's wasm kernels (1 = none), fixed when jax-js loaded (declared here, so the published types need no `#engine` import). */
export const threads: number = setupThreads;

/** Devices that make sense on Node: `wasm` (fast, float32 transcendentals) and `cpu` (exact float64). */
export type EngineDevice = Extract<Device, "wasm" | "cpu">;

/** A model's parameters (or Adam's moments, or an EMA of them): a tree of arrays. */
export type Params = JsTree<Array>;

/**
 * Start jax-js and make `device` the default. `wasm` is the default for all real work; `cpu` is
 * an interpreter whose float64 arithmetic is exact, for reference tests. Both are initialised so
 * arrays can be placed on either explicitly.
 */
export async function initEngine(device: EngineDevice = "wasm"): Promise<EngineDevice> {
  const available = await init("wasm", "cpu");
  if (!available.includes(device)) {
    throw new ConfigError(`device "${device}" is not available (have: ${available.join(", ")})`);
  }
  defaultDevice(device);
  return device;
}

/** End the worker threads (if any) so the process can exit. Safe to call more than once. */
export async function shutdownEngine(): Promise<void> {
  await terminateWorkers();
}

/** Jitted jax-js samplers by kind and shape (for draws too large for the host). */
const samplers = new Map<string, (key: Array) => Array>();
function sampler(kind: "normal" | "uniform", shape: number[]): (key: Array) => Array {
  const id = `${kind}:${shape.join(",")}`;
  let f = samplers.get(id);
  if (!f) {
    f = jit((key: Array) => (kind === "normal" ? random.normal(key, shape) : random.uniform(key, shape)));
    samplers.set(id, f);
  }
  return f;
}

/**
 * Draws of at most this many values are computed on the host (./random.ts: the same bits as
 * jax-js's wasm kernels, without their fixed ≈150 µs); larger ones by jax-js, whose kernel is
 * faster per value (≈40 ns per normal against ≈75 ns on the host). Measured on the 2-core machine.
 */
const HOST_DRAW_LIMIT = 4096;

/**
 * A seeded stream of jax-js PRNG keys. Each `next()` splits the current key into (carry, sub)
 * and returns `sub`, so a run is reproducible from its seed and the order of draws. The key is
 * kept on the host; draws equal jax-js's `random.normal` / `random.uniform` on the sub key bit
 * for bit, whether the host (small draws on the wasm device) or jax-js computes them.
 */
export class Rng {
  #key: Key;

  constructor(seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new ConfigError(`seed must be an integer in [0, 2^32), got ${seed}`);
    }
    this.#key = Uint32Array.of(0, seed); // jax-js's random.key(seed)
  }

  /** The current key, for checkpoints. */
  state(): Uint32Array {
    return Uint32Array.from(this.#key);
  }

  /** Continue a stream from a saved `state()`. */
  static fromState(state: Uint32Array): Rng {
    if (state.length !== 2) throw new ShapeError(`an Rng state is two uint32 words, got ${state.length}`);
    const rng = new Rng(0);
    rng.#key = Uint32Array.from(state);
    return rng;
  }

  /** A fresh key as two uint32 words. */
  #nextKey(): Key {
    const [carry, sub] = splitKey(this.#key);
    this.#key = carry;
    return sub;
  }

  /** A fresh key, owned by the caller. */
  next(): Array {
    return np.array(this.#nextKey(), { dtype: np.uint32 });
  }

  /** `kind` draws of `shape` from the next key: on the host when small, else by jax-js. */
  #draw(kind: "normal" | "uniform", shape: number[]): Array {
    const key = this.#nextKey();
    const n = shape.reduce((a, b) => a * b, 1);
    if (n <= HOST_DRAW_LIMIT && defaultDevice() === "wasm")
      return np.array((kind === "normal" ? hostNormal : hostUniform)(key, n)).reshape(shape);
    return sampler(kind, shape)(np.array(key, { dtype: np.uint32 }));
  }

  /** Standard normal samples, float32. */
  normal(shape: number[]): Array {
    return this.#draw("normal", shape);
  }

  /** Uniform samples in [minval, maxval), float32. */
  uniform(shape: number[], minval = 0, maxval = 1): Array {
    const u = this.#draw("uniform", shape);
    return minval === 0 && maxval === 1 ? u : u.mul(maxval - minval).add(minval);
  }
}

/**
 * A float32 array [n] of one value, from a host buffer. Use it for per-step levels (t, γ of a
 * sampler step): np.full writes its value into a kernel, so each new value compiles and instantiates
 * a new wasm module when first read (≈300 µs, against ≈25 µs for this).
 */
export function filled(n: number, value: number): Array {
  return np.array(new Float32Array(n).fill(value));
}

/** A float64 array on the exact `cpu` device, for reference computations and tables. */
export function exactArray(values: ArrayLike<number>): Array {
  return np.array(Float64Array.from(values), { dtype: np.float64, device: "cpu" });
}

/**
 * Force an array's pending computation. jax-js evaluates lazily; in a long loop of jitted calls
 * whose results are never read, the pending graph grows and each step gets slower, so loops
 * realize their carried state every step. Borrows `x`.
 */
export function realize(x: Array): void {
  x.ref.dataSync();
}
