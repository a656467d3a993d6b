/**
 * The ELBO of a diffusion model, split as its derivation does (Ho et al. 2020; Luo 2022):
 *
 *   log p(x_0) ≥ E_q[log p_θ(x_0|x_1)] − KL(q(x_T|x_0) ‖ N(0, I)) − Σ_{t=2}^T E_q KL(q(x_{t−1}|x_t,x_0) ‖ p_θ(x_{t−1}|x_t))
 *                 reconstruction          prior matching                denoising matching
 *
 * Each term is reported as a cost in nats per example (so −ELBO = reconstruction + prior +
 * diffusion) and in bits per dimension. In continuous time the sum becomes
 * L_∞ = ½ ∫ γ'(t) E‖ε − ε̂(x_t, t)‖² dt = ½ ∫ E‖ε − ε̂(x_γ)‖² dγ (Kingma et al. 2021), estimated
 * at levels drawn uniformly in γ (or in t: `ElboOptions.levels`).
 */
import type { Params } from "../engine/index.js";
import { filled, type Rng } from "../engine/index.js";
import { type Array, numpy as np, tree } from "../engine/jax.js";
import { ConfigError } from "../errors.js";
import { type DecoderKind, decoderLogLikelihood } from "./decoder.js";
import { qSample } from "./forward.js";
import { priorKl, weightedEpsError } from "./losses.js";
import { jitFor, type Model } from "./model.js";
import { toEps, toX0 } from "./parameterization.js";
import type { DiffusionProcess, KlLevels, LevelSampling } from "./process.js";
import { dimsOf, sumDims } from "./shapes.js";

/** Per-example costs in nats. */
export interface ElboTerms {
  /** −E_q log p_θ(x_0 | x_1) */
  reconstruction: Float64Array;
  /** KL(q(x_T | x_0) ‖ N(0, I)) */
  prior: Float64Array;
  /** Σ_t E_q KL(q(x_{t−1} | x_t, x_0) ‖ p_θ(x_{t−1} | x_t)), or L_∞ in continuous time */
  diffusion: Float64Array;
  /**
   * Monte-Carlo mode with samples ≥ 2: the variance across draws of the one-draw estimate of the
   * diffusion term (one t and one ε, the estimate training minimises), per example
   */
  diffusionVariance?: Float64Array;
}

/** Batch means of the terms, their total −ELBO, and bits/dim = nats/(D ln 2). */
export interface ElboSummary {
  nats: number;
  bpd: number;
  terms: { reconstruction: number; prior: number; diffusion: number };
  termsBpd: { reconstruction: number; prior: number; diffusion: number };
}

/** How `ElboEstimator.terms` evaluates the diffusion term: "exact" (every t) or "mc" (sampled t). */
export type ElboMode = "exact" | "mc";

/** Options of `ElboEstimator.terms`; defaults: mode "exact", samples 1. */
export interface ElboOptions {
  /**
   * "exact": every diffusion term t = 2..T (one noise draw each); "mc": an unbiased estimate
   * from `samples` uniformly drawn terms per example. Continuous time is always "mc". Default "exact".
   */
  mode?: ElboMode;
  /** terms (values of t) drawn per example in "mc" mode (default 1) */
  samples?: number;
  /** continuous time: how the diffusion term's level is drawn (default "gamma": uniform in γ; see `LevelSampling`) */
  levels?: LevelSampling;
  /** called after each diffusion term is evaluated for the whole batch (exact mode: T − 1 calls, one per t; "mc": `samples` calls), for progress (default: none) */
  onTerm?: () => void;
}

/**
 * The reconstruction cost −log p_θ(x_0 | x_1) per example, the decoder centred on the model's
 * x̂_0(x_1) at level (t, γ) ([B] each). Consumes every argument.
 */
export function reconstructionCost(
  model: Model,
  decoder: DecoderKind,
  params: Params,
  x0: Array,
  x1: Array,
  t: Array,
  gamma: Array,
  labels?: Array,
): Array {
  const pred = model.apply(params, x1.ref, t, gamma.ref, labels);
  const x0Hat = toX0(pred, model.target, x1, gamma.ref);
  return np.negative(decoderLogLikelihood(decoder, x0, x0Hat, gamma));
}

