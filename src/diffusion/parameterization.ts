/**
 * The four equivalent targets a denoiser may predict, and exact conversions between them.
 * With x_t = α_t x_0 + σ_t ε (α_t² + σ_t² = 1):
 *   ε-prediction ε̂;  x_0-prediction x̂_0;  v = α_t ε − σ_t x_0 (Salimans & Ho 2022);
 *   score s = ∇ log q(x_t) = −ε/σ_t (Tweedie: E[x_0|x_t] = (x_t + σ_t² s)/α_t).
 * Every function consumes its array arguments.
 */
import { type Array, numpy as np } from "../engine/jax.js";
import { ConfigError } from "../errors.js";
import { alphaOf, sigmaOf } from "./shapes.js";

/** What a denoiser predicts: ε, x_0, v = α_t ε − σ_t x_0, or the score ∇ log q(x_t) = −ε/σ_t. */
export type Target = "eps" | "x0" | "v" | "score";
/** All prediction targets, in order: "eps", "x0", "v", "score". */
export const targets: readonly Target[] = ["eps", "x0", "v", "score"];

export function parseTarget(name: string): Target {
  if (!(targets as readonly string[]).includes(name)) {
    throw new ConfigError(`unknown target "${name}" (known: ${targets.join(", ")})`, { unknown: { name, known: targets } });
  }
  return name as Target;
}

/** ε̂ from a prediction of kind `from`. */
export function toEps(pred: Array, from: Target, xt: Array, gamma: Array): Array {
  const shape = xt.shape;
  switch (from) {
    case "eps":
      xt.dispose();
      gamma.dispose();
      return pred;
    case "x0": // ε = (x_t − α x_0)/σ
      return xt.sub(alphaOf(gamma.ref, shape).mul(pred)).div(sigmaOf(gamma, shape));
    case "v": // ε = σ x_t + α v
      return sigmaOf(gamma.ref, shape).mul(xt).add(alphaOf(gamma, shape).mul(pred));
    case "score": // ε = −σ s
      xt.dispose();
      return np.negative(sigmaOf(gamma, shape).mul(pred));
  }
}

/** x̂_0 from a prediction of kind `from`. */
export function toX0(pred: Array, from: Target, xt: Array, gamma: Array): Array {
  const shape = xt.shape;
  switch (from) {
    case "x0":
      xt.dispose();
      gamma.dispose();
      return pred;
    case "eps": // x_0 = (x_t − σ ε)/α
      return xt.sub(sigmaOf(gamma.ref, shape).mul(pred)).div(alphaOf(gamma, shape));
    case "v": // x_0 = α x_t − σ v
      return alphaOf(gamma.ref, shape).mul(xt).sub(sigmaOf(gamma, shape).mul(pred));
    case "score": // x_0 = (x_t + σ² s)/α
      return xt.add(np.square(sigmaOf(gamma.ref, shape)).mul(pred)).div(alphaOf(gamma, shape));
  }
}

/** v = α ε − σ x_0. */
export function vFrom(eps: Array, x0: Array, gamma: Array): Array {
  const shape = x0.shape;
  return alphaOf(gamma.ref, shape).mul(eps).sub(sigmaOf(gamma, shape).mul(x0));
}

/** s = −ε/σ. */
export function scoreFromEps(eps: Array, gamma: Array): Array {
  return np.negative(eps.div(sigmaOf(gamma, eps.shape)));
}

/** The prediction of kind `to` equivalent to `pred` of kind `from`. */
export function convert(pred: Array, from: Target, to: Target, xt: Array, gamma: Array): Array {
  if (from === to) {
    xt.dispose();
    gamma.dispose();
    return pred;
  }
  switch (to) {
    case "eps":
      return toEps(pred, from, xt, gamma);
    case "x0":
      return toX0(pred, from, xt, gamma);
    case "score":
      return scoreFromEps(toEps(pred, from, xt, gamma.ref), gamma);
    case "v": {
      const eps = toEps(pred.ref, from, xt.ref, gamma.ref);
      return vFrom(eps, toX0(pred, from, xt, gamma.ref), gamma);
    }
  }
}

/** The regression target of kind `target` for a training pair (x_0, ε) at level γ. */
export function trueTarget(target: Target, x0: Array, eps: Array, gamma: Array): Array {
  switch (target) {
    case "eps":
      x0.dispose();
      gamma.dispose();
      return eps;
    case "x0":
      eps.dispose();
      gamma.dispose();
      return x0;
    case "v":
      return vFrom(eps, x0, gamma);
    case "score":
      x0.dispose();
      return scoreFromEps(eps, gamma);
  }
}
