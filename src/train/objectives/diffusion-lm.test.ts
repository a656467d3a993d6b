/**
 * Diffusion-LM's loss with fixed noise, in float64 on the exact `cpu` device, against a float64
 * reference written from the loss's definition: each of the four terms per sentence (denoising at
 * the drawn level, the t = 0 term on the first Q = ⌈B/4⌉ sentences weighted B/Q, the prior term
 * α_T²‖e‖², the rounding cross-entropy of the tied head), in continuous and discrete time, the
 * chain's ends the loss reads, and the training objective (the batch mean of their sum). The
 * network is a stand-in that reads x, t and γ (x̂_0 = 0.8x + 0.5t − 0.05γ), so a latent, time or
 * level fed at the wrong place changes the numbers (0.5t: the discrete chain's t = i/T are float32,
 * and a product with 0.5 keeps them exact).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Model } from "../../diffusion/model.js";
import { DiffusionProcess } from "../../diffusion/process.js";
import { exactArray } from "../../engine/index.js";
import { type Array, numpy as np, tree } from "../../engine/jax.js";
import type { TextParams } from "../../models/transformer.js";
import { logSnrLinearSchedule } from "../../schedule/fixed.js";
import { assertClose, useEngine } from "../../testing/helpers.js";
import { alpha, sigma } from "../../testing/reference.js";
import { type TextLossEnds, textLoss, textLossEnds, textLossTerms, textObjective } from "./diffusion-lm.js";

useEngine("cpu");

const L = 3,
  d = 2,
  V = 4;
/** γ(t) = −3 + 7t */
const schedule = () => logSnrLinearSchedule(-3, 4);
const gammaOf = (t: number) => -3 + 7 * t;

const E = globalThis.Array.from({ length: V * d }, (_, i) => Math.sin(i + 1));
const IDS = [0, 1, 2, 3, 1, 2, 2, 0, 3, 1, 1, 1, 0, 3, 2];
const EPS = globalThis.Array.from({ length: 5 * L * d }, (_, i) => Math.cos(3 * i));
const U = [0.1, 0.3, 0.55, 0.7, 0.9];

/** The stand-in denoiser: x̂_0 = 0.8x + 0.5t − 0.05γ in every coordinate. */
const standIn = (x: number, t: number, gamma: number) => 0.8 * x + 0.5 * t - 0.05 * gamma;
const model: Model<TextParams> = {
  target: "x0",
  classes: 0,
  apply(params, x, t, gamma) {
    tree.dispose(params);
    const B = x.shape[0]!;
    return x
      .mul(0.8)
      .add(t.reshape([B, 1, 1]).mul(0.5))
      .sub(gamma.reshape([B, 1, 1]).mul(0.05));
  },
};
const params = (): TextParams => ({ embedding: exactArray(E).reshape([V, d]) }) as unknown as TextParams;

type Terms = { denoising: number[]; reconstruction: number[]; prior: number[]; rounding: number[] };

/** The loss's four terms per sentence in float64 for the first B sentences, at levels (t_b, γ_b), with the ends (t_1, γ_1) and γ_T. */
function reference(B: number, levels: { t: number; gamma: number }[], ends: { t1: number; gamma1: number; gammaT: number }): Terms {
  const Q = Math.ceil(B / 4);
  const out: Terms = { denoising: [], reconstruction: [], prior: [], rounding: [] };
  for (let b = 0; b < B; b++) {
    const { t, gamma } = levels[b]!;
    let denoising = 0,
      reconstruction = 0,
      prior = 0,
      rounding = 0;
    for (let l = 0; l < L; l++) {
      const id = IDS[b * L + l]!;
      const x1: number[] = [];
      for (let k = 0; k < d; k++) {
        const e = E[id * d + k]!,
          eps = EPS[(b * L + l) * d + k]!;
        const xt = alpha(gamma) * e + sigma(gamma) * eps;
        x1.push(alpha(ends.gamma1) * e + sigma(ends.gamma1) * eps);
        denoising += (standIn(xt, t, gamma) - e) ** 2 / (L * d);
        if (b < Q) reconstruction += ((B / Q) * (standIn(x1[k]!, ends.t1, ends.gamma1) - e) ** 2) / (L * d);
        prior += (alpha(ends.gammaT) * e) ** 2 / (L * d);
      }
      // −log softmax(x_1 Eᵀ)_id, the head tied to the embeddings
      const logits = globalThis.Array.from({ length: V }, (_, v) => x1[0]! * E[v * d]! + x1[1]! * E[v * d + 1]!);
      const lse = Math.log(logits.reduce((s, z) => s + Math.exp(z), 0));
      rounding += (lse - logits[id]!) / L;
    }
    out.denoising.push(denoising);
    out.reconstruction.push(reconstruction);
    out.prior.push(prior);
    out.rounding.push(rounding);
  }
  return out;
}

const inputs = (B: number) => ({
  ids: exactArray(IDS.slice(0, B * L)).reshape([B, L]),
  eps: exactArray(EPS.slice(0, B * L * d)).reshape([B, L, d]),
  u: exactArray(U.slice(0, B)),
});

