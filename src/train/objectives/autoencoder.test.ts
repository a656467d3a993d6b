/**
 * The autoencoder objective against a float64 reference written out here: a linear autoencoder
 * (μ = x W_μ, log σ² = x W_v + b_v, x̂ = z W_x, one γ), the reparameterised z = μ + σ ε, −log p(x|z)
 * with the Gaussian and with the discretised 8-bit decoder, the closed-form KL to N(0, I), the
 * β-weighted batch mean and its variance; and its gradient against central differences.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { DecoderKind } from "../../diffusion/decoder.js";
import { exactArray } from "../../engine/index.js";
import { type Array, numpy as np, tree } from "../../engine/jax.js";
import type { Autoencoder } from "../../models/kind.js";
import { assertClose, useEngine } from "../../testing/helpers.js";
import { autoencoderObjective } from "./autoencoder.js";

useEngine("cpu");

const [B, D, L] = [3, 4, 2];
const BETA = 0.3;
/** Data on the 8-bit grid of [−1, 1] (as pixels normalised), latent noise, and the linear maps. */
const X = [0, 255, 128, 37, 200, 3, 90, 160, 12, 250, 127, 64].map((k) => (2 * k) / 255 - 1);
const EPS = [0.3, -1.1, 0.7, 0.2, -0.4, 1.5];
const P = {
  wm: [0.5, -0.2, 0.1, 0.4, -0.3, 0.2, 0.6, -0.1],
  wv: [0.2, -0.5, 0.3, 0.1, -0.2, 0.4, 0.1, 0.3],
  bv: [-1.0, -0.5],
  wx: [0.7, -0.3, 0.2, 0.5, -0.6, 0.4, 0.1, 0.9],
  gamma: [-2.5],
};
type LinearParams = { wm: Array; wv: Array; bv: Array; wx: Array; gamma: Array };

const linear: Autoencoder<LinearParams> = {
  latentShape: [L],
  klWeight: BETA,
  encode(p, x) {
    tree.dispose([p.wx, p.gamma]);
    return { mean: np.matmul(x.ref, p.wm), logVar: np.matmul(x, p.wv).add(p.bv) };
  },
  decode(p, z) {
    tree.dispose([p.wm, p.wv, p.bv]);
    return { mean: np.matmul(z, p.wx), gamma: np.broadcastTo(p.gamma, [z.shape[0]!]) };
  },
};

const params = (q = P): LinearParams => ({
  wm: exactArray(q.wm).reshape([D, L]),
  wv: exactArray(q.wv).reshape([D, L]),
  bv: exactArray(q.bv),
  wx: exactArray(q.wx).reshape([L, D]),
  gamma: exactArray(q.gamma),
});
const batch = () => ({
  x0: exactArray(X).reshape([B, D]),
  eps: exactArray(EPS).reshape([B, L]),
  u: exactArray([0.1, 0.5, 0.9]),
  table: np.zeros([0]),
  labels: np.zeros([B], { dtype: np.int32 }),
});

/** x[b] W (row-vector times matrix, W row-major [n, m]). */
const times = (x: number[], w: number[], m: number) =>
  globalThis.Array.from({ length: m }, (_, j) => x.reduce((s, v, i) => s + v * w[i * m + j]!, 0));

/** The per-example loss in float64: −log p(x|z) + β KL(N(μ, σ²) ‖ N(0, I)). */
function reference(decoder: DecoderKind, q = P): number[] {
  const g = q.gamma[0]!;
  return globalThis.Array.from({ length: B }, (_, b) => {
    const x = X.slice(b * D, (b + 1) * D);
    const mu = times(x, q.wm, L);
    const logVar = times(x, q.wv, L).map((v, j) => v + q.bv[j]!);
    const z = mu.map((m, j) => m + Math.exp(logVar[j]! / 2) * EPS[b * L + j]!);
    const xHat = times(z, q.wx, D);
    const kl = mu.reduce((s, m, j) => s + 0.5 * (m * m + Math.exp(logVar[j]!) - logVar[j]! - 1), 0);
    const recon = xHat.reduce((s, xh, d) => {
      if (decoder === "gaussian") return s + 0.5 * (Math.log(2 * Math.PI) + g + (x[d]! - xh) ** 2 * Math.exp(-g));
      const logits = globalThis.Array.from({ length: 256 }, (_, k) => -0.5 * Math.exp(-g) * (xh - ((2 * k) / 255 - 1)) ** 2);
      const max = Math.max(...logits);
      const logZ = max + Math.log(logits.reduce((t, l) => t + Math.exp(l - max), 0));
      return s - (logits[Math.round(((x[d]! + 1) * 255) / 2)]! - logZ);
    }, 0);
    return recon + BETA * kl;
  });
}

const read = (a: Array) => (a.dataSync() as Float64Array)[0]!;

describe("autoencoder objective (float64)", () => {
  for (const decoder of ["gaussian", "discretized"] as const) {
    it(`${decoder} decoder: the batch mean of −log p(x|z) + β KL and its variance equal the float64 reference`, () => {
      const want = reference(decoder);
      const mean = want.reduce((s, v) => s + v, 0) / B;
      const variance = want.reduce((s, v) => s + (v - mean) ** 2, 0) / (B - 1);
      const { loss, variance: got, grads } = autoencoderObjective(linear, decoder)(params(), batch());
      tree.dispose(grads);
      assertClose([read(loss)], [mean], { rtol: 1e-10, label: "loss" });
      assertClose([read(got)], [variance], { rtol: 1e-9, label: "variance" });
    });
  }

  it("its gradient matches central differences of the reference in every parameter", () => {
    const { loss, variance, grads } = autoencoderObjective(linear, "discretized")(params(), batch());
    tree.dispose([loss, variance]);
    const h = 1e-6;
    const meanLoss = (q: typeof P) => reference("discretized", q).reduce((s, v) => s + v, 0) / B;
    for (const [name, g] of Object.entries(grads as LinearParams)) {
      const analytic = g.dataSync() as Float64Array;
      const entries = P[name as keyof typeof P];
      const fd = entries.map((_, i) => {
        const shifted = (delta: number) => meanLoss({ ...P, [name]: entries.map((v, j) => (j === i ? v + delta : v)) });
        return (shifted(h) - shifted(-h)) / (2 * h);
      });
      assert.ok(
        fd.some((v) => Math.abs(v) > 1e-4),
        `${name}: the loss does not depend on it`,
      );
      assertClose(analytic, fd, { rtol: 1e-5, atol: 1e-7, label: `∂L/∂${name}` });
    }
  });

  it("without a KL weight it is the ELBO (β = 1)", () => {
    const elbo = autoencoderObjective({ ...linear, klWeight: undefined }, "gaussian")(params(), batch());
    const weighted = autoencoderObjective({ ...linear, klWeight: 1 }, "gaussian")(params(), batch());
    tree.dispose([elbo.grads, weighted.grads, elbo.variance, weighted.variance]);
    assert.equal(read(elbo.loss), read(weighted.loss));
  });
});
