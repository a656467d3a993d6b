/**
 * The exact ("oracle") denoiser for data from a Gaussian mixture p(x_0) = Σ_k π_k N(μ_k, diag(s_k²)).
 * Noising keeps it a mixture: q(x_t) = Σ_k π_k N(α μ_k, diag(α² s_k² + σ²)), so with
 * responsibilities w_k(x_t) ∝ π_k N(x_t; α μ_k, v_k), v_k = α² s_k² + σ²,
 *   E[x_0 | x_t] = Σ_k w_k (μ_k + α s_k²/v_k · (x_t − α μ_k))        (the optimal x_0-denoiser)
 *   ∇ log q(x_t) = Σ_k w_k · (−(x_t − α μ_k)/v_k)                      (the exact score)
 * Both are computed directly, not through each other, so Tweedie's formula can be tested on them.
 * A single Gaussian is the mixture with K = 1.
 */
import { nn, numpy as np, tree, type Array } from "../engine/jax.js";
import type { Model } from "../diffusion/model.js";
import type { Classifier } from "./mlp.js";
import { toEps, vFrom, type Target } from "../diffusion/parameterization.js";
import { sigmoid } from "../diffusion/shapes.js";

export interface GaussianMixture {
  /** π_k, summing to 1 */
  weights: number[];
  /** μ_k, K × D */
  means: number[][];
  /** s_k² per dimension, K × D */
  variances: number[][];
}

/** Parameters of the oracle as arrays: log π [K], μ [K, D], s² [K, D]. */
export type MixtureParams = { logWeights: Array; means: Array; variances: Array };

export function isotropicGaussian(mean: number[], std: number): GaussianMixture {
  return { weights: [1], means: [mean], variances: [mean.map(() => std * std)] };
}

export function validateMixture(m: GaussianMixture): void {
  const K = m.weights.length;
  const D = m.means[0]?.length ?? 0;
  if (K === 0 || D === 0) throw new Error("a Gaussian mixture needs at least one component and dimension");
  if (m.means.length !== K || m.variances.length !== K) throw new Error("mixture: weights, means and variances differ in length");
  if (m.means.some((r) => r.length !== D) || m.variances.some((r) => r.length !== D)) {
    throw new Error(`mixture: every mean and variance must have ${D} entries`);
  }
  if (m.weights.some((w) => !(w > 0))) throw new Error("mixture weights must be positive");
  if (Math.abs(m.weights.reduce((a, b) => a + b, 0) - 1) > 1e-9) throw new Error("mixture weights must sum to 1");
  if (m.variances.some((r) => r.some((v) => !(v > 0)))) throw new Error("mixture variances must be positive");
}

/** The mixture as arrays of `dtype` (float32 for wasm work, float64 on `cpu` for exact tests). */
export function mixtureParams(m: GaussianMixture, dtype: np.DType = np.float32): MixtureParams {
  validateMixture(m);
  return {
    logWeights: np.array(m.weights.map(Math.log), { dtype }),
    means: np.array(m.means, { dtype }),
    variances: np.array(m.variances, { dtype }),
  };
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

/** Per-component pieces at level γ for flattened x_t [B, D] (optionally per-example labels). Consumes everything. */
function components(p: MixtureParams, xt: Array, gamma: Array, labels?: Array) {
  const [B, D] = xt.shape as [number, number];
  const g = gamma.reshape([B, 1, 1]);
  const alpha2 = sigmoid(np.negative(g.ref));
  const alpha = np.sqrt(alpha2.ref);
  const sigma2 = sigmoid(g);
  const variances = p.variances.reshape([1, -1, D]);
  const v = alpha2.mul(variances.ref).add(sigma2); // v_k = α² s_k² + σ², [B, K, D]
  const means = p.means.reshape([1, -1, D]);
  const diff = xt.reshape([B, 1, D]).sub(alpha.ref.mul(means.ref)); // x_t − α μ_k
  // log π_k + Σ_d log N(x_t,d; α μ_kd, v_kd)
  const logDensity = np.sum(np.square(diff.ref).div(v.ref).add(np.log(v.ref)).add(Math.log(2 * Math.PI)), 2).mul(-0.5);
  const logits = logDensity.add(labels ? labelledLogWeights(p.logWeights, labels) : p.logWeights.reshape([1, -1]));
  return { logits, diff, v, alpha, means, variances };
}

/** log q_t(x) = log Σ_k π_k N(x; α μ_k, v_k) for x [B, ...] at γ [B] (γ = −∞: the data density). */
export function mixtureLogDensity(p: MixtureParams, x: Array, gamma: Array): Array {
  const B = x.shape[0]!;
  const c = components(p, x.reshape([B, -1]), gamma);
  tree.dispose([c.diff, c.v, c.alpha, c.means, c.variances]);
  return nn.logsumexp(c.logits, 1);
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
  // μ_k + α s_k²/v_k (x_t − α μ_k)
  const perX0 = c.means.add(c.alpha.mul(c.variances).div(c.v.ref).mul(c.diff.ref));
  const perScore = np.negative(c.diff.div(c.v));
  const x0 = np.sum(w.ref.mul(perX0), 1).reshape(shape);
  const score = np.sum(w.mul(perScore), 1).reshape(shape);
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

/** The exact noise-aware classifier: logits log π_k + log N(x_t; α μ_k, v_k) of p(k | x_t). */
export function oracleClassifier(classes: number): Classifier<MixtureParams> {
  return {
    classes,
    logits(params, xt, t, gamma) {
      t.dispose();
      const c = components(params, xt.reshape([xt.shape[0]!, -1]), gamma);
      tree.dispose([c.diff, c.v, c.alpha, c.means, c.variances]);
      return c.logits;
    },
  };
}
