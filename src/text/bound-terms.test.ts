/**
 * Diffusion-LM's bound, term by term with FIXED noise (a scripted stream of ε and u), in float64 on
 * the exact `cpu` device, against a brute-force reference written here from the bound's definition:
 * the rounding cross-entropy −Σ_ℓ log softmax(z_0,ℓ Eᵀ)_{w_ℓ} at z_0 = α_0 e + σ_0 ε (summed over the
 * L positions, averaged over the draws), the diffusion term (continuous: ½(γ_max − γ_min)‖ε − ε̂‖² at
 * γ uniform, t = γ⁻¹(γ); discrete: ½(SNR_{i−1} − SNR_i)‖e − x̂_0(x_i)‖² for i = 2..T) and the prior
 * Σ KL(N(α_T e, σ_T²) ‖ N(0, 1)), each a sum over the L·d coordinates. The network is a stand-in that
 * reads x, t and γ, so a latent, a time or a level fed at the wrong place changes the numbers; a mean
 * in place of a sum changes them by a factor L or L·d.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ElboEstimator } from "../diffusion/elbo.js";
import type { Model } from "../diffusion/model.js";
import { DiffusionProcess } from "../diffusion/process.js";
import { exactArray } from "../engine/index.js";
import { type Array, numpy as np, tree } from "../engine/jax.js";
import { logSnrLinearSchedule } from "../schedule/fixed.js";
import { sqrtSchedule } from "../schedule/sqrt.js";
import { f32, gaussKl, ScriptedRng } from "../testing/elbo-reference.js";
import { assertClose, useEngine } from "../testing/helpers.js";
import { alpha, sigma, sigmoid } from "../testing/reference.js";
import { diffusionLMBoundTerms } from "./bound.js";

useEngine("cpu");

const L = 3,
  d = 2,
  V = 4,
  B = 3;
const E = globalThis.Array.from({ length: V * d }, (_, i) => 1.3 * Math.sin(i + 1));
const IDS = [0, 1, 2, 3, 1, 2, 2, 0, 3];
const DRAWS = 2;

/** The stand-in denoiser: x̂_0 = 0.8x + 0.5t − 0.05γ in every coordinate. */
const standIn = (x: number, t: number, gamma: number) => 0.8 * x + 0.5 * t - 0.05 * gamma;
const model: Model<{ unused: Array }> = {
  target: "x0",
  classes: 0,
  apply(params, x, t, gamma) {
    tree.dispose(params);
    const n = x.shape[0]!;
    return x
      .mul(0.8)
      .add(t.reshape([n, 1, 1]).mul(0.5))
      .sub(gamma.reshape([n, 1, 1]).mul(0.05));
  },
};

const embeddingOf = (b: number) => globalThis.Array.from({ length: L * d }, (_, k) => E[IDS[b * L + Math.floor(k / d)]! * d + (k % d)]!);
/** Row b of a flat [B·L·d] draw. */
const rowOf = (draw: number[], b: number) => draw.slice(b * L * d, (b + 1) * L * d);
const noisy = (e: number[], eps: number[], g: number) => e.map((x, k) => alpha(g) * x + sigma(g) * eps[k]!);

/** −Σ_ℓ log softmax(z_ℓ Eᵀ)_{w_ℓ} of sentence b at latent z [L·d]. */
function roundingCost(b: number, z: number[]): number {
  let cost = 0;
  for (let l = 0; l < L; l++) {
    const logits = globalThis.Array.from({ length: V }, (_, v) => z[l * d]! * E[v * d]! + z[l * d + 1]! * E[v * d + 1]!);
    const max = Math.max(...logits);
    const logSum = max + Math.log(logits.reduce((s, x) => s + Math.exp(x - max), 0));
    cost += logSum - logits[IDS[b * L + l]!]!;
  }
  return cost;
}

/** ‖ε − ε̂‖² of sentence b at level (t, γ) with noise ε, ε̂ = (x_t − α x̂_0)/σ. */
function epsError(b: number, eps: number[], t: number, g: number): number {
  const xt = noisy(embeddingOf(b), eps, g);
  return xt.reduce((s, x, k) => s + (eps[k]! - (x - alpha(g) * standIn(x, t, g)) / sigma(g)) ** 2, 0);
}

