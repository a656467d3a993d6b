/**
 * A learned monotone schedule (Kingma et al. 2021, appendix): γ(t) = γ_min + (γ_max − γ_min)·
 * (γ̃(t) − γ̃(0))/(γ̃(1) − γ̃(0)), where γ̃(t) = l₁(t) + l₃(sigmoid(l₂(l₁(t)))) is a small network with
 * positive weights (softplus of free parameters), hence increasing in t. The endpoints γ_min and
 * γ_max are parameters too. It implements `NoiseSchedule`, so callers use it like a fixed one.
 */
import { numpy as np, type Array } from "../engine/jax.js";
import { softplus, type NoiseSchedule } from "./schedule.js";
import type { Rng } from "../engine/index.js";

export type LearnedGammaParams = {
  gammaMin: Array;
  gammaMax: Array;
  /** l₁: 1 → 1 */
  w1: Array;
  b1: Array;
  /** l₂: 1 → H */
  w2: Array;
  b2: Array;
  /** l₃: H → 1 */
  w3: Array;
};

/** Initial parameters (float32): the endpoints of VDM's fixed schedule and H hidden units. */
export function initLearnedGamma(rng: Rng, hidden = 1024, { gammaMin = -13.3, gammaMax = 5 } = {}): LearnedGammaParams {
  return {
    gammaMin: np.array([gammaMin]),
    gammaMax: np.array([gammaMax]),
    w1: np.array([[1]]),
    b1: np.array([0]),
    w2: rng.normal([1, hidden]),
    b2: np.zeros([hidden]),
    w3: rng.normal([hidden, 1]).mul(1 / hidden),
  };
}

/** γ̃(t) for t [B, 1]; borrows params. */
function unnormalized(p: LearnedGammaParams, t: Array): Array {
  const l1 = np.matmul(t, softplus(p.w1.ref)).add(p.b1.ref);
  const h = np.reciprocal(np.exp(np.negative(np.matmul(l1.ref, softplus(p.w2.ref)).add(p.b2.ref))).add(1));
  return l1.add(np.matmul(h, softplus(p.w3.ref)));
}

/** The schedule defined by `params` (borrowed: the caller keeps and disposes them). */
export function learnedSchedule(params: LearnedGammaParams, { tMin = 0, tMax = 1 } = {}): NoiseSchedule {
  return {
    name: "learned",
    tMin,
    tMax,
    gamma(t: Array): Array {
      const shape = t.shape;
      const ends = unnormalized(params, np.array([[0], [1]], { dtype: t.dtype, device: t.device }));
      const [g0, g1] = np.split(ends.reshape([2]), 2);
      const g = unnormalized(params, t.reshape([-1, 1])).reshape(shape);
      const fraction = g.sub(g0!.ref).div(g1!.sub(g0!));
      const span = params.gammaMax.ref.sub(params.gammaMin.ref);
      return params.gammaMin.ref.add(span.mul(fraction));
    },
  };
}
