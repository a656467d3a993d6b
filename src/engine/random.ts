/**
 * jax-js's random numbers computed on the host, bit for bit as its wasm backend computes them.
 *
 * A jax-js draw costs a fixed ≈100–200 µs (a jitted dispatch and a kernel) whatever its size, which
 * was a quarter of a small training step and of a 2-D sampling step. These functions give the same
 * float32 bits in plain JavaScript: a key is two uint32 words (k0, k1); bits come from Threefry-2x32
 * (20 rounds) on the counters (0, i); and the float arithmetic of jax-js's formulas is repeated in
 * float32 (`Math.fround` after every operation, which is exact for +, −, ×, ÷ and √ of float32
 * values), with the polynomial log and cosine its wasm backend uses:
 *
 *   split(k)        = (threefry(k, 0, 0), threefry(k, 0, 1))          two new keys
 *   bits(k, n)_i    = x0 ⊕ x1 of threefry(k, 0, i)
 *   uniform(k, n)_i = bitcast_f32((bits_i ≫ 9) | 0x3f800000) − 1      in [0, 1)
 *   normal(k, n)    = √(−2 log1p(−u₁)) · cos(2π u₂), (k₁, k₂) = split(k), u_j = uniform(k_j, n)
 *
 * src/engine/random.test.ts checks every one against jax-js's own `random` on the wasm device.
 */

/** A PRNG key as jax-js holds it: [k0, k1]. */
export type Key = Uint32Array;

/** The two words of the last `threefry` result. */
let out0 = 0;
let out1 = 0;

/**
 * Threefry-2x32 with 20 rounds of key (k0, k1) on the counter (0, c1), into (out0, out1), in int32
 * arithmetic (V8 keeps int32 in registers; uint32 above 2³¹ would become doubles); unrolled.
 */
function threefry(k0: number, k1: number, c1: number): void {
  const k2 = k0 ^ k1 ^ 0x1bd11bda;
  let x0 = k0;
  let x1 = (c1 + k1) | 0;
  // rounds with rotations 13, 15, 26, 6, then 17, 29, 16, 24, alternately; a key injection after every four
  x0 = (x0 + x1) | 0;
  x1 = ((x1 << 13) | (x1 >>> 19)) ^ x0;
  x0 = (x0 + x1) | 0;
  x1 = ((x1 << 15) | (x1 >>> 17)) ^ x0;
  x0 = (x0 + x1) | 0;
  x1 = ((x1 << 26) | (x1 >>> 6)) ^ x0;
  x0 = (x0 + x1) | 0;
  x1 = ((x1 << 6) | (x1 >>> 26)) ^ x0;
  x0 = (x0 + k1) | 0;
  x1 = (x1 + k2 + 1) | 0;
  x0 = (x0 + x1) | 0;
  x1 = ((x1 << 17) | (x1 >>> 15)) ^ x0;
  x0 = (x0 + x1) | 0;
  x1 = ((x1 << 29) | (x1 >>> 3)) ^ x0;
  x0 = (x0 + x1) | 0;
  x1 = ((x1 << 16) | (x1 >>> 16)) ^ x0;
  x0 = (x0 + x1) | 0;
  x1 = ((x1 << 24) | (x1 >>> 8)) ^ x0;
  x0 = (x0 + k2) | 0;
  x1 = (x1 + k0 + 2) | 0;
  x0 = (x0 + x1) | 0;
  x1 = ((x1 << 13) | (x1 >>> 19)) ^ x0;
  x0 = (x0 + x1) | 0;
  x1 = ((x1 << 15) | (x1 >>> 17)) ^ x0;
  x0 = (x0 + x1) | 0;
  x1 = ((x1 << 26) | (x1 >>> 6)) ^ x0;
  x0 = (x0 + x1) | 0;
  x1 = ((x1 << 6) | (x1 >>> 26)) ^ x0;
  x0 = (x0 + k0) | 0;
  x1 = (x1 + k1 + 3) | 0;
  x0 = (x0 + x1) | 0;
  x1 = ((x1 << 17) | (x1 >>> 15)) ^ x0;
  x0 = (x0 + x1) | 0;
  x1 = ((x1 << 29) | (x1 >>> 3)) ^ x0;
  x0 = (x0 + x1) | 0;
  x1 = ((x1 << 16) | (x1 >>> 16)) ^ x0;
  x0 = (x0 + x1) | 0;
  x1 = ((x1 << 24) | (x1 >>> 8)) ^ x0;
  x0 = (x0 + k1) | 0;
  x1 = (x1 + k2 + 4) | 0;
  x0 = (x0 + x1) | 0;
  x1 = ((x1 << 13) | (x1 >>> 19)) ^ x0;
  x0 = (x0 + x1) | 0;
  x1 = ((x1 << 15) | (x1 >>> 17)) ^ x0;
  x0 = (x0 + x1) | 0;
  x1 = ((x1 << 26) | (x1 >>> 6)) ^ x0;
  x0 = (x0 + x1) | 0;
  x1 = ((x1 << 6) | (x1 >>> 26)) ^ x0;
  x0 = (x0 + k2) | 0;
  x1 = (x1 + k0 + 5) | 0;
  out0 = x0;
  out1 = x1;
}

