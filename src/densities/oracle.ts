/**
 * The exact ("oracle") denoiser for data from a Gaussian mixture p(x_0) = Σ_k π_k N(μ_k, Σ_k),
 * with Σ_k = U_k diag(λ_k) U_kᵀ (see `mixture.ts`; U_k = I for a diagonal Σ_k). Noising keeps it a
 * mixture: q(x_t) = Σ_k π_k N(α μ_k, α² Σ_k + σ² I), and α² Σ_k + σ² I = U_k diag(v_k) U_kᵀ with
 * v_k = α² λ_k + σ². In component k's principal coordinates r_k = U_kᵀ(x_t − α μ_k), and with
 * responsibilities w_k(x_t) ∝ π_k N(x_t; α μ_k, U_k diag(v_k) U_kᵀ),
 *   log N(x_t; α μ_k, ·) = −½ Σ_j (r_kj²/v_kj + log v_kj + log 2π)
 *   E[x_0 | x_t] = Σ_k w_k (μ_k + U_k (α λ_k/v_k ⊙ r_k))          (the optimal x_0-denoiser)
 *   ∇ log q(x_t) = Σ_k w_k · (−U_k (r_k/v_k))                      (the exact score)
 * Both are computed directly, not through each other, so Tweedie's formula can be tested on them.
 * A single Gaussian is the mixture with K = 1.
 */

import type { Model } from "../diffusion/model.js";
import { type Target, toEps, vFrom } from "../diffusion/parameterization.js";
import { type Array, nn, numpy as np, tree } from "../engine/jax.js";
import type { Classifier } from "../models/kind.js";
import { sigmoid } from "../schedule/schedule.js";
import { type GaussianMixture, principalAxes, toAxes } from "./mixture.js";

/**
 * Parameters of the oracle as arrays, each component in its principal coordinates:
 * logWeights [K] = log π_k; means [K, D] = U_kᵀ μ_k; variances [K, D] = λ_k; axes [D, K·D] =
 * [U_1 | … | U_K] side by side, absent when every Σ_k is diagonal (then means are μ_k and
 * variances the diagonals).
 */
export type MixtureParams = { logWeights: Array; means: Array; variances: Array; axes?: Array };

/**
 * The mixture as arrays of `dtype` (float32 for wasm work, float64 on `cpu` for exact tests),
 * each Σ_k decomposed on the host in float64 (`principalAxes`, which also checks it). Borrows `m`.
 */
export function mixtureParams(m: GaussianMixture, dtype: np.DType = np.float32): MixtureParams {
  const components = principalAxes(m);
  const D = m.means[0]!.length;
  const params: MixtureParams = {
    logWeights: np.array(m.weights.map(Math.log), { dtype }),
    means: np.array(
      components.map((c, k) => toAxes(c, m.means[k]!)),
      { dtype },
    ),
    variances: np.array(
      components.map((c) => c.variances),
      { dtype },
    ),
  };
  if (!components.some((c) => c.axes)) return params;
  const identityRow = (d: number) => globalThis.Array.from({ length: D }, (_, e) => (d === e ? 1 : 0));
  // row d of [U_1 | … | U_K]: U_k[d][j] at column k·D + j
  const axes = globalThis.Array.from({ length: D }, (_, d) => components.flatMap((c) => c.axes?.[d] ?? identityRow(d)));
  return { ...params, axes: np.array(axes, { dtype }) };
}

/** U_kᵀ x for every k, [B, K, D], from x [B, D] (x itself as [B, 1, D] without axes). Consumes both. */
function toPrincipal(axes: Array | undefined, x: Array, K: number): Array {
  const [B, D] = x.shape as [number, number];
  return axes ? np.matmul(x, axes).reshape([B, K, D]) : x.reshape([B, 1, D]);
}

/** Σ_k U_k c_k, [B, D], from c [B, K, D] (Σ_k c_k without axes): one matmul with [U_1 | … | U_K]ᵀ. Consumes both. */
function fromPrincipal(axes: Array | undefined, c: Array): Array {
  const [B, K, D] = c.shape as [number, number, number];
  return axes ? np.matmul(c.reshape([B, K * D]), axes.transpose()) : np.sum(c, 1);
}

/**
 * log-weights per example [B, K]: log π_k, or for label y < K the point mass on component y
 * (label K = "no label"). Consumes both.
 */
function labelledLogWeights(logWeights: Array, labels: Array): Array {
  const K = logWeights.shape[0]!;
  const chosen = nn.oneHot(labels.ref, K + 1).slice([], [0, K]); // [B, K], all zero for "no label"
  const unlabelled = np.equal(labels, K).reshape([-1, 1]);
  const masked = np.where(chosen.astype(np.bool), 0, -Infinity);
  return np.where(unlabelled, logWeights.reshape([1, K]), masked);
}

