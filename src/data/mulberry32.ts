/**
 * mulberry32: a small seeded generator on the host, 32 bits of state, uniform in [0, 1). For data
 * that must be the same on every machine without the engine (the text corpus) and for tests that
 * need randomness independent of the library's jax-js `Rng`.
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
