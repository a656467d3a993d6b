/**
 * Exact log-likelihood through the probability-flow ODE (Song et al. 2021, §D.2; FFJORD's
 * instantaneous change of variables): from the data x (placed at the least noisy level γ_0), solve
 *   dx/dγ = f(x, γ),   dΔ/dγ = ∇·f(x, γ)      (diffusion/flow.ts)
 * up to the prior level γ_1 — the chain's or schedule's last, or the ODE samplers' start
 * σ̃_max = e^{γ_1/2} where that is lower (sample/predict.ts `ODE_SIGMA_MAX`: the deterministic
 * generative model the samplers run) — then
 *   log p(x) = log N(x(γ_1); 0, I) + Δ(γ_1),
 * in the model's coordinates, plus the normalisation's log-Jacobian for data space. The divergence
 * is exact (D products, low-dimensional data) or Hutchinson's one-probe estimate (a Rademacher
 * probe per example, fixed along its path: an unbiased estimate of log p). With `dequantize`,
 * 8-bit data are first spread uniformly over their bins (x + u − ½, u ~ U[0, 1)), so that bits/dim
 * bound the discrete data's and compare with published ODE numbers.
 */

import { identityNormalization, logDetJacobian, type Normalization, normalize } from "../data/normalize.js";
import { exampleShape, type PointSet } from "../data/sets.js";
import { type FlowFunction, flowFunction } from "../diffusion/flow.js";
import type { DiffusionProcess } from "../diffusion/process.js";
import { filled, Rng } from "../engine/index.js";
import { numpy as np, tree } from "../engine/jax.js";
import { ConfigError } from "../errors.js";
import { solveOde } from "../ode/dopri5.js";
import type { Denoiser } from "../sample/sampler.js";
import { meanAndStdError } from "./likelihood.js";
import type { BatchOptions } from "./run.js";

/** How ∇·f is computed: "exact" (D forward-mode products) or "hutchinson" (one Rademacher probe, unbiased). */
export type DivergenceKind = "exact" | "hutchinson";

/** Options of `odeLikelihood`: the data's normalisation, the random stream, the Dormand–Prince tolerances or fixed steps, batching, and more. */
export interface OdeLikelihoodOptions extends BatchOptions {
  /** the normalisation the model was trained in (`normalizationOf(config)`, `run.normalization`): the test points are normalised and its log-Jacobian added (default: none, the test points are in the model's coordinates) */
  normalization?: Normalization;
  /** the random stream for Hutchinson's probes and the dequantisation noise (default `new Rng(0)`) */
  rng?: Rng;
  /** Dormand–Prince relative tolerance (default 1e−5) */
  rtol?: number;
  /** Dormand–Prince absolute tolerance (default 1e−5) */
  atol?: number;
  /** fixed Dormand–Prince steps instead of tolerances (default: adaptive steps) */
  steps?: number;
  /** σ̃ of the prior level at most (default: the process's whole range) */
  sigmaMax?: number;
  /** how ∇·f is computed (default: exact up to 16 dimensions, Hutchinson above) */
  divergence?: DivergenceKind;
  /** uniform dequantisation of 8-bit data (images; default false) */
  dequantize?: boolean;
  /** what evaluates f and ∇·f (default: `flowFunction` of the denoiser's model, in jax-js) */
  flow?: (exact: boolean) => FlowFunction;
  /** after each accepted ODE step of a batch: how far through [γ_0, γ_1] it is, and its evaluations (default: none) */
  onStep?: (fraction: number, evaluations: number) => void;
}

/** The probability-flow ODE log-likelihood of a test set (`odeLikelihood`), per example and summarised. */
export interface OdeLikelihood {
  /** log p(x) per example in data space (nats) */
  logLikelihood: Float64Array;
  /** −mean log p in nats per example and in bits/dim, with standard errors over examples */
  nats: number;
  natsStdError: number;
  bpd: number;
  bpdStdError: number;
  /** evaluations of the drift and divergence per example (each one network forward + its jvps) */
  evaluations: number;
  divergence: DivergenceKind;
  /** the γ range integrated over */
  gamma: [number, number];
}

/** log N(x; 0, I) per example of a flattened batch. */
function standardNormalLogDensity(y: Float64Array, m: number, D: number): Float64Array {
  return Float64Array.from({ length: m }, (_, b) => {
    let sq = 0;
    for (let d = 0; d < D; d++) sq += y[b * D + d]! ** 2;
    return -0.5 * (sq + D * Math.log(2 * Math.PI));
  });
}