/** The two keys of jax-js's `random.split(key, 2)`. */
export function splitKey(key: Key): [Key, Key] {
  return [0, 1].map((i) => {
    threefry(key[0]! | 0, key[1]! | 0, i);
    return Uint32Array.of(out0, out1);
  }) as [Key, Key];
}

/** jax-js's `random.uniform(key, [n])`: float32 in [0, 1). */
export function uniform(key: Key, n: number): Float32Array {
  const out = new Float32Array(n);
  const bits = new Uint32Array(out.buffer);
  const [k0, k1] = [key[0]! | 0, key[1]! | 0];
  for (let i = 0; i < n; i++) {
    threefry(k0, k1, i);
    bits[i] = ((out0 ^ out1) >>> 9) | 0x3f800000;
  }
  for (let i = 0; i < n; i++) out[i] = out[i]! - 1; // exact: out[i] ∈ [1, 2)
  return out;
}

const f = Math.fround;
const f32bits = new Float32Array(1);
const u32bits = new Uint32Array(f32bits.buffer);

/** Round half to even (wasm's f32.nearest). */
function nearest(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

// float32 constants of jax-js's wasm log and cosine
const [L7, L5, L3, L1] = [2 / 7, 2 / 5, 2 / 3, 2].map(f);
const LN2 = f(Math.LN2);
const [INV_2PI, TWO_PI, TWO_OVER_PI, HALF_PI] = [1 / (2 * Math.PI), 2 * Math.PI, 2 / Math.PI, Math.PI / 2].map(f);
const [S7, S5, S3] = [-1 / 5040, 1 / 120, -1 / 6].map(f);
const [C8, C6, C4, C2] = [1 / 40320, -1 / 720, 1 / 24, -1 / 2].map(f);
const CUTOFF = f(0.2);

/** jax-js's wasm ln(x) in float32: x = m·2^e, ln m = 2(t + t³/3 + t⁵/5 + t⁷/7), t = (m − 1)/(m + 1). */
function log(x: number): number {
  if (x < 0) return NaN;
  f32bits[0] = x;
  const bits = u32bits[0]!;
  const e = ((bits >>> 23) & 255) - 127;
  if (e === -127) return -Infinity;
  if (e === 128) return x;
  u32bits[0] = (bits & 0x7fffff) | 0x3f800000;
  const m = f32bits[0]!;
  const t = f(f(m - 1) / f(m + 1));
  const t2 = f(t * t);
  // Horner's rule from the last coefficient, as jax-js's wasm `_poly`
  const p = f(f(f(f(f(f(L7 * t2) + L5) * t2) + L3) * t2) + L1);
  return f(f(p * t) + f(e * LN2));
}

/** −1/10, then the constants added in turn (float32; jax-js subtracts 1/8, which rounds alike) */
const LOG1P_SERIES = [-1 / 10, 1 / 9, -1 / 8, 1 / 7, -1 / 6, 1 / 5, -1 / 4, 1 / 3, -1 / 2, 1].map(f);

/** jax-js's log1p in float32: a degree-10 series for |x| ≤ 0.2, else ln(1 + x). */
function log1p(x: number): number {
  if (Math.abs(x) > CUTOFF) return log(f(x + 1));
  // x(1 − x/2 + x²/3 − … − x⁹/10), evaluated from the inside out as jax-js writes it
  let p = f(x * LOG1P_SERIES[0]!);
  for (let i = 1; i < LOG1P_SERIES.length; i++) p = f(f(p + LOG1P_SERIES[i]!) * x);
  return p;
}

/** jax-js's wasm cos(x) in float32: reduced to [−π, π], then to a quadrant, then a short polynomial. */
function cos(x: number): number {
  const y = f(x - f(nearest(f(x * INV_2PI)) * TWO_PI));
  const qf = nearest(f(y * TWO_OVER_PI));
  const q = qf | 0;
  const z = f(y - f(qf * HALF_PI));
  const z2 = f(z * z);
  const mag =
    q & 1 ? f(f(f(f(f(f(f(S7 * z2) + S5) * z2) + S3) * z2) + 1) * z) : f(f(f(f(f(f(f(f(C8 * z2) + C6) * z2) + C4) * z2) + C2) * z2) + 1);
  return (q + 1) & 2 ? -mag : mag;
}

/** jax-js's `random.normal(key, [n])`: Box–Muller on two uniform draws. */
export function normal(key: Key, n: number): Float32Array {
  const [k1, k2] = splitKey(key);
  const u1 = uniform(k1, n);
  const u2 = uniform(k2, n);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const radius = f(Math.sqrt(f(log1p(-u1[i]!) * -2)));
    out[i] = f(radius * cos(f(u2[i]! * TWO_PI)));
  }
  return out;
}
