/**
 * Diffusion-LM's bound against exact values. An oracle: L = 2 positions of V = 4 words, uniform and
 * independent, with orthogonal embeddings e_v = r·u_v, so the embeddings are point masses and the
 * exact denoiser E[e | z_t] is the mixture oracle (src/densities) with zero variances, applied per
 * position. Averaged over the words, the continuous-time bound with the exact denoiser is (I-MMSE)
 *
 *   E_w[bound] = H(w) + E KL(q(w | z_0) ‖ p_round(w | z_0)) + KL(q(z_1) ‖ N(0, I)),
 *
 * H(w) = L log V, so it lies above H(w) by a slack no larger than
 *   rounding: E[−log p_round(w | z_0)] ≤ L log(1 + (V − 1) e^{−r²(α_0 − σ_0²)})   (H(w | z_0) ≥ 0, then
 *             Jensen: (e_v − e_w)·z_0 = −α_0 r² + σ_0 r(ε_v − ε_w), E e^{(e_v − e_w)·z_0} = e^{−r²(α_0 − σ_0²)})
 *   prior:    KL(q(z_1) ‖ N(0, I)) ≤ E_w KL(q(z_1 | w) ‖ N(0, I)) = ½ L (α_1² (r² − d) + d softplus(−γ_1)).
 * The discrete bound (T steps) only adds the discretisation's gap, so it is never below H(w) either.
 * And a tiny trained Diffusion-LM on four equally likely sentences is never below log 4 per sentence.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { oracleModel } from "../densities/oracle.js";
import { ElboEstimator } from "../diffusion/elbo.js";
import type { Model } from "../diffusion/model.js";
import { DiffusionProcess } from "../diffusion/process.js";
import { Rng } from "../engine/index.js";
import { type Array, numpy as np } from "../engine/jax.js";
import { meanAndStdError } from "../eval/likelihood.js";
import type { TextParams } from "../models/transformer.js";
import { sqrtSchedule } from "../schedule/sqrt.js";
import { assertClose, useEngine } from "../testing/helpers.js";
import { sigmoid } from "../testing/reference.js";
import { train } from "../train/trainer.js";
import { diffusionLMBound, diffusionLMBoundTerms } from "./bound.js";
import { textRunConfig } from "./config.js";
import { tokenPoints } from "./data.js";
import { textLM } from "./sample.js";
import { Tokenizer } from "./tokenizer.js";

useEngine("wasm");

const V = 4,
  d = 4,
  L = 2,
  r = 3;
const H = L * Math.log(V);
const softplus = (x: number) => Math.log1p(Math.exp(x));

/** The exact denoiser of the point masses, position by position: the mixture oracle on [n·L, d]. */
const oracle: Model<{ logWeights: Array; means: Array; variances: Array }> = {
  target: "x0",
  classes: 0,
  apply(params, xt, t, gamma) {
    const n = xt.shape[0]!;
    const perPosition = (a: Array) =>
      a
        .reshape([n, 1])
        .mul(np.ones([1, L]))
        .reshape([n * L]);
    return oracleModel("x0")
      .apply(params, xt.reshape([n * L, d]), perPosition(t), perPosition(gamma))
      .reshape([n, L, d]);
  },
};
const embedding = () => np.eye(V).mul(r);
const oracleParams = () => ({ logWeights: np.full([V], -Math.log(V)), means: embedding(), variances: np.zeros([V, d]) });

/** The oracle's per-sentence bounds over `copies` copies of each of the V^L sentences, `draws` each. */
function oracleBounds(process: DiffusionProcess, copies: number, draws: number, seed: number): Float64Array {
  const rows = globalThis.Array.from({ length: V ** L * copies }, (_, k) => Math.floor(k / copies));
  const ids = np.array(Int32Array.from(rows.flatMap((s) => [s % V, Math.floor(s / V)])), { dtype: np.int32 }).reshape([rows.length, L]);
  const params = oracleParams();
  const E = embedding();
  const terms = diffusionLMBoundTerms(new ElboEstimator(oracle as Model, process, "gaussian"), params, E, ids, new Rng(seed), draws);
  E.dispose();
  for (const a of Object.values(params)) a.dispose();
  return terms.rounding.map((v, b) => v + terms.diffusion[b]! + terms.prior[b]!);
}