/** The rounding and prior terms of sentence b from the first DRAWS normal draws, at γ_0 and γ_T. */
function roundingAndPrior(rng: ScriptedRng, b: number, g0: number, gT: number) {
  let rounding = 0;
  for (let k = 0; k < DRAWS; k++) rounding += roundingCost(b, noisy(embeddingOf(b), rowOf(rng.normalDraws[k]!, b), g0)) / DRAWS;
  const prior = embeddingOf(b).reduce((s, x) => s + gaussKl(alpha(gT) * x, sigmoid(gT), 0, 1), 0);
  return { rounding, prior };
}

function bound(process: DiffusionProcess, rng: ScriptedRng) {
  const embedding = exactArray(E).reshape([V, d]);
  const ids = np.array(Int32Array.from(IDS), { dtype: np.int32 }).reshape([B, L]);
  const terms = diffusionLMBoundTerms(new ElboEstimator(model as Model, process, "gaussian"), {}, embedding, ids, rng.asRng(), DRAWS);
  embedding.dispose();
  return terms;
}

describe("Diffusion-LM's bound with fixed noise (float64)", () => {
  it("continuous time, sqrt schedule: rounding, diffusion at γ uniform (DRAWS levels), prior; sums over L·d", () => {
    const us = [[0.137], [0.71]];
    const rng = new ScriptedRng(us);
    const got = bound(new DiffusionProcess(sqrtSchedule(), 0), rng);
    // draws: DRAWS rounding latents, the estimator's x_1 (its Gaussian reconstruction, not used), then (u, ε) per draw
    assert.equal(rng.normalDraws.length, DRAWS + 1 + DRAWS);
    const s = 1e-4;
    const gammaOf = (t: number) => Math.log(Math.sqrt(t + s)) - Math.log(1 - Math.sqrt(t + s));
    const [gMin, gMax] = [gammaOf(0), gammaOf(0.999)];
    for (let b = 0; b < B; b++) {
      const { rounding, prior } = roundingAndPrior(rng, b, f32(gMin), gMax);
      let diffusion = 0;
      for (let k = 0; k < DRAWS; k++) {
        const u = f32((f32(us[k]![0]!) + b / B) % 1); // stratified over the batch, in float32
        const g = gMin + (gMax - gMin) * u;
        const t = Math.min(0.999, Math.max(0, sigmoid(g) ** 2 - s));
        diffusion += (0.5 * (gMax - gMin) * epsError(b, rowOf(rng.normalDraws[DRAWS + 1 + k]!, b), t, g)) / DRAWS;
      }
      // float64 but for the levels the process hands over in float32 (γ_0 and u)
      assertClose([got.rounding[b]!], [rounding], { rtol: 1e-6, label: `rounding ${b}` });
      assertClose([got.diffusion[b]!], [diffusion], { rtol: 1e-5, label: `diffusion ${b}` });
      assertClose([got.prior[b]!], [prior], { rtol: 1e-6, label: `prior ${b}` });
    }
  });

  it("discrete time, T = 4 (log-snr-linear): the T − 1 denoising KLs, each with its own noise", () => {
    const T = 4;
    const rng = new ScriptedRng();
    const got = bound(new DiffusionProcess(logSnrLinearSchedule(-3, 4), T), rng);
    assert.equal(rng.normalDraws.length, DRAWS + 1 + (T - 1));
    const chainGamma = (i: number) => f32(-3 + (7 * i) / T);
    for (let b = 0; b < B; b++) {
      const { rounding, prior } = roundingAndPrior(rng, b, chainGamma(1), chainGamma(T));
      let diffusion = 0;
      for (let i = 2; i <= T; i++) {
        const eps = rowOf(rng.normalDraws[DRAWS + i - 1]!, b);
        const [gs, gt] = [chainGamma(i - 1), chainGamma(i)];
        const xt = noisy(embeddingOf(b), eps, gt);
        const error = embeddingOf(b).reduce((acc, x, k) => acc + (x - standIn(xt[k]!, f32(i / T), gt)) ** 2, 0);
        diffusion += 0.5 * (Math.exp(-gs) - Math.exp(-gt)) * error;
      }
      assertClose([got.rounding[b]!], [rounding], { rtol: 1e-6, label: `rounding ${b}` });
      assertClose([got.diffusion[b]!], [diffusion], { rtol: 1e-6, label: `diffusion ${b}` });
      assertClose([got.prior[b]!], [prior], { rtol: 1e-6, label: `prior ${b}` });
    }
  });
});
