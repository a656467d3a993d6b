/**
 * AdamW with global-norm gradient clipping, and an exponential moving average of the parameters.
 *   g ← g · min(1, c/‖g‖),  m ← β₁m + (1−β₁)g,  v ← β₂v + (1−β₂)g²,
 *   p ← p − lr · (m/(1−β₁ᵏ) / (√(v/(1−β₂ᵏ)) + ε) + λ p)          (decay λ on matrices only)
 *   ema ← d·ema + (1−d)·p
 * Pure functions of trees, for use inside one jitted training step.
 */
import type { Params } from "../engine/index.js";
import { type Array, numpy as np, tree } from "../engine/jax.js";

/**
 * Parameters (or gradients, or moments) as a tree of arrays.
 * @inline
 */
/**
 * AdamW hyperparameters with global-norm clipping, warm-up, optional cosine decay and the EMA
 * decay d of the averaged parameters.
 */
export interface AdamConfig {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** max global gradient norm (0 = no clipping) */
  clipNorm: number;
  /** linear learning-rate warm-up over this many steps */
  warmup: number;
  /**
   * cosine decay after the warm-up: lr·(f + (1 − f)·½(1 + cos(π k/steps))) at step k, then lr·f
   * from `steps` on (absent: constant)
   */
  decay?: { kind: "cosine"; steps: number; final: number };
  emaDecay: number;
}

/** lr 1e−3, β₁ 0.9, β₂ 0.999, ε 1e−8, no weight decay, clip at norm 1, 100 warm-up steps, EMA 0.999. */
export const defaultAdam: AdamConfig = {
  lr: 1e-3,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
  weightDecay: 0,
  clipNorm: 1,
  warmup: 100,
  emaDecay: 0.999,
};

/** Adam's first and second moment estimates m and v, shaped like the parameters. */
export type AdamState = { m: Params; v: Params };

export function adamInit(params: Params): AdamState {
  return { m: tree.map((p: Array) => np.zerosLike(p.ref), params), v: tree.map((p: Array) => np.zerosLike(p.ref), params) };
}

/** A step's scalars on the host. */
export interface HostScalars {
  /** the learning rate after warm-up and decay */
  lr: number;
  /** Adam's bias corrections 1 − β₁^(k+1) and 1 − β₂^(k+1) */
  correction1: number;
  correction2: number;
  /** the EMA's decay */
  emaDecay: number;
}

/** Host-side scalars of step k (0-based): warmed-up learning rate, bias corrections, EMA decay. */
export function stepScalars(config: AdamConfig, k: number): HostScalars {
  return {
    lr: config.lr * Math.min(1, (k + 1) / Math.max(1, config.warmup)) * decayFactor(config, k),
    correction1: 1 - config.beta1 ** (k + 1),
    correction2: 1 - config.beta2 ** (k + 1),
    // the usual EMA warm-up: early averages forget the random initialisation quickly
    emaDecay: Math.min(config.emaDecay, (1 + k) / (10 + k)),
  };
}

/** The learning rate's decay factor at step k (1 without decay). */
export function decayFactor(config: AdamConfig, k: number): number {
  const d = config.decay;
  if (!d) return 1;
  // from `steps` on the cosine stays at cos π = −1 (to the last bit), so the factor is `final`
  return d.final + (1 - d.final) * 0.5 * (1 + Math.cos((Math.PI * Math.min(k, d.steps)) / d.steps));
}

/** ‖g‖ over every leaf of a tree. Borrows the tree. */
export function globalNorm(grads: Params): Array {
  const squares = tree.leaves(grads).map((g) => np.sum(np.square(g.ref)));
  return np.sqrt(squares.reduce((a, b) => a.add(b)));
}

/** Per-step scalars as arrays (jit turns the numbers of `stepScalars` into these). */
export type StepScalars = { lr: Array; correction1: Array; correction2: Array };

/** One AdamW update. Consumes params, grads, state and the scalars; returns new params and state. */
export function adamUpdate(
  params: Params,
  grads: Params,
  state: AdamState,
  config: AdamConfig,
  s: StepScalars,
): { params: Params; state: AdamState } {
  let g = grads;
  if (config.clipNorm > 0) {
    const scale = np.minimum(np.reciprocal(globalNorm(g).add(1e-12)).mul(config.clipNorm), 1);
    g = tree.map((x: Array) => x.mul(scale.ref), g);
    scale.dispose();
  }
  // Stryker disable next-line ConditionalExpression,EqualityOperator: λ ≥ 0 is validated, and at λ = 0 the decay term λp is exactly 0, so reading λ ≥ 0 or true here gives the same parameters (the line's other mutants, false and λ ≤ 0, fail adam.test.ts)
  const decays = config.weightDecay > 0;
  const m = tree.map((mi: Array, gi: Array) => mi.mul(config.beta1).add(gi.mul(1 - config.beta1)), state.m, tree.ref(g));
  const v = tree.map((vi: Array, gi: Array) => vi.mul(config.beta2).add(np.square(gi).mul(1 - config.beta2)), state.v, g);
  const next = tree.map(
    (p: Array, mi: Array, vi: Array) => {
      const step = mi.div(s.correction1.ref).div(np.sqrt(vi.div(s.correction2.ref)).add(config.eps));
      const decay = decays && p.ndim >= 2 ? p.ref.mul(config.weightDecay) : null;
      return p.sub((decay ? step.add(decay) : step).mul(s.lr.ref));
    },
    params,
    tree.ref(m),
    tree.ref(v),
  );
  tree.dispose([s.lr, s.correction1, s.correction2]);
  return { params: next, state: { m, v } };
}

/** ema ← d·ema + (1 − d)·p. Consumes ema and decay; borrows params. */
export function emaUpdate(ema: Params, params: Params, decay: Array): Params {
  const out = tree.map((e: Array, p: Array) => e.mul(decay.ref).add(p.mul(np.subtract(1, decay.ref))), ema, tree.ref(params));
  decay.dispose();
  return out;
}
