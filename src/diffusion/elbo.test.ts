/**
 * The ELBO with the exact denoiser for Gaussian data x_0 ~ N(μ, diag(s²)), against a closed
 * form written here from first principles (per dimension, float64):
 *  - every term's expectation over ε is analytic because E[x_0|x_t] is linear in x_t;
 *  - the model's exact marginal log p_θ(x_0) is Gaussian, found by pushing N(0, 1) back through
 *    the linear-Gaussian reverse chain; the ELBO must not exceed it (a theorem), and must approach
 *    the data log-likelihood as T grows.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { mixtureParams, oracleModel } from "../densities/oracle.js";
import { Rng } from "../engine/index.js";
import { numpy as np } from "../engine/jax.js";
import { studyElboEstimators } from "../eval/elbo-variance.js";
import { logSnrLinearSchedule } from "../schedule/index.js";
import { useEngine } from "../testing/helpers.js";
import { ElboEstimator } from "./elbo.js";
import { DiffusionProcess } from "./process.js";

useEngine("wasm");

const MU = [0.5, -1];
const S = [0.7, 1.3];
const GMIN = -13.3;
const GMAX = 5;
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** E[(x_0 − E[x_0|x_t])²] for one dimension at level γ, x_t ~ q(x_t | x_0). */
function err2(g: number, x0: number, mu: number, s: number): number {
  const a = Math.sqrt(sigmoid(-g));
  const v = sigmoid(g);
  const k = (a * s * s) / (a * a * s * s + v); // E[x_0|x_t] = μ + k (x_t − a μ)
  return (1 - k * a) ** 2 * (x0 - mu) ** 2 + k * k * v;
}

/** Closed-form terms (costs, nats) for latents at levels gammas[0] < … < gammas[T−1]. */
function reference(gammas: number[], x0: number[]) {
  let reconstruction = 0,
    prior = 0,
    diffusion = 0,
    logpTheta = 0,
    logpData = 0;
  const T = gammas.length;
  for (let d = 0; d < x0.length; d++) {
    const [x, mu, s] = [x0[d]!, MU[d]!, S[d]!];
    const g1 = gammas[0]!;
    reconstruction += 0.5 * Math.log(2 * Math.PI * Math.exp(g1)) + 0.5 * Math.exp(-g1) * err2(g1, x, mu, s);
    const gT = gammas[T - 1]!;
    prior += 0.5 * (sigmoid(-gT) * (x * x - 1) + Math.log1p(Math.exp(-gT)));
    for (let i = 1; i < T; i++) diffusion += 0.5 * (Math.exp(-gammas[i - 1]!) - Math.exp(-gammas[i]!)) * err2(gammas[i]!, x, mu, s);
    // Exact model marginal: x_T ~ N(0,1); x_{i−1} = A x_i + B + N(0, β̃); x_0 = E[x_0|x_1] + N(0, e^{γ_1}).
    let m = 0,
      V = 1;
    const lin = (g: number) => {
      const a = Math.sqrt(sigmoid(-g)),
        v = sigmoid(g),
        k = (a * s * s) / (a * a * s * s + v);
      return { a, v, k, c: mu - k * a * mu };
    };
    for (let i = T - 1; i >= 1; i--) {
      const t = lin(gammas[i]!),
        sPrev = lin(gammas[i - 1]!);
      const r = -Math.expm1(gammas[i - 1]! - gammas[i]!); // 1 − SNR_t/SNR_s
      const coefXt = (t.a / sPrev.a) * (sPrev.v / t.v),
        coefX0 = sPrev.a * r,
        varQ = r * sPrev.v;
      const A = coefXt + coefX0 * t.k,
        B = coefX0 * t.c;
      m = A * m + B;
      V = A * A * V + varQ;
    }
    const first = lin(g1);
    m = first.k * m + first.c;
    V = first.k * first.k * V + Math.exp(g1);
    logpTheta += -0.5 * Math.log(2 * Math.PI * V) - (0.5 * (x - m) ** 2) / V;
    logpData += -0.5 * Math.log(2 * Math.PI * s * s) - (0.5 * (x - mu) ** 2) / (s * s);
  }
  return { reconstruction, prior, diffusion, elbo: -(reconstruction + prior + diffusion), logpTheta, logpData };
}

