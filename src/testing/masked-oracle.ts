/**
 * The exact denoiser of a known distribution over token sequences, for masked diffusion's tests:
 * p(x_ℓ | z) = Σ_{s consistent with z} p(s) 1(s_ℓ = x_ℓ) / Σ_{s consistent with z} p(s), where s is
 * consistent with z when it agrees with every unmasked token. Computed on the host in float64 by
 * enumeration (the jax-js arrays are read and made outside jit).
 */
import { Rng } from "../engine/index.js";
import { type Array as JaxArray, numpy as np, tree } from "../engine/jax.js";
import { meanAndStdError } from "../eval/likelihood.js";
import type { MaskedDenoiser } from "../masked/denoiser.js";
import { maskedNelbo } from "../masked/process.js";
import { getMaskingSchedule } from "../masked/schedule.js";

/** A distribution over sequences: rows of `length` ids (< vocabulary) and their probabilities (summing to 1). */
export interface SequenceDistribution {
  vocabulary: number;
  length: number;
  sequences: Int32Array[];
  probabilities: number[];
}

/** A small distribution over 3-token sequences of 4 words, with dependent positions (the masked tests' common case). */
export const small: SequenceDistribution = {
  vocabulary: 4,
  length: 3,
  sequences: [
    [0, 1, 2],
    [0, 2, 1],
    [3, 1, 1],
    [3, 3, 0],
    [1, 1, 2],
  ].map((s) => Int32Array.from(s)),
  probabilities: [0.3, 0.1, 0.25, 0.15, 0.2],
};

/** The distribution's exact entropy in nats: −Σ p log p. */
export function entropyOf(d: SequenceDistribution): number {
  return -d.probabilities.reduce((h, p) => h + (p > 0 ? p * Math.log(p) : 0), 0);
}

/**
 * Exact logits log p(x_ℓ | z) [L·V] of `d` for one row z of ids ([MASK] = V), float64 (−1e9 for
 * impossible words; all −1e9 where no sequence of `d` is consistent with z).
 */
export function exactLogits(d: SequenceDistribution, row: ArrayLike<number>): Float64Array {
  const { vocabulary: V, length: L } = d;
  const mass = new Float64Array(L * V);
  let total = 0;
  d.sequences.forEach((s, k) => {
    for (let l = 0; l < L; l++) if (row[l] !== V && row[l] !== s[l]) return;
    const p = d.probabilities[k]!;
    total += p;
    for (let l = 0; l < L; l++) mass[l * V + s[l]!]! += p;
  });
  return mass.map((m) => (m > 0 ? Math.log(m / total) : -1e9));
}

/** The ids of a one-hot z [B, L, V + 1] (read on the host; consumes z). */
function idsOf(z: JaxArray, L: number, V: number): Int32Array[] {
  const B = z.shape[0]!;
  const oneHot = z.dataSync() as Float32Array;
  return Array.from({ length: B }, (_, b) =>
    Int32Array.from({ length: L }, (_, l) => oneHot.subarray((b * L + l) * (V + 1), (b * L + l + 1) * (V + 1)).indexOf(1)),
  );
}

/** The oracle denoiser of `d` (no parameters: pass `{}`); its logits are log-probabilities (−1e9 for impossible words). */
export function oracleDenoiser(d: SequenceDistribution): MaskedDenoiser<Record<string, never>> {
  const { vocabulary: V, length: L } = d;
  return {
    vocabulary: V,
    classes: 0,
    logits(params, z, labels) {
      tree.dispose([params, labels]);
      const rows = idsOf(z, L, V);
      const out = new Float32Array(rows.length * L * V);
      rows.forEach((row, b) => out.set(exactLogits(d, row), b * L * V));
      return np.array(out).reshape([rows.length, L, V]);
    },
  };
}

/**
 * Mean and standard error of the masked bound (`maskedNelbo`, nats per sequence) of `d`'s oracle denoiser
 * over `n` draws of x ~ d (x, z_t and t all random from `seed`; continuous time for T = 0, else T steps).
 */
