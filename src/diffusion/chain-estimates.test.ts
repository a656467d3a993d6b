/**
 * chainEstimates with one fixed draw of the forward chain, against float64 references written from
 * the derivation (testing/elbo-reference.ts): the reconstruction, both priors, and every denoising,
 * consistency and consistency-KL term; and the estimator's domain (discrete processes only).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { cosineSchedule } from "../schedule/index.js";
import {
  chainGamma,
  f32,
  GMAX,
  GMIN,
  gaussianCost,
  gaussKl,
  logNormal,
  params,
  predictions,
  referenceEstimator,
  row,
  ScriptedRng,
  X0,
  x0Batch,
} from "../testing/elbo-reference.js";
import { assertClose, useEngine } from "../testing/helpers.js";
import { sigmoid } from "../testing/reference.js";

useEngine("cpu");

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
      const estimator = referenceEstimator(target, T);
      const x0Array = x0Batch();
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
describe("chainEstimates' domain", () => {
  it("needs a discrete process", () => {
    const estimator = referenceEstimator("eps", 0, cosineSchedule());
    const x0 = x0Batch();
    assert.throws(
      () => estimator.chainEstimates(params(), x0, new ScriptedRng().asRng()),
      /the consistency estimator needs a discrete process \(T >= 1\)/,
    );
    x0.dispose();
  });
});