/**
 * One draw of a diffusion term: weight · ‖ε − ε̂(x_t)‖² with x_t = α_t x_0 + σ_t ε, per example
 * (`weight` as from `DiffusionProcess.levelsFromUniform`). Consumes every argument.
 */
export function diffusionCost(
  model: Model,
  params: Params,
  x0: Array,
  eps: Array,
  t: Array,
  gamma: Array,
  weight: Array,
  labels?: Array,
): Array {
  const xt = qSample(x0, gamma.ref, eps.ref);
  const pred = model.apply(params, xt.ref, t, gamma.ref, labels);
  return weightedEpsError(eps, toEps(pred, model.target, xt, gamma), weight);
}

/**
 * Estimators of the discrete-time −ELBO from one draw of the forward chain
 * x_1..x_T ~ q(x_{1:T} | x_0) (x_t = √α_t x_{t−1} + √β_t ε_t), per example, in nats. All share the
 * reconstruction term −log p_θ(x_0|x_1).
 * - "denoising" (denoising matching, Luo 2022 eq. 58): prior KL(q(x_T|x_0) ‖ N(0, I)) and, for
 *   t = 2..T, KL(q(x_{t−1}|x_t, x_0) ‖ p_θ(x_{t−1}|x_t)), each a closed form in x_t alone;
 * - "consistency" (the first derivation, eq. 45, estimated as it is valid): prior
 *   KL(q(x_T|x_{T−1}) ‖ N(0, I)) and, for t = 1..T−1, log q(x_t|x_{t−1}) − log p_θ(x_t|x_{t+1}) at
 *   the chain's x_{t−1}, x_t, x_{t+1}: the same expectation, from terms of three latents;
 * - "consistency-kl": eq. 45 read literally, KL(q(x_t|x_{t−1}) ‖ p_θ(x_t|x_{t+1})) in closed form
 *   given x_{t−1} and x_{t+1}. That takes x_t ~ q(x_t|x_{t−1}) independent of x_{t+1}, but under q
 *   x_{t+1} was drawn from x_t, so its expectation is not the −ELBO (measured: far larger).
 * For T = 1 all three coincide.
 */
export const chainEstimatorNames = ["denoising", "consistency", "consistency-kl"] as const;
/** One of `chainEstimatorNames`: "denoising", "consistency" or "consistency-kl". */
export type ChainEstimatorName = (typeof chainEstimatorNames)[number];

/**
 * Per-example costs in nats from `ElboEstimator.chainEstimates`: the shared reconstruction term,
 * and each estimator's prior term and per-step terms (their sum is that estimator's −ELBO).
 */
export interface ChainEstimates {
  reconstruction: Float64Array;
  prior: Record<ChainEstimatorName, Float64Array>;
  /** per estimator, its T − 1 terms: denoising for t = 2..T (index t − 2), the others for t = 1..T−1 (index t − 1) */
  terms: Record<ChainEstimatorName, Float64Array[]>;
}

/**
 * Evaluates a model's −ELBO per example on a `DiffusionProcess`: reconstruction, prior and
 * diffusion terms (`terms`), or the discrete-chain estimators compared in `chainEstimates`.
 */
export class ElboEstimator {
  readonly #reconstruction;
  readonly #diffusionTerm;
  readonly #chainLevel;