export function oracleBound(d: SequenceDistribution, schedule: string, T: number, n: number, seed: number): { mean: number; se: number } {
  const rng = new Rng(seed);
  const pick = rng.uniform([n]).dataSync() as Float32Array;
  const ids = new Float32Array(n * d.length);
  for (let b = 0; b < n; b++) {
    let k = 0;
    for (let acc = d.probabilities[0]!; acc < pick[b]! && k < d.sequences.length - 1; acc += d.probabilities[++k]!);
    ids.set(d.sequences[k]!, b * d.length);
  }
  const oracle = oracleDenoiser(d);
  const values = maskedNelbo(
    (z) => oracle.logits({}, z),
    getMaskingSchedule(schedule),
    d.vocabulary,
    np.array(ids).reshape([n, d.length]),
    rng.uniform([n, d.length]),
    rng.uniform([n]),
    T,
  ).dataSync() as Float32Array;
  return meanAndStdError(values);
}

/** The mixture Σ_c w_c d_c of distributions over the same vocabulary and length (sequences listed once per part). */
export function mixtureOf(parts: readonly SequenceDistribution[], weights: readonly number[]): SequenceDistribution {
  return {
    vocabulary: parts[0]!.vocabulary,
    length: parts[0]!.length,
    sequences: parts.flatMap((d) => d.sequences),
    probabilities: parts.flatMap((d, c) => d.probabilities.map((p) => p * weights[c]!)),
  };
}

/**
 * The exact conditional oracle of classes `parts` with prior `weights`: label c < C gives the exact
 * denoiser of parts[c], label C ("no label") that of the mixture Σ_c w_c parts[c].
 */
export function conditionalOracleDenoiser(
  parts: readonly SequenceDistribution[],
  weights: readonly number[],
): MaskedDenoiser<Record<string, never>> {
  const { vocabulary: V, length: L } = parts[0]!;
  const all = [...parts, mixtureOf(parts, weights)];
  return {
    vocabulary: V,
    classes: parts.length,
    logits(params, z, labels) {
      tree.dispose(params);
      const y = labels!.dataSync() as Int32Array;
      const rows = idsOf(z, L, V);
      const out = new Float32Array(rows.length * L * V);
      rows.forEach((row, b) => out.set(exactLogits(all[y[b]!]!, row), b * L * V));
      return np.array(out).reshape([rows.length, L, V]);
    },
  };
}

/** The sequences of `d` consistent with the row z (fixed tokens agree; [MASK] = V free), renormalised. */
export function conditionalOn(d: SequenceDistribution, row: ArrayLike<number>): SequenceDistribution {
  const keep = d.sequences.map((s) => s.every((w, l) => row[l] === d.vocabulary || row[l] === w));
  const total = d.probabilities.reduce((a, p, k) => a + (keep[k] ? p : 0), 0);
  return {
    ...d,
    sequences: d.sequences.filter((_, k) => keep[k]),
    probabilities: d.probabilities.filter((_, k) => keep[k]).map((p) => p / total),
  };
}

/** The product of `d`'s marginals, Π_ℓ p(x_ℓ), over every sequence of positive probability (enumerated). */
export function productOfMarginals(d: SequenceDistribution): SequenceDistribution {
  const { vocabulary: V, length: L } = d;
  const marginals = exactLogits(d, new Int32Array(L).fill(V)).map(Math.exp);
  let rows: { s: number[]; p: number }[] = [{ s: [], p: 1 }];
  for (let l = 0; l < L; l++)
    rows = rows
      .flatMap(({ s, p }) => Array.from({ length: V }, (_, v) => ({ s: [...s, v], p: p * marginals[l * V + v]! })))
      .filter((r) => r.p > 1e-12);
  return { vocabulary: V, length: L, sequences: rows.map((r) => Int32Array.from(r.s)), probabilities: rows.map((r) => r.p) };
}

/**
 * Pearson's χ² of samples ids [n·L] against `d` (sequences listed once): X² = Σ_k (O_k − E_k)²/E_k,
 * E_k = n p_k, over the sequences with E_k ≥ 5 and one pooled bin for all others (samples outside the
 * support included; with E = 0 a single sample there gives X² = ∞); `critical` is the χ² quantile of
 * level 1 − 5·10⁻⁴ for its degrees of freedom (Wilson–Hilferty: df (1 − 2/(9 df) + 3.29 √(2/(9 df)))³).
 */