const read = (x: Array): number[] => [...(x.dataSync() as Float64Array)];

// measured: 2.2e-16 absolute at most (one ulp; terms 0.005 to 1.4); everything is float64 on the cpu device
const TOL = { atol: 2e-15 };

describe("Diffusion-LM loss terms against a float64 reference with fixed noise", () => {
  it("reads the chain's ends: x_1 at (tMin, γ(tMin)) or (1/T, γ_1), the prior at γ(tMax) or γ_T", () => {
    assert.deepEqual(textLossEnds(new DiffusionProcess(schedule(), 0)), { first: { t: 0, gamma: -3 }, priorGamma: 4 });
    const discrete = textLossEnds(new DiffusionProcess(schedule(), 4));
    assertClose([discrete.first.t, discrete.first.gamma, discrete.priorGamma], [0.25, gammaOf(0.25), gammaOf(1)], {
      atol: 4e-15,
      label: "T = 4",
    }); // measured 8.9e-16 (the chain's γ_1)
  });

  for (const B of [5, 1]) {
    it(`continuous time, B = ${B}: each term (t = 0 term on the first ⌈B/4⌉ sentences, weighted B/⌈B/4⌉)`, () => {
      const process = new DiffusionProcess(schedule(), 0);
      const ends = textLossEnds(process);
      const { ids, eps, u } = inputs(B);
      const terms = textLossTerms(model, process, params(), ids, eps, u, null, ends);
      const ref = reference(
        B,
        U.slice(0, B).map((t) => ({ t, gamma: gammaOf(t) })),
        { t1: 0, gamma1: -3, gammaT: 4 },
      );
      for (const key of ["denoising", "reconstruction", "prior", "rounding"] as const)
        assertClose(read(terms[key]), ref[key], { ...TOL, label: key });
    });
  }

  it("discrete time (T = 4): the step i = ⌊Tu⌋ + 1 from the chain's γ table at t = i/T, x_1 at step 1, the prior at step T", () => {
    const process = new DiffusionProcess(schedule(), 4);
    const { ids, eps, u } = inputs(5);
    const table = exactArray(process.chain!.gamma);
    const terms = textLossTerms(model, process, params(), ids, eps, u, table, textLossEnds(process));
    // u = 0.1, 0.3, 0.55, 0.7, 0.9 → steps 1, 2, 3, 3, 4
    const ref = reference(
      5,
      [1, 2, 3, 3, 4].map((i) => ({ t: i / 4, gamma: gammaOf(i / 4) })),
      { t1: 0.25, gamma1: gammaOf(0.25), gammaT: 4 },
    );
    for (const key of ["denoising", "reconstruction", "prior", "rounding"] as const)
      assertClose(read(terms[key]), ref[key], { ...TOL, label: key });
  });

  it("the loss is the sum of the terms, and the objective its batch mean with the batch variance (continuous and discrete time)", () => {
    for (const T of [0, 4]) {
      const process = new DiffusionProcess(schedule(), T);
      const levels = T === 0 ? U.map((t) => ({ t, gamma: gammaOf(t) })) : [1, 2, 3, 3, 4].map((i) => ({ t: i / 4, gamma: gammaOf(i / 4) }));
      const ends = textLossEnds(process);
      const ref = reference(5, levels, { t1: ends.first.t, gamma1: ends.first.gamma, gammaT: ends.priorGamma });
      const sums = ref.denoising.map((x, b) => x + ref.reconstruction[b]! + ref.prior[b]! + ref.rounding[b]!);
      const { ids, eps, u } = inputs(5);
      const table = () => (T === 0 ? np.zeros([0]) : exactArray(process.chain!.gamma));
      assertClose(read(textLoss(model, process, params(), ids.ref, eps.ref, u.ref, T === 0 ? null : table(), ends)), sums, {
        ...TOL,
        label: `loss, T = ${T}`,
      });
      const { loss, variance, grads } = textObjective(model, process)(params(), { x0: ids, eps, u, table: table(), labels: np.zeros([5]) });
      tree.dispose(grads);
      const mean = sums.reduce((a, x) => a + x, 0) / 5;
      const unbiased = sums.reduce((a, x) => a + (x - mean) ** 2, 0) / 4;
      assertClose([...read(loss), ...read(variance)], [mean, unbiased], { ...TOL, label: `objective, T = ${T}` });
    }
  });

  it("passes the ends it is given: the t = 0 term and the rounding read x_1 at `first`, the prior term γ_T at `priorGamma`", () => {
    const process = new DiffusionProcess(schedule(), 0);
    const ends: TextLossEnds = { first: { t: 0.2, gamma: -1 }, priorGamma: 1.5 };
    const { ids, eps, u } = inputs(5);
    const terms = textLossTerms(model, process, params(), ids, eps, u, null, ends);
    const ref = reference(
      5,
      U.map((t) => ({ t, gamma: gammaOf(t) })),
      { t1: 0.2, gamma1: -1, gammaT: 1.5 },
    );
    for (const key of ["reconstruction", "prior", "rounding"] as const) assertClose(read(terms[key]), ref[key], { ...TOL, label: key });
    tree.dispose([terms.denoising]);
  });
});