describe("Diffusion-LM's bound against exact values", () => {
  it("the exact denoiser of uniform independent words: continuous bound within the analytic slack above L log V", (t) => {
    const process = new DiffusionProcess(sqrtSchedule(), 0);
    const { mean, se } = meanAndStdError(oracleBounds(process, 256, 16, 1));
    const g0 = process.reconstructionLevel().gamma;
    const g1 = process.priorLevel().gamma;
    const roundingSlack = L * Math.log1p((V - 1) * Math.exp(-(r * r) * (Math.sqrt(sigmoid(-g0)) - sigmoid(g0))));
    const priorSlack = 0.5 * L * (sigmoid(-g1) * (r * r - d) + d * softplus(-g1));
    const slack = roundingSlack + priorSlack;
    t.diagnostic(`bound ${mean} ± ${se} nats, L log V = ${H}, slack ≤ ${slack}`);
    assert.ok(slack < 0.01, `the slack ${slack} is small`);
    assert.ok(mean >= H - 4 * se, `bound ${mean} ± ${se} below L log V = ${H}`);
    assert.ok(mean <= H + slack + 4 * se, `bound ${mean} ± ${se} above L log V + slack = ${H + slack}`);
    // a test that can fail: a term off by 10 % of L log V would be resolved
    assert.ok(4 * se < 0.1 * H, `standard error ${se}`);
  });

  it("the same in discrete time (T = 100, every step): never below L log V", (t) => {
    const { mean, se } = meanAndStdError(oracleBounds(new DiffusionProcess(sqrtSchedule(), 100), 16, 1, 2));
    t.diagnostic(`T = 100: bound ${mean} ± ${se} nats, L log V = ${H}`);
    assert.ok(mean >= H - 4 * se, `bound ${mean} ± ${se} below L log V = ${H}`);
  });

  it("a tiny trained Diffusion-LM on four equally likely sentences: never below log 4 per sentence", (t) => {
    const sentences = ["red fox runs", "blue cat sleeps", "red cat runs", "blue fox sleeps"];
    const corpus = { spec: "text:tiny", train: sentences, test: sentences, builtin: false };
    const tokenizer = Tokenizer.fromSentences(sentences);
    const config = textRunConfig(corpus, tokenizer, { steps: 300, width: 32, layers: 1, heads: 2, embedDim: 8, batch: 32 });
    const { state } = train(config, tokenPoints(tokenizer, sentences, 3));
    const lm = textLM(config, state.ema as TextParams);
    const copies = sentences.flatMap((s) => new globalThis.Array<string>(64).fill(s));
    const b = diffusionLMBound(lm, copies, { draws: 4, seed: 3 });
    t.diagnostic(
      `bound ${b.nats.mean} ± ${b.nats.se} nats (rounding ${b.terms.rounding.mean}, diffusion ${b.terms.diffusion.mean}, prior ${b.terms.prior.mean}), ${b.bitsPerToken.mean} bits/token`,
    );
    assert.ok(b.nats.mean >= Math.log(4) - 4 * b.nats.se, `bound ${b.nats.mean} ± ${b.nats.se} below log 4`);
    assert.deepEqual([b.sentences, b.length, b.draws, b.truncated], [256, 3, 4, 0]);
    const { rounding, diffusion, prior } = b.terms;
    assertClose([b.nats.mean], [rounding.mean + diffusion.mean + prior.mean], { rtol: 1e-12, label: "total" });
    assertClose(
      [b.bitsPerSentence.mean, b.bitsPerToken.mean, b.bitsPerToken.se],
      [b.nats.mean / Math.LN2, b.nats.mean / (3 * Math.LN2), b.nats.se / (3 * Math.LN2)],
      { rtol: 1e-12, label: "bits" },
    );
  });
});