/** Continuous time: L_∞ = ½ ∫ e^{−γ} E(x_0 − x̂_0)² dγ by Simpson's rule; recon at γ_min, prior at γ_max. */
function continuousReference(x0: number[]) {
  const ends = reference([GMIN, GMAX], x0);
  const n = 20000;
  const h = (GMAX - GMIN) / n;
  let diffusion = 0;
  for (let j = 0; j <= n; j++) {
    const g = GMIN + j * h;
    const w = j === 0 || j === n ? 1 : j % 2 ? 4 : 2;
    for (let d = 0; d < x0.length; d++) diffusion += (w * h * 0.5 * Math.exp(-g) * err2(g, x0[d]!, MU[d]!, S[d]!)) / 3;
  }
  return {
    reconstruction: ends.reconstruction,
    prior: ends.prior,
    diffusion,
    elbo: -(ends.reconstruction + ends.prior + diffusion),
    logpData: ends.logpData,
  };
}

const POINTS = [
  [0.5, -1],
  [1.6, 0.8],
  [-0.9, -3.5],
];
const N = 4000; // noise draws per point

/** Library ELBO terms for each point: mean and standard error over N draws of the noise. */
function libraryTerms(T: number, mode: "exact" | "mc" = T > 0 ? "exact" : "mc", samples = 4) {
  const process = new DiffusionProcess(logSnrLinearSchedule(GMIN, GMAX), T);
  const estimator = new ElboEstimator(oracleModel("eps"), process, "gaussian");
  const params = mixtureParams({ weights: [1], means: [MU], variances: [S.map((s) => s * s)] });
  // Interleaved (point-major within each block) so each point's draws span every stratum of t.
  const rows = Array.from({ length: N }, () => POINTS).flat();
  const terms = estimator.terms(params, np.array(rows), new Rng(7), { mode, samples });
  return POINTS.map((_, p) => {
    const stats = (a: Float64Array) => {
      const xs = a.filter((_, b) => b % POINTS.length === p);
      const mean = xs.reduce((s, v) => s + v, 0) / N;
      const sd = Math.sqrt(xs.reduce((s, v) => s + (v - mean) ** 2, 0) / (N - 1));
      return { mean, se: sd / Math.sqrt(N) };
    };
    const r = stats(terms.reconstruction),
      pr = stats(terms.prior),
      df = stats(terms.diffusion);
    return { reconstruction: r, prior: pr, diffusion: df, elbo: -(r.mean + pr.mean + df.mean), se: Math.hypot(r.se, df.se) };
  });
}

describe("ELBO of the exact denoiser on Gaussian data", () => {
  const Ts = [10, 100, 1000];
  const lib = new Map<number, ReturnType<typeof libraryTerms>>();
  const grid = (T: number) => Array.from({ length: T }, (_, i) => GMIN + ((GMAX - GMIN) * (i + 1)) / T);

  it("each term matches its closed form within 5 standard errors (T = 10, 100, 1000, ∞)", () => {
    for (const T of [...Ts, 0]) {
      lib.set(T, libraryTerms(T));
      POINTS.forEach((x0, p) => {
        const ref = T > 0 ? reference(grid(T), x0) : continuousReference(x0);
        const got = lib.get(T)![p]!;
        for (const term of ["reconstruction", "diffusion"] as const) {
          const { mean, se } = got[term];
          // float32 arithmetic adds a small absolute floor to the statistical tolerance
          const tol = 5 * se + 1e-4 * Math.abs(ref[term]) + 1e-4;
          assert.ok(Math.abs(mean - ref[term]) < tol, `T=${T} x0=${x0} ${term}: ${mean} vs ${ref[term]} ± ${tol}`);
        }
        assert.ok(
          Math.abs(got.prior.mean - ref.prior) < 1e-5 * Math.abs(ref.prior) + 1e-7,
          `T=${T} prior ${got.prior.mean} vs ${ref.prior}`,
        );
      });
    }
  });

  it("the Monte-Carlo estimate over t (a different step and weight per example) is unbiased", () => {
    for (const T of [100, 1000]) {
      libraryTerms(T, "mc", 8).forEach((got, p) => {
        const ref = reference(grid(T), POINTS[p]!);
        const { mean, se } = got.diffusion;
        assert.ok(Math.abs(mean - ref.diffusion) < 5 * se, `T=${T} x0=${POINTS[p]}: ${mean} vs ${ref.diffusion} ± ${5 * se}`);
      });
    }
  });

  it("ELBO ≤ the model's exact log-likelihood log p_θ(x_0) for every point (closed form)", () => {
    for (const T of [2, 3, 10, 100, 1000]) {
      for (const x0 of [...POINTS, [3, 3], [-2, 4]]) {
        const r = reference(grid(T), x0);
        assert.ok(r.elbo <= r.logpTheta + 1e-9, `T=${T} x0=${x0}: ELBO ${r.elbo} > log p_θ ${r.logpTheta}`);
      }
    }
  });

  it("ELBO ≤ log N(x_0; μ, s²) for every point tried, with a gap that shrinks as T grows", () => {
    let previous = Infinity;
    for (const T of [...Ts, 0]) {
      const gaps = lib.get(T)!.map((got, p) => {
        const logp = reference([GMIN, GMAX], POINTS[p]!).logpData;
        assert.ok(got.elbo <= logp + 5 * got.se, `T=${T} x0=${POINTS[p]}: ELBO ${got.elbo} > log p ${logp}`);
        return logp - got.elbo;
      });
      const meanGap = gaps.reduce((a, b) => a + b, 0) / gaps.length;
      assert.ok(meanGap < previous, `gap at T=${T || "∞"} (${meanGap}) should be below ${previous}`);
      previous = meanGap;
    }
  });
});

