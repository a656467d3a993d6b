/**
 * Learned schedules (Kingma et al. 2021): γ(t) = −log SNR(t) with trainable parameters, trained
 * jointly with the denoiser (train/objectives/learned.ts). Two kinds:
 * - "learned-linear": γ(t) = γ_min + (γ_max − γ_min)·t, both endpoints learned;
 * - "learned": γ(t) = γ_min + (γ_max − γ_min)·(γ̃(t) − γ̃(0))/(γ̃(1) − γ̃(0)), where
 *   γ̃(t) = l₁(t) + l₃(sigmoid(l₂(l₁(t)))) is a small network with positive weights (softplus of free
 *   parameters), hence increasing in t; the endpoints γ_min = γ(0), γ_max = γ(1) are parameters
 *   of their own, so the interior shape and the endpoints learn separately.
 * Both implement `NoiseSchedule`, so callers use them like a fixed schedule.
 */

import type { Rng } from "../engine/index.js";
import { type Array, numpy as np } from "../engine/jax.js";
import { ConfigError } from "../errors.js";
import { type NoiseSchedule, sigmoid, softplus } from "./schedule.js";

/** The learned schedule kinds: "learned" (monotone network) and "learned-linear" (learned endpoints). */
export const learnedScheduleKinds = ["learned", "learned-linear"] as const;
/** A learned schedule kind, one of `learnedScheduleKinds`. */
export type LearnedScheduleKind = (typeof learnedScheduleKinds)[number];

/** Whether a schedule name is a learned kind (a type guard). */
export function isLearnedSchedule(name: string): name is LearnedScheduleKind {
  return (learnedScheduleKinds as readonly string[]).includes(name);
}

/** The monotone network's parameters (the interior shape of a "learned" schedule). */
export type MonotoneGammaParams = {
  /** l₁: 1 → 1 */
  w1: Array;
  b1: Array;
  /** l₂: 1 → H */
  w2: Array;
  b2: Array;
  /** l₃: H → 1 */
  w3: Array;
};

/** A learned schedule's parameters: the endpoints ([1] each) and, for "learned", the interior. */
export type LearnedScheduleParams = { gammaMin: Array; gammaMax: Array; interior?: MonotoneGammaParams };

/** How a learned schedule starts (stored in the run's config). */
export interface LearnedScheduleInit {
  gammaMin: number;
  gammaMax: number;
  /** hidden units H of the monotone network ("learned" only) */
  hidden: number;
}

/** VDM's starting point: the endpoints of its fixed linear log-SNR schedule, H = 1024. */
export const defaultLearnedInit: LearnedScheduleInit = { gammaMin: -13.3, gammaMax: 5, hidden: 1024 };

/** Initial parameters (float32). */
export function initLearnedSchedule(
  kind: LearnedScheduleKind,
  rng: Rng,
  init: LearnedScheduleInit = defaultLearnedInit,
): LearnedScheduleParams {
  if (!(init.gammaMin < init.gammaMax))
    throw new ConfigError(`a learned schedule needs γ_min < γ_max, got ${init.gammaMin} and ${init.gammaMax}`);
  const ends = { gammaMin: np.array([init.gammaMin]), gammaMax: np.array([init.gammaMax]) };
  if (kind === "learned-linear") return ends;
  const H = init.hidden;
  return {
    ...ends,
    interior: {
      w1: np.array([[1]]),
      b1: np.array([0]),
      w2: rng.normal([1, H]),
      b2: np.zeros([H]),
      w3: rng.normal([H, 1]).mul(1 / H),
    },
  };
}

/**
 * `p` with t's dtype and device (a trained parameter used by float64 tables on `cpu`); borrows p.
 * Under a trace (tracers have no device) only the dtype must match.
 */
function like(p: Array, t: Array): Array {
  const sameDevice =
    // Stryker disable next-line ConditionalExpression: on the same device the copy below holds the same numbers (borrowing only saves it)
    p.device === t.device ||
    p.device === undefined || // p traced (the schedule being trained): it has no data to copy
    // Stryker disable next-line ConditionalExpression: a copy of p's numbers enters a trace as a constant equal to p
    t.device === undefined;
  if (p.dtype === t.dtype && sameDevice) return p.ref;
  // a plain array: np.array refuses a typed array of another dtype (a Float64Array for a float32 t)
  return np.array(globalThis.Array.from(p.ref.dataSync()), { dtype: t.dtype, device: t.device }).reshape(p.shape);
}

/** γ̃(t) for t [N, 1] → [N, 1]. Borrows the parameters. */
function monotone(p: MonotoneGammaParams, t: Array): Array {
  const l1 = np.matmul(t.ref, softplus(like(p.w1, t))).add(like(p.b1, t));
  const h = sigmoid(np.matmul(l1.ref, softplus(like(p.w2, t))).add(like(p.b2, t)));
  t.dispose();
  return l1.add(np.matmul(h, softplus(like(p.w3, t))));
}

/**
 * The interior shape f(t) = (γ̃(t) − γ̃(0))/(γ̃(1) − γ̃(0)) ∈ [0, 1] with f(0) = 0, f(1) = 1 (f(t) = t
 * for "learned-linear"), so γ(t) = γ_min + (γ_max − γ_min)·f(t). Consumes t; borrows params.
 */
function shape(params: LearnedScheduleParams, t: Array): Array {
  if (!params.interior) return t;
  const dims = t.shape;
  const ends = monotone(params.interior, np.array([[0], [1]], { dtype: t.dtype, device: t.device }));
  const [g0, g1] = np.split(ends.reshape([2]), 2);
  const g = monotone(params.interior, t.reshape([-1, 1])).reshape(dims);
  return g.sub(g0!.ref).div(g1!.sub(g0!));
}

/** The schedule defined by `params` (borrowed: the caller keeps and disposes them), on t ∈ [0, 1]. */
export function learnedSchedule(kind: LearnedScheduleKind, params: LearnedScheduleParams): NoiseSchedule {
  if ((kind === "learned") !== (params.interior !== undefined)) throw new ConfigError(`the parameters do not match a "${kind}" schedule`);
  return {
    name: kind,
    tMin: 0,
    tMax: 1,
    gamma(t: Array): Array {
      const gammaMin = like(params.gammaMin, t);
      const span = like(params.gammaMax, t).sub(gammaMin.ref);
      return gammaMin.add(span.mul(shape(params, t)));
    },
  };
}