/**
 * Per-component pieces at level γ for flattened x_t [B, D] (optionally per-example labels):
 * logits log π_k + log N(x_t; α μ_k, α² Σ_k + σ² I) [B, K], r = U_kᵀ(x_t − α μ_k) and
 * v = α² λ + σ² [B, K, D], α [B, 1, 1], the parameters as [1, K, D] and the axes. Consumes everything.
 */
function components(p: MixtureParams, xt: Array, gamma: Array, labels?: Array) {
  const B = xt.shape[0]!;
  const [K, D] = p.means.shape as [number, number];
  const g = gamma.reshape([B, 1, 1]);
  const alpha2 = sigmoid(np.negative(g.ref));
  const alpha = np.sqrt(alpha2.ref);
  const sigma2 = sigmoid(g);
  const variances = p.variances.reshape([1, K, D]);
  const v = alpha2.mul(variances.ref).add(sigma2); // v_k = α² λ_k + σ², [B, K, D]
  const means = p.means.reshape([1, K, D]);
  const r = toPrincipal(p.axes?.ref, xt, K).sub(alpha.ref.mul(means.ref)); // U_kᵀ x_t − α U_kᵀ μ_k
  // log π_k − ½ Σ_j (r_kj²/v_kj + log v_kj + log 2π)
  const logDensity = np
    .sum(
      np
        .square(r.ref)
        .div(v.ref)
        .add(np.log(v.ref))
        .add(Math.log(2 * Math.PI)),
      2,
    )
    .mul(-0.5);
  const logits = logDensity.add(labels ? labelledLogWeights(p.logWeights, labels) : p.logWeights.reshape([1, -1]));
  return { logits, r, v, alpha, means, variances, axes: p.axes };
}

/** The logits [B, K] of `components` for x [B, ...], the other pieces released. Consumes everything. */
function componentLogits(p: MixtureParams, x: Array, gamma: Array): Array {
  const { logits, axes, ...rest } = components(p, x.reshape([x.shape[0]!, -1]), gamma);
  tree.dispose([...Object.values(rest), ...(axes ? [axes] : [])]);
  return logits;
}

/** log q_t(x) = log Σ_k π_k N(x; α μ_k, α² Σ_k + σ² I) for x [B, ...] at γ [B] (γ = −∞: the data density). Consumes everything. */
export function mixtureLogDensity(p: MixtureParams, x: Array, gamma: Array): Array {
  return nn.logsumexp(componentLogits(p, x, gamma), 1);
}

/**
 * E[x_0 | x_t] and ∇ log q(x_t), each shaped like x_t; with labels y, those of the component y
 * (the exact conditional q(x_t | y)). Consumes everything.
 */
export function mixturePosterior(p: MixtureParams, xt: Array, gamma: Array, labels?: Array): { x0: Array; score: Array } {
  const shape = xt.shape;
  const B = shape[0]!;
  const c = components(p, xt.reshape([B, -1]), gamma, labels);
  const w = nn.softmax(c.logits, 1).reshape([B, -1, 1]);
  // per component, in its principal coordinates: U_kᵀ μ_k + α λ_k/v_k ⊙ r_k, and −r_k/v_k
  const perX0 = c.means.add(c.alpha.mul(c.variances).div(c.v.ref).mul(c.r.ref));
  const perScore = np.negative(c.r.div(c.v));
  const x0 = fromPrincipal(c.axes?.ref, w.ref.mul(perX0)).reshape(shape);
  const score = fromPrincipal(c.axes, w.mul(perScore)).reshape(shape);
  return { x0, score };
}

/**
 * The oracle as a Model predicting `target`; its params are `mixtureParams(...)`. It is
 * conditional on the component: label k < K gives component k's exact denoiser, label K none.
 */
export function oracleModel(target: Target, classes = 0): Model<MixtureParams> {
  return {
    target,
    classes,
    apply(params, xt, t, gamma, labels) {
      t.dispose();
      const { x0, score } = mixturePosterior(params, xt.ref, gamma.ref, labels);
      switch (target) {
        case "x0":
          tree.dispose([score, xt, gamma]);
          return x0;
        case "score":
          tree.dispose([x0, xt, gamma]);
          return score;
        case "eps": // ε̂ = −σ ∇ log q
          x0.dispose();
          return toEps(score, "score", xt, gamma);
        case "v":
          return vFrom(toEps(score, "score", xt, gamma.ref), x0, gamma);
      }
    },
  };
}

/** The exact noise-aware classifier: logits log π_k + log N(x_t; α μ_k, α² Σ_k + σ² I) of p(k | x_t). */
export function oracleClassifier(classes: number): Classifier<MixtureParams> {
  return {
    classes,
    logits(params, xt, t, gamma) {
      t.dispose();
      return componentLogits(params, xt, gamma);
    },
  };
}
