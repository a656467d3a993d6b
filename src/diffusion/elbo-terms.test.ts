/**
 * Every ELBO term with FIXED noise (a scripted stream of ε and u), against float64 references
 * written from the derivation (here and in testing/elbo-reference.ts): Gaussian log-densities and KLs, SNR differences of the chain
 * built from ᾱ_i = sigmoid(−γ(i/T)), and the schedules' closed forms. The denoiser is a reference
 * model that reads both its time input t and γ (as a trained network does), for each of the four
 * targets. A dropped term, a wrong weight or a level off by one step changes a per-example number
 * by far more than the float32 rounding of t and γ that these tolerances allow.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { cosineSchedule } from "../schedule/index.js";
import {
  B,
  chainGamma,
  denoisingKl,
  estimate,
  f32,
  GMAX,
  noisy,
  params,
  predictions,
  reconstructionAndPrior,
  referenceEstimator,
  row,
  ScriptedRng,
  X0,
  x0Batch,
} from "../testing/elbo-reference.js";
import { assertClose, useEngine } from "../testing/helpers.js";
import { summarizeElbo } from "./elbo.js";

useEngine("cpu");

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
    const estimator = referenceEstimator("eps", 0, cosine);
    const x0 = x0Batch();
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