  constructor(
    readonly model: Model,
    readonly process: DiffusionProcess,
    readonly decoder: DecoderKind,
  ) {
    const target = model.target;
    // −log p_θ(x_0 | x_1) for a given x_1
    this.#reconstruction = jitFor(model, (params: Params, x0: Array, x1: Array, t: Array, gamma: Array) =>
      reconstructionCost(model, decoder, params, x0, x1, t, gamma),
    );
    // one level t of `chainEstimates` (x_{t−2}, x_{t−1}, x_t given): with x̂_0 = x̂_0(x_t),
    // μ_θ = c_t x_t + c_0 x̂_0 the mean of p_θ(x_{t−1}|x_t) and m = √α_{t−1} x_{t−2} that of
    // q(x_{t−1}|x_{t−2}), the sums ‖x_0 − x̂_0‖², ‖m − μ_θ‖², ‖x_{t−1} − μ_θ‖², ‖x_{t−1} − m‖² per example
    this.#chainLevel = jitFor(
      model,
      (
        params: Params,
        x0: Array,
        previous: Array,
        current: Array,
        xt: Array,
        t: Array,
        gamma: Array,
        c: { sqrtAlphaPrevious: number; coefXt: number; coefX0: number },
      ) => {
        const pred = model.apply(params, xt.ref, t, gamma.ref);
        const x0Hat = toX0(pred, target, xt.ref, gamma);
        const denoising = sumDims(np.square(x0.sub(x0Hat.ref)));
        const mean = xt.mul(c.coefXt).add(x0Hat.mul(c.coefX0));
        const m = previous.mul(c.sqrtAlphaPrevious);
        const meanGap = sumDims(np.square(m.ref.sub(mean.ref)));
        const currentToP = sumDims(np.square(current.ref.sub(mean)));
        const currentToQ = sumDims(np.square(current.sub(m)));
        return [denoising, meanGap, currentToP, currentToQ];
      },
    );
    // weight · ‖ε − ε̂(x_t)‖²
    this.#diffusionTerm = jitFor(model, (params: Params, x0: Array, eps: Array, t: Array, gamma: Array, weight: Array) =>
      diffusionCost(model, params, x0, eps, t, gamma, weight),
    );
  }

  /**
   * `ChainEstimates` for each example of x0 ([B, ...]; borrows params and x0). Needs a discrete
   * process. One network evaluation per level serves every estimator: x̂_0(x_t) gives the
   * denoising term of t and p_θ(x_{t−1}|x_t) for the consistency terms of t − 1.
   */
  chainEstimates(params: Params, x0: Array, rng: Rng): ChainEstimates {
    const chain = this.process.chain;
    if (!chain) throw new ConfigError("the consistency estimator needs a discrete process (T >= 1)");
    const T = chain.T;
    const batch = x0.shape[0]!;
    const D = dimsOf(x0.shape);
    const full = (v: number) => filled(batch, v);
    const read = (a: Array) => Float64Array.from(a.dataSync() as Float32Array);
    // ½ D (r − 1 − log r): the variance part of a KL between isotropic Gaussians of variances v_q and v_p = v_q/r
    const varianceKl = (r: number) => 0.5 * D * (r - 1 - Math.log(r));
    const forward = (x: Array, t: number) => x.mul(Math.sqrt(chain.alpha[t]!)).add(rng.normal(x0.shape).mul(Math.sqrt(chain.beta[t]!)));

    let previous = x0.ref; // x_{t−2}
    let current = forward(x0.ref, 1); // x_{t−1}
    const reconstruction = read(this.#reconstruction(tree.ref(params), x0.ref, current.ref, full(chain.t[1]!), full(chain.gamma[1]!)));
    const denoising: Float64Array[] = [];
    const consistency: Float64Array[] = [];
    const consistencyKl: Float64Array[] = [];
    for (let t = 2; t <= T; t++) {
      const next = forward(current.ref, t); // x_t
      const variance = chain.posteriorVariance[t]!; // of p_θ(x_{t−1} | x_t)
      const betaPrevious = chain.beta[t - 1]!; // the variance of q(x_{t−1} | x_{t−2})
      const c = { sqrtAlphaPrevious: Math.sqrt(chain.alpha[t - 1]!), coefXt: chain.posteriorCoefXt[t]!, coefX0: chain.posteriorCoefX0[t]! };
      const sums = this.#chainLevel(
        tree.ref(params),
        x0.ref,
        previous,
        current.ref,
        next.ref,
        full(chain.t[t]!),
        full(chain.gamma[t]!),
        c,
      ).map(read);
      denoising.push(sums[0]!.map((v) => 0.5 * (chain.snr[t - 1]! - chain.snr[t]!) * v));
      consistency.push(
        sums[2]!.map(
          (toP, b) => (0.5 * toP) / variance - (0.5 * sums[3]![b]!) / betaPrevious + 0.5 * D * Math.log(variance / betaPrevious),
        ),
      );
      consistencyKl.push(sums[1]!.map((gap) => (0.5 * gap) / variance + varianceKl(betaPrevious / variance)));
      previous = current;
      current = next;
    }
    current.dispose(); // x_T
    // KL(q(x_T | x_{T−1}) ‖ N(0, I)) = ½ Σ α_T x_{T−1}² + ½ D (β_T − 1 − log β_T), x_{T−1} = previous
    const priorConsistency = read(sumDims(np.square(previous)).mul(0.5 * chain.alpha[T]!)).map((v) => v + varianceKl(chain.beta[T]!));
    const priorDenoising = read(priorKl(x0.ref, full(chain.gamma[T]!)));
    return {
      reconstruction,
      prior: { denoising: priorDenoising, consistency: priorConsistency, "consistency-kl": priorConsistency },
      terms: { denoising, consistency, "consistency-kl": consistencyKl },
    };
  }

  /** The three terms for each example of x0 ([B, ...]). Borrows params and x0. */
  terms(params: Params, x0: Array, rng: Rng, options: ElboOptions = {}): ElboTerms {
    const { mode = "exact", samples = 1, levels = "gamma", onTerm } = options;
    const process = this.process;
    const batch = x0.shape[0]!;
    const full = (v: number) => filled(batch, v);

    const rec = process.reconstructionLevel();
    // x_1 = α_1 x_0 + σ_1 ε
    const x1 = qSample(x0.ref, full(rec.gamma), rng.normal(x0.shape));
    const reconstruction = this.#reconstruction(tree.ref(params), x0.ref, x1, full(rec.t), full(rec.gamma));

    const prior = priorKl(x0.ref, full(process.priorLevel().gamma));

    const diffusion = new Float64Array(batch);
    const squares = new Float64Array(batch); // of the one-draw estimates (Monte-Carlo mode)
    let diffusionVariance: Float64Array | undefined;
    const add = (levels: KlLevels, factor: number) => {
      const kl = this.#diffusionTerm(tree.ref(params), x0.ref, rng.normal(x0.shape), levels.t, levels.gamma, levels.weight);
      const values = kl.dataSync() as Float32Array;
      // Stryker disable next-line EqualityOperator: b = batch writes past the end of Float64Arrays, which JS ignores
      for (let b = 0; b < batch; b++) {
        diffusion[b]! += values[b]! * factor;
        squares[b]! += values[b]! ** 2;
      }
      onTerm?.();
    };
    if (process.T === 1) {
      // no denoising terms: the chain is x_0 → x_1 only
    } else if (mode === "exact" && !process.continuous) {
      for (let i = 2; i <= process.T; i++) {
        // Stryker disable next-line ObjectLiteral: float32 steps hold the same integers, and np.take reads them alike
        add(process.levelsAtSteps(np.full([batch], i, { dtype: np.int32 }), process.gammaTable()!, 1), 1);
      }
    } else {
      for (let k = 0; k < samples; k++)
        add(process.levelsFromUniform(process.uniforms(rng, batch), process.gammaTable(), "elbo", levels), 1 / samples);
      if (samples >= 2) diffusionVariance = squares.map((sq, b) => (sq - samples * diffusion[b]! ** 2) / (samples - 1));
    }

    return {
      reconstruction: Float64Array.from(reconstruction.dataSync() as Float32Array),
      prior: Float64Array.from(prior.dataSync() as Float32Array),
      diffusion,
      ...(diffusionVariance ? { diffusionVariance } : {}),
    };
  }
}

/** Means over examples, total −ELBO in nats, and bits/dim for data of `dims` dimensions. */
export function summarizeElbo(terms: ElboTerms, dims: number): ElboSummary {
  const mean = (a: Float64Array) => a.reduce((s, v) => s + v, 0) / a.length;
  const t = { reconstruction: mean(terms.reconstruction), prior: mean(terms.prior), diffusion: mean(terms.diffusion) };
  const toBpd = (nats: number) => nats / (dims * Math.LN2);
  const nats = t.reconstruction + t.prior + t.diffusion;
  return {
    nats,
    bpd: toBpd(nats),
    terms: t,
    termsBpd: { reconstruction: toBpd(t.reconstruction), prior: toBpd(t.prior), diffusion: toBpd(t.diffusion) },
  };
}
