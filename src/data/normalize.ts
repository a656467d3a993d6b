/** Per-dimension standardisation x' = (x − mean)/std, and its log-Jacobian for likelihoods. */
import type { PointSet } from "./sets.js";

/** Per-dimension standardisation x' = (x − mean)/std (one entry shared by every pixel for images). */
export interface Normalization {
  mean: number[];
  std: number[];
}

/** The mean and standard deviation of each dimension of `set` (a constant dimension gets std 1). */
export function fitNormalization(set: PointSet): Normalization {
  const { n, dim: D, points } = set;
  const mean = new Array<number>(D).fill(0);
  const variance = new Array<number>(D).fill(0);
  for (let i = 0; i < n; i++) for (let d = 0; d < D; d++) mean[d]! += points[i * D + d]! / n;
  for (let i = 0; i < n; i++) for (let d = 0; d < D; d++) variance[d]! += (points[i * D + d]! - mean[d]!) ** 2 / n;
  return { mean, std: variance.map((v) => Math.sqrt(v) || 1) };
}

export const identityNormalization = (dim: number): Normalization => ({ mean: new Array(dim).fill(0), std: new Array(dim).fill(1) });

/** (x − mean)/std elementwise for row-major points; returns a new array. */
export function normalize(points: Float32Array, z: Normalization): Float32Array {
  const D = z.mean.length;
  return Float32Array.from(points, (v, i) => (v - z.mean[i % D]!) / z.std[i % D]!);
}

/** x·std + mean elementwise: the inverse of `normalize`; returns a new array. */
export function denormalize(points: Float32Array, z: Normalization): Float32Array {
  const D = z.mean.length;
  return Float32Array.from(points, (v, i) => v * z.std[i % D]! + z.mean[i % D]!);
}

/**
 * log |det ∂x'/∂x| = −Σ_d log std_d over `dim` dimensions (a normalisation with fewer entries, like
 * the one shared by every pixel, repeats): add its negative to normalised-space nats to get data-space nats.
 */
export function logDetJacobian(z: Normalization, dim = z.std.length): number {
  return (-z.std.reduce((s, v) => s + Math.log(v), 0) * dim) / z.std.length;
}

/** 8-bit pixels map to [−1, 1]: x' = (x − 127.5)/127.5 (one mean and scale shared by every pixel). */
export const pixelNormalization = { mean: [127.5], std: [127.5] };
