/**
 * The latent bound through an identity "autoencoder" (float64 on `cpu`): q(z|x) = N(x, s² I),
 * p(x|z) = N(z, τ² I), and a pixel-space model's −log p(z) as the latent prior. Per draw z = x + s ε,
 *
 *   −log p(x|z) + log q(z|x) = ½ D log(τ²/s²) + ½ (s²/τ² − 1) ‖ε‖²,
 *
 * so the bound is E_ε[−log p(x + s ε)] + ½ D log(τ²/s²) + ½ D (s²/τ² − 1): with τ = s the two noise
 * terms cancel draw by draw and the bound is the pixel model's cost smoothed at scale s, which for the
 * Gaussian pixel model N(μ, diag ρ²) used here is −log p(x) + ½ s² Σ_d 1/ρ_d². Also: bits/dim with
 * the data normalisation's log-det, as the pixel model's.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { logDetJacobian, pixelNormalization } from "../data/normalize.js";
import { exactArray, Rng } from "../engine/index.js";
import { numpy as np } from "../engine/jax.js";
import { meanAndStdError } from "../eval/likelihood.js";
import { assertClose, useEngine } from "../testing/helpers.js";
import { type LatentBoundModel, type LatentBoundTerms, latentBoundTerms, negativeLogMeanExp, summarizeLatentBound } from "./bound.js";

useEngine("cpu");

const LOG2PI = Math.log(2 * Math.PI);
const D = 4;
// the pixel model: N(μ, diag ρ²)
const MU = [0.2, -0.5, 0.0, 1.0];
const RHO = [0.8, 1.5, 0.5, 1.1];
const XS = [
  [0.3, -0.1, 0.9, 1.4],
  [-1.2, 0.4, 0.05, 0.7],
  [2.0, -2.5, -0.6, 0.0],
];
const pixelCost = (x: number[]) => 0.5 * x.reduce((s, v, d) => s + ((v - MU[d]!) / RHO[d]!) ** 2 + 2 * Math.log(RHO[d]!) + LOG2PI, 0);

/** The identity decoder N(z, τ² I) and the pixel model as the latent prior. */
const identity = (tau: number): LatentBoundModel => ({
  decoder: "gaussian",
  decode: (z: np.Array) => ({ mean: z, gamma: exactArray(new Array(z.shape[0]!).fill(2 * Math.log(tau))) }),
  // ½ Σ_d ((z_d − μ_d)/ρ_d)² + log ρ_d + ½ log 2π
  priorCost: (z: np.Array) =>
    np
      .sum(np.square(z.sub(exactArray(MU)).div(exactArray(RHO))), 1)
      .add(RHO.reduce((s, r) => s + 2 * Math.log(r) + LOG2PI, 0))
      .mul(0.5),
});

/** The bound for `copies` copies of each example of XS, with encoder noise s, decoder noise τ and K draws. */
function bound(s: number, tau: number, copies: number, samples: number, seed: number): LatentBoundTerms {
  const rows = XS.flatMap((x) => new Array<number[]>(copies).fill(x));
  const x = exactArray(rows.flat()).reshape([rows.length, D]);
  const encoding = { mean: x.ref, logVar: exactArray(new Array(rows.length * D).fill(2 * Math.log(s))).reshape([rows.length, D]) };
  const terms = latentBoundTerms(x.ref, encoding, identity(tau), new Rng(seed), samples);
  x.dispose();
  return terms;
}

/** Per example of XS, the entries of `a` over its `copies` rows. */
const perExample = (a: Float64Array, copies: number) => XS.map((_, i) => a.subarray(i * copies, (i + 1) * copies));

