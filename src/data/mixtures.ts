/**
 * The built-in data sets whose density is a known Gaussian mixture, and sampling and classifying
 * points of any mixture. No file system: `known.ts` adds mixtures read from files.
 */

import { componentLogJoint, fromAxes, type GaussianMixture, principalAxes } from "../densities/mixture.js";
import type { Rng } from "../engine/index.js";
import { type Array, numpy as np } from "../engine/jax.js";
import type { PointSet } from "./sets.js";

const KNOWN: Record<string, GaussianMixture> = {
  /** N((1, −0.5), diag(0.6², 1.2²)) */
  gaussian: { weights: [1], means: [[1, -0.5]], variances: [[0.36, 1.44]] },
  /** Eight modes on the circle of radius 2, std 0.2, equal weights */
  "eight-gaussians": {
    weights: globalThis.Array.from({ length: 8 }, () => 1 / 8),
    means: globalThis.Array.from({ length: 8 }, (_: unknown, k: number) => [
      2 * Math.cos((Math.PI * k) / 4),
      2 * Math.sin((Math.PI * k) / 4),
    ]),
    variances: globalThis.Array.from({ length: 8 }, () => [0.04, 0.04]),
  },
  /** NCSN's two far-apart modes: 0.8·N((−5, −5), I) + 0.2·N((5, 5), I) */
  "ncsn-gmm": {
    weights: [0.8, 0.2],
    means: [
      [-5, -5],
      [5, 5],
    ],
    variances: [
      [1, 1],
      [1, 1],
    ],
  },
};

/** Built-in data sets whose density is a known Gaussian mixture: "gaussian", "eight-gaussians", "ncsn-gmm". */
export const knownDensityNames: readonly string[] = Object.keys(KNOWN);

/** The mixture of a built-in set with a closed-form density, or undefined. */
export function builtinMixture(name: string): GaussianMixture | undefined {
  return Object.hasOwn(KNOWN, name) ? KNOWN[name] : undefined;
}

/**
 * n samples of a Gaussian mixture, with the component of each: k ~ Categorical(π),
 * x = μ_k + U_k (√λ_k ⊙ z) with z ~ N(0, I) (Σ_k = U_k diag(λ_k) U_kᵀ; for a diagonal Σ_k,
 * μ_k + s_k ⊙ z). Borrows `m`.
 */
export function sampleMixtureWithLabels(m: GaussianMixture, n: number, rng: Rng): PointSet {
  const axes = principalAxes(m);
  const D = m.means[0]!.length;
  const u = rng.uniform([n]).dataSync() as Float32Array;
  const z = rng.normal([n, D]).dataSync() as Float32Array;
  const cumulative = m.weights.map((_, k) => m.weights.slice(0, k + 1).reduce((a, b) => a + b, 0));
  const points = new Float32Array(n * D);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const found = cumulative.findIndex((c) => u[i]! < c);
    const k = found < 0 ? m.weights.length - 1 : found;
    labels[i] = k;
    const c = axes[k]!;
    const offset = fromAxes(
      c,
      c.variances.map((v, j) => Math.sqrt(v) * z[i * D + j]!),
    );
    for (let d = 0; d < D; d++) points[i * D + d] = m.means[k]![d]! + offset[d]!;
  }
  return { points, n, dim: D, labels };
}

/** n samples [n, D] of a Gaussian mixture as an array. */
export function sampleMixture(m: GaussianMixture, n: number, rng: Rng): Array {
  const set = sampleMixtureWithLabels(m, n, rng);
  return np.array(set.points).reshape([n, set.dim]);
}

/** The most probable component of each point (the exact Bayes classifier of the mixture): argmax_k log π_k N(x; μ_k, Σ_k). */
export function componentOf(m: GaussianMixture, points: ArrayLike<number>): Int32Array {
  const D = m.means[0]!.length;
  const logJoint = componentLogJoint(m);
  const out = new Int32Array(points.length / D);
  for (let i = 0; i < out.length; i++) {
    const lp = logJoint(globalThis.Array.from({ length: D }, (_, d) => points[i * D + d]!));
    out[i] = lp.reduce((best, v, k) => (v > lp[best]! ? k : best), 0); // the first maximum (0 if all are NaN)
  }
  return out;
}

/** Fraction of points assigned to each component. */
export function componentFractions(m: GaussianMixture, points: ArrayLike<number>): number[] {
  const labels = componentOf(m, points);
  const counts = m.weights.map(() => 0);
  for (const k of labels) counts[k]!++;
  return counts.map((c) => c / labels.length);
}
