/**
 * The ELBO tests' float64 references with FIXED noise (diffusion/elbo-terms.test.ts,
 * diffusion/chain-estimates.test.ts): a reference model that reads both its time input t and γ
 * (as a trained network does), for each of the four targets; a scripted stream of ε and u that
 * records each draw; Gaussian log-densities and KLs written from the derivation; the log-snr-linear
 * chain the discrete tests run, and the estimator's terms on it.
 */
import assert from "node:assert/strict";
import { ElboEstimator, type ElboTerms } from "../diffusion/elbo.js";
import type { Model } from "../diffusion/model.js";
import type { Target } from "../diffusion/parameterization.js";
import { DiffusionProcess } from "../diffusion/process.js";
import { exactArray, type Rng } from "../engine/index.js";
import type { Array as JaxArray } from "../engine/jax.js";
import { logSnrLinearSchedule, type NoiseSchedule } from "../schedule/index.js";
import { sigmoid } from "./reference.js";

export const f32 = Math.fround;

/** The per-dimension offsets the reference network adds, scaled by its time input. */
const C = [0.3, -0.6];
export const X0 = [
  [0.5, -1.0],
  [1.6, 0.8],
  [-0.9, -0.35],
];
export const B = X0.length;
export const D = 2;

/** The reference network's output for any target: 0.8 x_t + t·C − 0.02 γ (per dimension). */
const netJs = (x: number[], t: number, g: number) => x.map((v, d) => 0.8 * v + t * C[d]! - 0.02 * g);

export function referenceModel(target: Target): Model<{ c: JaxArray }> {
  return {
    target,
    classes: 0,
    apply(params, xt, t, gamma) {
      return xt
        .mul(0.8)
        .add(t.reshape([-1, 1]).mul(params.c))
        .sub(gamma.reshape([-1, 1]).mul(0.02));
    },
  };
}
export const params = () => ({ c: exactArray(C).reshape([1, D]) });

/** x̂_0 and ε̂ from a prediction p of `target` at x_t, level γ, from x_t = αx_0 + σε, v = αε − σx_0, s = −ε/σ. */
export function predictions(target: Target, x: number[], t: number, g: number): { x0: number[]; eps: number[] } {
  const a = Math.sqrt(sigmoid(-g));
  const s = Math.sqrt(sigmoid(g));
  const p = netJs(x, t, g);
  const fromEps = (eps: number[]) => ({ x0: x.map((v, d) => (v - s * eps[d]!) / a), eps });
  if (target === "eps") return fromEps(p);
  if (target === "score") return fromEps(p.map((pd) => -s * pd));
  if (target === "x0") return { x0: p, eps: p.map((pd, d) => (x[d]! - a * pd) / s) };
  // v: x_0 = αx_t − σv, ε = σx_t + αv
  return { x0: p.map((pd, d) => a * x[d]! - s * pd), eps: p.map((pd, d) => s * x[d]! + a * pd) };
}

/** Deterministic standard normals (mulberry32 + Box–Muller) and a stream that hands them out, recording each draw. */
function normals(seed: number, n: number): number[] {
  let state = seed >>> 0;
  const uniform = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return ((z ^ (z >>> 14)) >>> 0) / 4294967296;
  };
  return Array.from({ length: n }, () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform()));
}

export class ScriptedRng {
  readonly normalDraws: number[][] = [];
  readonly uniformDraws: number[][] = [];
  #seed = 1;
  constructor(readonly uniforms: number[][] = []) {}
  normal(shape: number[]): JaxArray {
    const v = normals(
      this.#seed++,
      shape.reduce((a, b) => a * b, 1),
    );
    this.normalDraws.push(v);
    return exactArray(v).reshape(shape);
  }
  uniform(shape: number[]): JaxArray {
    const v = this.uniforms[this.uniformDraws.length]!;
    assert.equal(
      v.length,
      shape.reduce((a, b) => a * b, 1),
      "scripted uniforms of the wrong size",
    );
    this.uniformDraws.push(v);
    return exactArray(v).reshape(shape);
  }
  asRng(): Rng {
    return this as unknown as Rng;
  }
}