describe("latent bound through an identity autoencoder (float64)", () => {
  it("τ = s: reconstruction and encoder terms cancel draw by draw, and the latent term is the pixel cost at x + s ε", () => {
    const s = 1e-4;
    const terms = bound(s, s, 1, 3, 1);
    // each term is ≈ ∓½ D log(2π s²) ≈ ∓33 nats; measured: |sum| ≤ 1.6e-12 (z = x + s ε rounds at 1e-16 |x|, 1e-12 of s ε)
    assertClose(
      terms.reconstruction.map((r, b) => r + terms.encoder[b]!),
      [0, 0, 0],
      { atol: 1e-10, label: "reconstruction + encoder" },
    );
    // |−log p(x + s ε) − (−log p(x))| ≤ s |ε| ‖(x − μ)/ρ²‖ + O(s²): below 1e-2 for |ε| < 6
    const want = XS.map(pixelCost);
    assertClose(terms.prior, want, { atol: 1e-2, label: "latent term" });
    assertClose(terms.importanceWeighted, want, { atol: 1e-2, label: "importance-weighted bound" });
  });

  it("τ ≠ s: the bound's expectation is the smoothed pixel cost plus ½ D log(τ²/s²) + ½ D (s²/τ² − 1), part by part", () => {
    const [s, tau, copies] = [0.3, 0.2, 3000];
    const terms = bound(s, tau, copies, 1, 2);
    const noise = 0.5 * D * (Math.log((tau * tau) / (s * s)) + (s * s) / (tau * tau) - 1);
    const smoothing = 0.5 * s * s * RHO.reduce((acc, r) => acc + 1 / (r * r), 0);
    const prior = perExample(terms.prior, copies);
    const noiseTerms = perExample(
      terms.reconstruction.map((r, b) => r + terms.encoder[b]!),
      copies,
    );
    XS.forEach((x, i) => {
      const latent = meanAndStdError(prior[i]!);
      assert.ok(
        Math.abs(latent.mean - pixelCost(x) - smoothing) < 4 * latent.se,
        `example ${i}: latent term ${latent.mean} ± ${latent.se}`,
      );
      // the smoothing is resolved: leaving it out would miss by more than 4 standard errors
      assert.ok(smoothing > 4 * latent.se, `example ${i}: smoothing ${smoothing} against se ${latent.se}`);
      const rest = meanAndStdError(noiseTerms[i]!);
      assert.ok(Math.abs(rest.mean - noise) < 4 * rest.se, `example ${i}: noise terms ${rest.mean} ± ${rest.se} against ${noise}`);
    });
  });

  it("nats and bits/dim in data space: the gaussian decoder's density takes the normalisation's log-det, the discretised mass does not", () => {
    const terms: LatentBoundTerms = {
      reconstruction: Float64Array.of(1, 3),
      encoder: Float64Array.of(-2, -4),
      prior: Float64Array.of(10, 12),
      importanceWeighted: Float64Array.of(8, 9),
    };
    const dims = 784;
    // x' = (x − 127.5)/127.5: log |det ∂x'/∂x| = −784 log 127.5, as the pixel model's bits/dim (evaluateElbo)
    const logDet = logDetJacobian(pixelNormalization, dims);
    const gaussian = summarizeLatentBound(terms, dims, "gaussian", logDet);
    const bits = (nats: number) => nats / (dims * Math.LN2);
    assertClose([gaussian.nats, gaussian.importanceWeighted.nats], [10 - logDet, 8.5 - logDet], { rtol: 1e-15, label: "gaussian nats" });
    assertClose([gaussian.bpd, gaussian.importanceWeighted.bpd], [bits(10 - logDet), bits(8.5 - logDet)], {
      rtol: 1e-15,
      label: "gaussian bpd",
    });
    assert.deepEqual(gaussian.terms, { reconstruction: 2 - logDet, encoder: -3, prior: 11 });
    assertClose(Object.values(gaussian.termsBpd), [bits(2 - logDet), bits(-3), bits(11)], { rtol: 1e-15, label: "gaussian parts" });
    const discretized = summarizeLatentBound(terms, dims, "discretized", logDet);
    assert.deepEqual(
      [discretized.nats, discretized.importanceWeighted.nats, discretized.terms.reconstruction],
      [10, 8.5, 2],
      "the discretised decoder's bits/dim ignore the normalisation",
    );
  });

  it("negativeLogMeanExp: −log of the mean of e^{w_k}, +∞ when every weight is zero (not NaN)", () => {
    assertClose([negativeLogMeanExp(Float64Array.of(0, Math.log(3)))], [-Math.log(2)], { rtol: 1e-15, label: "−log ½(1 + 3)" });
    assertClose([negativeLogMeanExp(Float64Array.of(-1e5, -1e5 + Math.log(3)))], [1e5 - Math.log(2)], { rtol: 1e-15, label: "shifted" });
    assert.equal(negativeLogMeanExp(Float64Array.of(Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY)), Number.POSITIVE_INFINITY);
  });

  it("refuses no draws and an encoding that does not match the batch", () => {
    const x = exactArray([0, 0]).reshape([1, 2]);
    const enc = (rows: number) => ({
      mean: exactArray(new Array(rows * 2).fill(0)).reshape([rows, 2]),
      logVar: exactArray(new Array(rows * 2).fill(0)).reshape([rows, 2]),
    });
    assert.throws(() => latentBoundTerms(x.ref, enc(1), identity(1), new Rng(0), 0), /samples >= 1/);
    assert.throws(() => latentBoundTerms(x.ref, enc(2), identity(1), new Rng(0), 1), /does not match a batch of 1/);
    x.dispose();
  });
});
