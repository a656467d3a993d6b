/**
 * Every ELBO term with FIXED noise (a scripted stream of ε and u), against float64 references
 * written here from the derivation: Gaussian log-densities and KLs, SNR differences of the chain
 * built from ᾱ_i = sigmoid(−γ(i/T)), and the schedules' closed forms. The denoiser is a reference
 * model that reads both its time input t and γ (as a trained network does), for each of the four
 * targets. A dropped term, a wrong weight or a level off by one step changes a per-example number
 * by far more than the float32 rounding of t and γ that these tolerances allow.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { exactArray, type Rng } from "../engine/index.js";
import type { Array as JaxArray } from "../engine/jax.js";
import { cosineSchedule, logSnrLinearSchedule } from "../schedule/index.js";
import { assertClose, useEngine } from "../testing/helpers.js";
import { sigmoid } from "../testing/reference.js";
import { ElboEstimator, type ElboTerms, summarizeElbo } from "./elbo.js";
import type { Model } from "./model.js";
import type { Target } from "./parameterization.js";
import { DiffusionProcess } from "./process.js";

useEngine("cpu");

const f32 = Math.fround;

/** The per-dimension offsets the reference network adds, scaled by its time input. */
const C = [0.3, -0.6];
const X0 = [
  [0.5, -1.0],
  [1.6, 0.8],
  [-0.9, -0.35],
];
const B = X0.length;
const D = 2;

/** The reference network's output for any target: 0.8 x_t + t·C − 0.02 γ (per dimension). */
const netJs = (x: number[], t: number, g: number) => x.map((v, d) => 0.8 * v + t * C[d]! - 0.02 * g);