describe("the derivation's two forms of the discrete ELBO, each from one draw of the forward chain", () => {
  const params = () => mixtureParams({ weights: [1], means: [MU], variances: [S.map((s) => s * s)] });
  const grid = (T: number) => Array.from({ length: T }, (_, i) => GMIN + ((GMAX - GMIN) * (i + 1)) / T);
  const estimatorOf = (T: number) =>
    new ElboEstimator(oracleModel("eps"), new DiffusionProcess(logSnrLinearSchedule(GMIN, GMAX), T), "gaussian");
  const n = 400; // independent chains per point (the standard errors are over these)

  it("denoising matching and consistency estimate the same closed-form −ELBO; the literal two-latent KL does not (T = 10, 100)", () => {
    for (const T of [10, 100]) {
      for (const point of POINTS) {
        const x0 = np.array(Array.from({ length: n }, () => point));
        const study = studyElboEstimators(estimatorOf(T), params(), x0, { rng: new Rng(T), draws: 2 });
        x0.dispose();
        const want = -reference(grid(T), point).elbo;
        for (const name of ["denoising", "consistency"] as const) {
          const { nats, stdError } = study.estimators[name];
          assert.ok(
            Math.abs(nats - want) < 5 * stdError + 1e-4 * Math.abs(want),
            `T=${T} x0=${point} ${name}: ${nats} vs ${want} ± ${5 * stdError}`,
          );
        }
        const kl = study.estimators["consistency-kl"];
        assert.ok(kl.nats - want > 10 * kl.stdError, `T=${T} x0=${point}: the two-latent KL form gave ${kl.nats}, the −ELBO is ${want}`);
      }
    }
  });

  it("the consistency form's terms vary more than the denoising terms, per t and in the one-term estimate training uses", () => {
    const T = 100;
    const x0 = np.array(Array.from({ length: n }, (_, b) => POINTS[b % POINTS.length]!));
    const study = studyElboEstimators(estimatorOf(T), params(), x0, { rng: new Rng(3), draws: 4 });
    x0.dispose();
    const { denoising, consistency } = study.estimators;
    const sum = (v: number[]) => v.reduce((a, b) => a + b, 0);
    assert.ok(
      sum(consistency.perT.variance) > 5 * sum(denoising.perT.variance),
      `Σ_t variances: consistency ${sum(consistency.perT.variance)}, denoising ${sum(denoising.perT.variance)}`,
    );
    assert.ok(
      consistency.oneTermVariance > 5 * denoising.oneTermVariance,
      `one-term variances: consistency ${consistency.oneTermVariance}, denoising ${denoising.oneTermVariance}`,
    );
  });

  it("coincide draw by draw for T = 1 (the VAE case)", () => {
    const x0 = np.array(POINTS);
    const e = estimatorOf(1).chainEstimates(params(), x0, new Rng(1));
    x0.dispose();
    assert.deepEqual(e.terms, { denoising: [], consistency: [], "consistency-kl": [] });
    const { denoising, consistency } = e.prior;
    denoising.forEach((d, b) =>
      assert.ok(Math.abs(d - consistency[b]!) < 1e-6 * Math.abs(d) + 1e-6, `point ${b}: prior ${d} vs ${consistency[b]}`),
    );
  });
});