/** Rows of example b from a flat [B·D] draw. */
export const row = (draw: number[], b: number) => draw.slice(b * D, (b + 1) * D);

/** −log N(x_0; x̂_0, e^{γ}) summed over dimensions. */
export const gaussianCost = (x0: number[], mean: number[], g: number) =>
  x0.reduce((s, x, d) => s + 0.5 * Math.log(2 * Math.PI * Math.exp(g)) + (x - mean[d]!) ** 2 / (2 * Math.exp(g)), 0);
/** KL(N(m, v) ‖ N(m', v')) for one dimension. */
export const gaussKl = (m: number, v: number, mp: number, vp: number) => 0.5 * (Math.log(vp / v) + (v + (m - mp) ** 2) / vp - 1);
/** log N(x; m, v) for one dimension. */
export const logNormal = (x: number, m: number, v: number) => -0.5 * Math.log(2 * Math.PI * v) - (x - m) ** 2 / (2 * v);

/** x_t = α x_0 + σ ε at level γ. */
export const noisy = (x0: number[], eps: number[], g: number) =>
  x0.map((x, d) => Math.sqrt(sigmoid(-g)) * x + Math.sqrt(sigmoid(g)) * eps[d]!);

/** The reconstruction and prior costs of example b (decoder "gaussian"), given the first noise draw. */
export function reconstructionAndPrior(target: Target, b: number, e0: number[], t1: number, g1: number, gT: number) {
  const x0 = X0[b]!;
  const x1 = noisy(x0, e0, g1);
  const reconstruction = gaussianCost(x0, predictions(target, x1, t1, g1).x0, g1);
  const prior = x0.reduce((s, x) => s + gaussKl(Math.sqrt(sigmoid(-gT)) * x, sigmoid(gT), 0, 1), 0);
  return { reconstruction, prior };
}

/** ½ (SNR_s − SNR_t) ‖x_0 − x̂_0(x_t)‖²: the KL between q(x_s|x_t,x_0) and p_θ(x_s|x_t) of one example. */
export function denoisingKl(target: Target, x0: number[], eps: number[], t: number, gs: number, gt: number) {
  const x0Hat = predictions(target, noisy(x0, eps, gt), t, gt).x0;
  return 0.5 * (Math.exp(-gs) - Math.exp(-gt)) * x0.reduce((s, x, d) => s + (x - x0Hat[d]!) ** 2, 0);
}

export const GMIN = -7;
export const GMAX = 4;
/** γ_i of the log-snr-linear chain with T steps (γ_0 = −∞), as the float32 table the process keeps. */
export const chainGamma = (T: number, i: number) => (i === 0 ? -Infinity : f32(GMIN + ((GMAX - GMIN) * i) / T));

/**
 * The estimator of the reference model of `target` (decoder "gaussian") on `schedule` with T steps
 * (0: continuous time); by default the log-snr-linear chain.
 */
export const referenceEstimator = (target: Target, T: number, schedule: NoiseSchedule = logSnrLinearSchedule(GMIN, GMAX)) =>
  new ElboEstimator(referenceModel(target), new DiffusionProcess(schedule, T), "gaussian");

/** The examples X0 as a [B, D] array. */
export const x0Batch = () => exactArray(X0.flat()).reshape([B, D]);

/** The reference estimator's terms on the log-snr-linear chain with T steps, for the examples X0. */
export function estimate(target: Target, T: number, rng: ScriptedRng, options: Parameters<ElboEstimator["terms"]>[3] = {}): ElboTerms {
  const estimator = referenceEstimator(target, T);
  const x0 = x0Batch();
  const out = estimator.terms(params(), x0, rng.asRng(), options);
  x0.dispose();
  return out;
}