function referenceModel(target: Target): Model<{ c: JaxArray }> {
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
const params = () => ({ c: exactArray(C).reshape([1, D]) });

/** x̂_0 and ε̂ from a prediction p of `target` at x_t, level γ, from x_t = αx_0 + σε, v = αε − σx_0, s = −ε/σ. */
function predictions(target: Target, x: number[], t: number, g: number): { x0: number[]; eps: number[] } {
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

class ScriptedRng {
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
const row = (draw: number[], b: number) => draw.slice(b * D, (b + 1) * D);

/** −log N(x_0; x̂_0, e^{γ}) summed over dimensions. */
const gaussianCost = (x0: number[], mean: number[], g: number) =>
  x0.reduce((s, x, d) => s + 0.5 * Math.log(2 * Math.PI * Math.exp(g)) + (x - mean[d]!) ** 2 / (2 * Math.exp(g)), 0);
/** KL(N(m, v) ‖ N(m', v')) for one dimension. */
const gaussKl = (m: number, v: number, mp: number, vp: number) => 0.5 * (Math.log(vp / v) + (v + (m - mp) ** 2) / vp - 1);
/** log N(x; m, v) for one dimension. */
const logNormal = (x: number, m: number, v: number) => -0.5 * Math.log(2 * Math.PI * v) - (x - m) ** 2 / (2 * v);

/** x_t = α x_0 + σ ε at level γ. */
const noisy = (x0: number[], eps: number[], g: number) => x0.map((x, d) => Math.sqrt(sigmoid(-g)) * x + Math.sqrt(sigmoid(g)) * eps[d]!);

/** The reconstruction and prior costs of example b (decoder "gaussian"), given the first noise draw. */
function reconstructionAndPrior(target: Target, b: number, e0: number[], t1: number, g1: number, gT: number) {
  const x0 = X0[b]!;
  const x1 = noisy(x0, e0, g1);
  const reconstruction = gaussianCost(x0, predictions(target, x1, t1, g1).x0, g1);
  const prior = x0.reduce((s, x) => s + gaussKl(Math.sqrt(sigmoid(-gT)) * x, sigmoid(gT), 0, 1), 0);
  return { reconstruction, prior };
}

/** ½ (SNR_s − SNR_t) ‖x_0 − x̂_0(x_t)‖²: the KL between q(x_s|x_t,x_0) and p_θ(x_s|x_t) of one example. */
function denoisingKl(target: Target, x0: number[], eps: number[], t: number, gs: number, gt: number) {
  const x0Hat = predictions(target, noisy(x0, eps, gt), t, gt).x0;
  return 0.5 * (Math.exp(-gs) - Math.exp(-gt)) * x0.reduce((s, x, d) => s + (x - x0Hat[d]!) ** 2, 0);
}

const GMIN = -7;
const GMAX = 4;
/** γ_i of the log-snr-linear chain with T steps (γ_0 = −∞), as the float32 table the process keeps. */
const chainGamma = (T: number, i: number) => (i === 0 ? -Infinity : f32(GMIN + ((GMAX - GMIN) * i) / T));

function estimate(target: Target, T: number, rng: ScriptedRng, options: Parameters<ElboEstimator["terms"]>[3] = {}): ElboTerms {
  const estimator = new ElboEstimator(referenceModel(target), new DiffusionProcess(logSnrLinearSchedule(GMIN, GMAX), T), "gaussian");
  const x0 = exactArray(X0.flat()).reshape([B, D]);
  const out = estimator.terms(params(), x0, rng.asRng(), options);
  x0.dispose();
  return out;
}

describe("discrete ELBO terms with fixed noise (log-snr-linear, γ from −7 to 4)", () => {
  it("exact mode: reconstruction, prior and the sum of the T − 1 denoising KLs, each its own noise, for every target", () => {
    const T = 4;
    for (const target of ["eps", "x0", "v", "score"] as const) {
      const rng = new ScriptedRng();
      let terms = 0;
      const got = estimate(target, T, rng, { onTerm: () => terms++ });
      assert.equal(terms, T - 1, "one onTerm per diffusion term");
      assert.equal(rng.normalDraws.length, T, "one noise draw for x_1 and one per diffusion term");
      assert.equal(got.diffusionVariance, undefined);
      const want = X0.map((x0, b) => {
        const { reconstruction, prior } = reconstructionAndPrior(
          target,
          b,
          row(rng.normalDraws[0]!, b),
          f32(1 / T),
          chainGamma(T, 1),
          chainGamma(T, T),
        );
        let diffusion = 0;
        for (let i = 2; i <= T; i++)
          diffusion += denoisingKl(target, x0, row(rng.normalDraws[i - 1]!, b), f32(i / T), chainGamma(T, i - 1), chainGamma(T, i));
        return { reconstruction, prior, diffusion };
      });
      // float64 but for t and γ, which the process hands over in float32 (so α_t, σ_t are float32):
      // measured worst relative errors 2.7e-7 (reconstruction, x0 target), 6.9e-15 (prior), 3.8e-8 (diffusion)
      assertClose(
        got.reconstruction,
        want.map((w) => w.reconstruction),
        { rtol: 2e-6, label: `${target} reconstruction` },
      );
      assertClose(
        got.prior,
        want.map((w) => w.prior),
        { rtol: 1e-13, label: `${target} prior` },
      );
      assertClose(
        got.diffusion,
        want.map((w) => w.diffusion),
        { rtol: 4e-7, label: `${target} diffusion` },
      );
    }
  });

  it("Monte-Carlo mode: step i = 2 + ⌊u(T − 1)⌋ with weight (T − 1), averaged over the samples, and their variance", () => {
    const T = 5;
    // three samples per example; the last u of the first draw sits at the top of the range (step T)
    const u = [
      [0.0, 0.3, 0.999],
      [0.62, 0.26, 0.75],
      [0.4, 0.9, 0.1],
    ];
    // two samples as well as three: the variance needs at least two (and at two its divisor is 1)
    for (const samples of [2, 3]) {
      const rng = new ScriptedRng(u.slice(0, samples));
      let terms = 0;
      const got = estimate("eps", T, rng, { mode: "mc", samples, onTerm: () => terms++ });
      assert.equal(terms, samples, "one onTerm per sample");
      const one = (k: number, b: number) => {
        const i = 2 + Math.floor(u[k]![b]! * (T - 1));
        return (T - 1) * denoisingKl("eps", X0[b]!, row(rng.normalDraws[k + 1]!, b), f32(i / T), chainGamma(T, i - 1), chainGamma(T, i));
      };
      const draws = X0.map((_, b) => Array.from({ length: samples }, (_, k) => one(k, b)));
      const mean = (v: number[]) => v.reduce((acc, x) => acc + x, 0) / v.length;
      // measured (three samples): 6.4e-8 relative (mean), 3.2e-7 (variance, a difference of squares)
      assertClose(got.diffusion, draws.map(mean), { rtol: 6e-7, label: `mean of ${samples} one-term estimates` });
      assert.ok(got.diffusionVariance, `a variance from ${samples} samples`);
      assertClose(
        got.diffusionVariance,
        draws.map((v) => v.reduce((acc, x) => acc + (x - mean(v)) ** 2, 0) / (samples - 1)),
        { rtol: 3e-6, label: `the sample variance of ${samples}` },
      );
    }
  });

  it("T = 1: no diffusion terms in either mode, the prior and reconstruction at the single latent", () => {
    for (const mode of ["exact", "mc"] as const) {
      const rng = new ScriptedRng();
      let terms = 0;
      const got = estimate("eps", 1, rng, { mode, onTerm: () => terms++ });
      assert.equal(terms, 0);
      assert.deepEqual(Array.from(got.diffusion), [0, 0, 0]);
      const want = X0.map((_, b) => reconstructionAndPrior("eps", b, row(rng.normalDraws[0]!, b), 1, f32(GMAX), f32(GMAX)));
      // measured: 7.3e-9 and 6.9e-15 relative
      assertClose(
        got.reconstruction,
        want.map((w) => w.reconstruction),
        { rtol: 6e-8, label: `${mode} reconstruction` },
      );
      assertClose(
        got.prior,
        want.map((w) => w.prior),
        { rtol: 1e-13, label: `${mode} prior` },
      );
    }
  });
});

describe("chainEstimates with one fixed draw of the forward chain (log-snr-linear, T = 4)", () => {
  it("reconstruction, both priors, and every denoising, consistency and consistency-KL term from Gaussian densities", () => {
    const T = 4;
    // the chain in float64 from ᾱ_i = sigmoid(−γ(i/T)); DDPM's posterior of x_{t−1} given x_t, x_0
    const alphaBar = Array.from({ length: T + 1 }, (_, i) => (i === 0 ? 1 : sigmoid(-(GMIN + ((GMAX - GMIN) * i) / T))));
    const alpha = alphaBar.map((ab, i) => (i === 0 ? 1 : ab / alphaBar[i - 1]!));
    const beta = alpha.map((a) => 1 - a);
    const snr = alphaBar.map((ab) => ab / (1 - ab));
    const posterior = (t: number) => ({
      coefX0: (Math.sqrt(alphaBar[t - 1]!) * beta[t]!) / (1 - alphaBar[t]!),
      coefXt: (Math.sqrt(alpha[t]!) * (1 - alphaBar[t - 1]!)) / (1 - alphaBar[t]!),
      variance: (beta[t]! * (1 - alphaBar[t - 1]!)) / (1 - alphaBar[t]!),
    });
    for (const target of ["eps", "v"] as const) {
      const rng = new ScriptedRng();
      const estimator = new ElboEstimator(referenceModel(target), new DiffusionProcess(logSnrLinearSchedule(GMIN, GMAX), T), "gaussian");
      const x0Array = exactArray(X0.flat()).reshape([B, D]);
      const got = estimator.chainEstimates(params(), x0Array, rng.asRng());
      x0Array.dispose();
      assert.equal(rng.normalDraws.length, T, "one draw per step of the chain");
      X0.forEach((x0, b) => {
        // x_t = √α_t x_{t−1} + √β_t ε_t
        const xs = [x0];
        for (let t = 1; t <= T; t++)
          xs.push(xs[t - 1]!.map((v, d) => Math.sqrt(alpha[t]!) * v + Math.sqrt(beta[t]!) * row(rng.normalDraws[t - 1]!, b)[d]!));
        const x0Hat = (t: number) => predictions(target, xs[t]!, f32(t / T), chainGamma(T, t)).x0;
        const want: Record<string, number> = {
          reconstruction: gaussianCost(x0, x0Hat(1), chainGamma(T, 1)),
          "prior denoising": x0.reduce((s, x) => s + gaussKl(Math.sqrt(alphaBar[T]!) * x, 1 - alphaBar[T]!, 0, 1), 0),
          "prior consistency": xs[T - 1]!.reduce((s, x) => s + gaussKl(Math.sqrt(alpha[T]!) * x, beta[T]!, 0, 1), 0),
        };
        const have: Record<string, number> = {
          reconstruction: got.reconstruction[b]!,
          "prior denoising": got.prior.denoising[b]!,
          "prior consistency": got.prior.consistency[b]!,
        };
        assert.equal(got.prior["consistency-kl"][b], got.prior.consistency[b]);
        for (let t = 2; t <= T; t++) {
          const hat = x0Hat(t);
          const { coefX0, coefXt, variance } = posterior(t);
          const meanP = xs[t]!.map((v, d) => coefXt * v + coefX0 * hat[d]!); // of p_θ(x_{t−1} | x_t)
          const meanQ = xs[t - 2]!.map((v) => Math.sqrt(alpha[t - 1]!) * v); // of q(x_{t−1} | x_{t−2})
          want[`denoising ${t}`] = 0.5 * (snr[t - 1]! - snr[t]!) * x0.reduce((s, x, d) => s + (x - hat[d]!) ** 2, 0);
          want[`consistency ${t - 1}`] = xs[t - 1]!.reduce(
            (s, x, d) => s + logNormal(x, meanQ[d]!, beta[t - 1]!) - logNormal(x, meanP[d]!, variance),
            0,
          );
          want[`consistency-kl ${t - 1}`] = meanQ.reduce((s, m, d) => s + gaussKl(m, beta[t - 1]!, meanP[d]!, variance), 0);
          have[`denoising ${t}`] = got.terms.denoising[t - 2]![b]!;
          have[`consistency ${t - 1}`] = got.terms.consistency[t - 2]![b]!;
          have[`consistency-kl ${t - 1}`] = got.terms["consistency-kl"][t - 2]![b]!;
        }
        // float32 t and γ for the network (α_t, σ_t in float32 inside x̂_0); the consistency terms are
        // differences of log-densities of size ~10 whose float32 parts cancel to ~1e-6 absolute.
        // measured: 1.1e-7 relative (denoising, priors, reconstruction), 1.4e-7 absolute (consistency)
        for (const [name, value] of Object.entries(want)) {
          assertClose([have[name]!], [value], { rtol: 1e-6, atol: 1e-6, label: `${target}, example ${b}: ${name}` });
        }
      });
    }
  });
});

describe("continuous ELBO terms with fixed noise (cosine, s = 0.008)", () => {
  const cosine = cosineSchedule();
  const s = 0.008;
  const a = ((s / (1 + s)) * Math.PI) / 2;
  const angle = (t: number) => ((t + s) / (1 + s)) * (Math.PI / 2);
  const f = (t: number) => Math.cos(angle(t)) ** 2;
  const gamma = (t: number) => Math.log((f(0) - f(t)) / f(t));
  // γ' = −f'·f(0)/((f(0) − f) f), f' = −sin(2b)·π/(2(1 + s))
  const dgamma = (t: number) => (((Math.sin(2 * angle(t)) * Math.PI) / (2 * (1 + s))) * f(0)) / ((f(0) - f(t)) * f(t));
  // γ⁻¹ from f(t) = f(0)/(1 + e^γ): b = acos(√(f(0)/(1 + e^γ)))
  const inverse = (g: number) => (Math.acos(Math.sqrt(f(0) / (1 + Math.exp(g)))) * 2 * (1 + s)) / Math.PI - s;
  assert.ok(Math.abs(a - angle(0)) < 1e-15);

  function run(levels: "gamma" | "time", u: number) {
    const rng = new ScriptedRng([[u]]);
    const estimator = new ElboEstimator(referenceModel("eps"), new DiffusionProcess(cosine, 0), "gaussian");
    const x0 = exactArray(X0.flat()).reshape([B, D]);
    const got = estimator.terms(params(), x0, rng.asRng(), { mode: "exact", levels });
    x0.dispose();
    // stratified uniforms u_b = (u + b/B) mod 1, in float32
    const ub = X0.map((_, b) => f32((u + b / B) % 1));
    return { got, rng, ub };
  }

  it("reconstruction at tMin and prior at tMax (continuous time is Monte-Carlo whatever the mode)", () => {
    const { got, rng } = run("gamma", 0.4);
    assert.equal(got.diffusionVariance, undefined, "one sample: no variance");
    const want = X0.map((_, b) =>
      reconstructionAndPrior("eps", b, row(rng.normalDraws[0]!, b), f32(1e-5), f32(gamma(1e-5)), f32(gamma(0.999))),
    );
    // measured: 1.6e-9 and 6.6e-11 relative (γ(tMin) and γ(tMax) in float32)
    assertClose(
      got.reconstruction,
      want.map((w) => w.reconstruction),
      { rtol: 1.5e-8, label: "reconstruction" },
    );
    assertClose(
      got.prior,
      want.map((w) => w.prior),
      { rtol: 6e-10, label: "prior" },
    );
  });

  it("levels uniform in γ: γ = γ_min + (γ_max − γ_min)u_b, t = γ⁻¹(γ) for the network, weight ½(γ_max − γ_min)", () => {
    const { got, rng, ub } = run("gamma", 0.83);
    const [gMin, gMax] = [gamma(1e-5), gamma(0.999)];
    const want = X0.map((x0, b) => {
      const g = gMin + (gMax - gMin) * ub[b]!;
      const e = row(rng.normalDraws[1]!, b);
      const epsHat = predictions("eps", noisy(x0, e, g), inverse(g), g).eps;
      return 0.5 * (gMax - gMin) * e.reduce((acc, v, d) => acc + (v - epsHat[d]!) ** 2, 0);
    });
    // measured: 1.4e-7 relative (γ and t in float32)
    assertClose(got.diffusion, want, { rtol: 1.4e-6, label: "L_∞ one draw, uniform in γ" });
  });

  it("levels uniform in t: t = tMin + (tMax − tMin)u_b, weight (tMax − tMin)·½γ'(t)", () => {
    const { got, rng, ub } = run("time", 0.61);
    const want = X0.map((x0, b) => {
      const t = 1e-5 + (0.999 - 1e-5) * ub[b]!;
      const g = gamma(t);
      const e = row(rng.normalDraws[1]!, b);
      const epsHat = predictions("eps", noisy(x0, e, g), t, g).eps;
      return (0.999 - 1e-5) * 0.5 * dgamma(t) * e.reduce((acc, v, d) => acc + (v - epsHat[d]!) ** 2, 0);
    });
    // measured: 4.6e-7 relative (t in float32)
    assertClose(got.diffusion, want, { rtol: 4e-6, label: "L_∞ one draw, uniform in t" });
  });
});

describe("chainEstimates' domain", () => {
  it("needs a discrete process", () => {
    const estimator = new ElboEstimator(referenceModel("eps"), new DiffusionProcess(cosineSchedule(), 0), "gaussian");
    const x0 = exactArray(X0.flat()).reshape([B, D]);
    assert.throws(
      () => estimator.chainEstimates(params(), x0, new ScriptedRng().asRng()),
      /the consistency estimator needs a discrete process \(T >= 1\)/,
    );
    x0.dispose();
  });
});

describe("summarizeElbo", () => {
  it("means over examples, nats = their sum, bits/dim = nats/(D ln 2)", () => {
    const terms = {
      reconstruction: Float64Array.of(1, 2, 6),
      prior: Float64Array.of(0.5, 0.25, 0.75),
      diffusion: Float64Array.of(4, 5, 9),
    };
    const got = summarizeElbo(terms, 3);
    const bpd = (n: number) => n / (3 * Math.log(2));
    assertClose([got.terms.reconstruction, got.terms.prior, got.terms.diffusion, got.nats], [3, 0.5, 6, 9.5], {
      rtol: 1e-15,
      label: "nats",
    });
    assertClose([got.termsBpd.reconstruction, got.termsBpd.prior, got.termsBpd.diffusion, got.bpd], [bpd(3), bpd(0.5), bpd(6), bpd(9.5)], {
      rtol: 1e-15,
      label: "bpd",
    });
  });
});
