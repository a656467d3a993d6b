/**
 * The exact denoiser of a known distribution over token sequences, for masked diffusion's tests:
 * p(x_ℓ | z) = Σ_{s consistent with z} p(s) 1(s_ℓ = x_ℓ) / Σ_{s consistent with z} p(s), where s is
 * consistent with z when it agrees with every unmasked token. Computed on the host in float64 by
 * enumeration (the jax-js arrays are read and made outside jit).
 */
import { Rng } from "../engine/index.js";
import { numpy as np, tree } from "../engine/jax.js";
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

/** The distribution's exact entropy in nats: −Σ p log p. */
export function entropyOf(d: SequenceDistribution): number {
  return -d.probabilities.reduce((h, p) => h + (p > 0 ? p * Math.log(p) : 0), 0);
}

/** The oracle denoiser of `d` (no parameters: pass `{}`); its logits are log-probabilities (−1e9 for impossible words). */
export function oracleDenoiser(d: SequenceDistribution): MaskedDenoiser<Record<string, never>> {
  const { vocabulary: V, length: L } = d;
  return {
    vocabulary: V,
    classes: 0,
    logits(params, z, labels) {
      tree.dispose([params, labels]);
      const B = z.shape[0]!;
      const oneHot = z.dataSync() as Float32Array;
      const out = new Float32Array(B * L * V).fill(-1e9);
      for (let b = 0; b < B; b++) {
        const row = Array.from({ length: L }, (_, l) => oneHot.subarray((b * L + l) * (V + 1), (b * L + l + 1) * (V + 1)).indexOf(1));
        const mass = new Float64Array(L * V);
        let total = 0;
        d.sequences.forEach((s, k) => {
          if (!row.every((w, l) => w === V || w === s[l])) return;
          const p = d.probabilities[k]!;
          total += p;
          for (let l = 0; l < L; l++) mass[l * V + s[l]!]! += p;
        });
        for (let i = 0; i < L * V; i++) if (mass[i]! > 0) out[b * L * V + i] = Math.log(mass[i]! / total);
      }
      return np.array(out).reshape([B, L, V]);
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
