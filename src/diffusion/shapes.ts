/** Batch helpers: per-example scalars broadcast against [B, ...] data, and sums over data dims. */
import { type Array, numpy as np } from "../engine/jax.js";
import { sigmoid } from "../schedule/schedule.js";

/** Reshape a per-example vector [B] to [B, 1, …, 1] to broadcast against `like` ([B, ...]). */
export function perExample(v: Array, like: readonly number[]): Array {
  return v.reshape([like[0]!, ...like.slice(1).map(() => 1)]);
}

/** Σ over every axis but the first: [B, ...] → [B]. */
export function sumDims(x: Array): Array {
  const axes = x.shape.slice(1).map((_, k) => k + 1);
  // Stryker disable next-line ConditionalExpression: np.sum over no axes gives x back unchanged
  return axes.length === 0 ? x : np.sum(x, axes);
}

/** Number of data dimensions per example. */
export function dimsOf(shape: readonly number[]): number {
  return shape.slice(1).reduce((a, b) => a * b, 1);
}

/** α_t = √sigmoid(−γ_t) as [B, 1, …] broadcasting against `like`. Consumes gamma. */
export function alphaOf(gamma: Array, like: readonly number[]): Array {
  return np.sqrt(sigmoid(np.negative(perExample(gamma, like))));
}

/** σ_t = √sigmoid(γ_t) as [B, 1, …] broadcasting against `like`. Consumes gamma. */
export function sigmaOf(gamma: Array, like: readonly number[]): Array {
  return np.sqrt(sigmoid(perExample(gamma, like)));
}