export function chiSquare(d: SequenceDistribution, ids: Int32Array, n: number): { statistic: number; critical: number; outside: number } {
  const L = d.length;
  const index = new Map(d.sequences.map((s, k) => [s.join(","), k]));
  const big = d.probabilities.map((p) => n * p >= 5);
  const counts = new Float64Array(d.sequences.length);
  let outside = 0;
  let pooled = 0;
  for (let b = 0; b < n; b++) {
    const k = index.get(ids.subarray(b * L, (b + 1) * L).join(","));
    if (k === undefined) outside++;
    else counts[k]!++;
    if (k === undefined || !big[k]) pooled++;
  }
  const pooledExpected = n * d.probabilities.reduce((a, p, k) => a + (big[k] ? 0 : p), 0);
  let statistic = d.probabilities.reduce((x, p, k) => x + (big[k] ? (counts[k]! - n * p) ** 2 / (n * p) : 0), 0);
  if (pooled > 0 || pooledExpected > 1e-9) statistic += (pooled - pooledExpected) ** 2 / pooledExpected;
  const df = Math.max(1, big.filter(Boolean).length - (pooledExpected > 1e-9 ? 0 : 1));
  const critical = df * (1 - 2 / (9 * df) + 3.29 * Math.sqrt(2 / (9 * df))) ** 3;
  return { statistic, critical, outside };
}

/** Ordered partitions of `items` into non-empty blocks (every order of the blocks). */
function orderedPartitions(items: number[]): number[][][] {
  if (items.length === 0) return [[]];
  const out: number[][][] = [];
  // the first block: every non-empty subset
  for (let mask = 1; mask < 1 << items.length; mask++) {
    const first = items.filter((_, i) => mask & (1 << i));
    const rest = items.filter((_, i) => !(mask & (1 << i)));
    for (const tail of orderedPartitions(rest)) out.push([first, ...tail]);
  }
  return out;
}

/**
 * The exact distribution of N-step ancestral sampling from the row `start` ([MASK] = V free) with
 * the linear schedule and the exact denoiser of `d`, by enumeration (an independent reference for
 * the sampler). On the grid t_k = k/N each free position is unmasked at a step uniform on 1..N,
 * independently, so an ordered partition of the F free positions into m blocks (blocks unmasked in
 * turn, each at one step) has probability C(N, m)/N^F; the tokens of a block are drawn independently
 * from p(x_ℓ | z) given the blocks before it, with p the softmax of `exactLogits` (uniform where z
 * is inconsistent with d, as the oracle's logits make it). Returns probabilities by "i,j,k" key.
 */
export function ancestralDistribution(d: SequenceDistribution, N: number, start: Int32Array): Map<string, number> {
  const { vocabulary: V } = d;
  const free = [...start.keys()].filter((l) => start[l] === V);
  const choose = (n: number, k: number) => Array.from({ length: k }, (_, i) => (n - i) / (i + 1)).reduce((a, b) => a * b, 1);
  const out = new Map<string, number>();
  const walkBlocks = (z: Int32Array, blocks: number[][], p: number) => {
    if (blocks.length === 0) {
      out.set(z.join(","), (out.get(z.join(",")) ?? 0) + p);
      return;
    }
    const logits = exactLogits(d, z);
    const probs = (l: number) => {
      const row = logits.subarray(l * V, (l + 1) * V);
      const max = Math.max(...row);
      const e = row.map((x) => Math.exp(x - max));
      const sum = e.reduce((a, b) => a + b, 0);
      return e.map((x) => x / sum);
    };
    const [block, ...rest] = blocks as [number[], ...number[][]];
    const words = block.map(probs);
    for (let code = 0; code < V ** block.length; code++) {
      const next = Int32Array.from(z);
      let q = p;
      block.forEach((l, i) => {
        const v = Math.floor(code / V ** i) % V;
        next[l] = v;
        q *= words[i]![v]!;
      });
      if (q > 0) walkBlocks(next, rest, q);
    }
  };
  for (const blocks of orderedPartitions(free)) walkBlocks(start, blocks, choose(N, blocks.length) / N ** free.length);
  return out;
}

/** A distribution of `ancestralDistribution`'s form as a SequenceDistribution (sequences of probability > 1e−12). */
export function asDistribution(probabilities: Map<string, number>, vocabulary: number, length: number): SequenceDistribution {
  const rows = [...probabilities].filter(([, p]) => p > 1e-12);
  return {
    vocabulary,
    length,
    sequences: rows.map(([k]) => Int32Array.from(k.split(",").map(Number))),
    probabilities: rows.map(([, p]) => p),
  };
}