/** The probability-flow log-likelihood of `test` under a jax-js denoiser (borrowed), in batches. */
export function odeLikelihood(den: Denoiser, process: DiffusionProcess, test: PointSet, options: OdeLikelihoodOptions = {}): OdeLikelihood {
  const {
    normalization: z = identityNormalization(test.dim),
    rng = new Rng(0),
    rtol = 1e-5,
    atol = 1e-5,
    steps,
    dequantize = false,
    batch = test.n,
    onBatch,
    onStep,
  } = options;
  const shape = exampleShape(test);
  const D = test.dim;
  const divergence = options.divergence ?? (D <= 16 ? "exact" : "hutchinson");
  const flow = (options.flow ?? ((exact: boolean) => flowFunction(den.model, exact)))(divergence === "exact");
  const g0 = process.reconstructionLevel().gamma;
  const g1 = Math.min(process.priorLevel().gamma, 2 * Math.log(options.sigmaMax ?? Infinity));
  if (!(g1 > g0)) throw new ConfigError(`σ̃_max = ${options.sigmaMax} is below the least noisy level (σ̃ = ${Math.exp(g0 / 2)})`);
  const x = normalize(dequantize ? addUniform(test.points, rng) : test.points, z);
  const logLikelihood = new Float64Array(test.n);
  let evaluations = 0;
  for (let start = 0; start < test.n; start += batch) {
    const m = Math.min(batch, test.n - start);
    // Stryker disable next-line EqualityOperator: u = 0.5 exactly gives −1 or +1, either a fair Rademacher draw; no other u tells < from ≤
    const probe =
      divergence === "hutchinson"
        ? Float32Array.from(rng.uniform([m * D]).dataSync() as Float32Array, (u) => (u < 0.5 ? -1 : 1))
        : new Float32Array(1);
    const y0 = new Float64Array(m * D + m);
    y0.set(x.subarray(start * D, (start + m) * D));
    const rhs = (gamma: number, y: Float64Array) => {
      const out = flow(
        tree.ref(den.params),
        np.array(Float32Array.from(y.subarray(0, m * D))).reshape([m, ...shape]),
        filled(m, process.timeAtGamma(gamma)),
        filled(m, gamma),
        // Stryker disable next-line ArrayDeclaration: the exact divergence disposes the probe unread
        divergence === "hutchinson" ? np.array(probe).reshape([m, ...shape]) : np.zeros([1]),
      );
      const f = new Float64Array(m * D + m);
      f.set(out.drift.dataSync() as Float32Array);
      f.set(out.divergence.dataSync() as Float32Array, m * D);
      return f;
    };
    const solution = solveOde(rhs, y0, g0, g1, { rtol, atol, steps, onStep: onStep && ((g, n) => onStep((g - g0) / (g1 - g0), n)) });
    const prior = standardNormalLogDensity(solution.y, m, D);
    // Stryker disable next-line EqualityOperator: b = m writes NaN to the next batch's first entry, which that batch overwrites (past the end for the last)
    for (let b = 0; b < m; b++) logLikelihood[start + b] = prior[b]! + solution.y[m * D + b]!;
    evaluations += solution.evaluations * m;
    onBatch?.(start + m);
  }
  const jacobian = logDetJacobian(z, D);
  // Stryker disable next-line EqualityOperator: logLikelihood[n] is past the typed array's end: the write is dropped
  for (let i = 0; i < test.n; i++) logLikelihood[i] += jacobian;
  const { mean, se } = meanAndStdError(logLikelihood);
  return {
    logLikelihood,
    nats: -mean,
    natsStdError: se,
    bpd: -mean / (D * Math.LN2),
    bpdStdError: se / (D * Math.LN2),
    evaluations: evaluations / test.n,
    divergence,
    gamma: [g0, g1],
  };
}

/** x + u − ½ with u ~ U[0, 1) per value: 8-bit values spread over their unit bins. */
function addUniform(points: Float32Array, rng: Rng): Float32Array {
  const u = rng.uniform([points.length]).dataSync() as Float32Array;
  return Float32Array.from(points, (v, i) => v + u[i]! - 0.5);
}
