/**
 * Guided predictions against their closed forms, point by point in float64 (exact cpu device): for a
 * Gaussian mixture the oracle's conditional score at label y is component y's, −(x − α μ_y)/(α² λ_y + σ²),
 * and its unconditional score the responsibility-weighted sum; both are written out here in plain JS.
 * Classifier-free guidance at w must give ε̃ = (1 + w)·ε_y − w·ε_∅ with ε = −σ·s, and classifier guidance
 * at γ_c (the oracle classifier's ∇ log p(y | x_t) being s_y − s) must give s + γ_c·(s_y − s), whatever
 * the base model's target.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { GaussianMixture } from "../densities/mixture.js";
import { mixtureParams, oracleClassifier, oracleModel } from "../densities/oracle.js";
import { targets } from "../diffusion/parameterization.js";
import { exactArray } from "../engine/index.js";
import { type Array, numpy as np } from "../engine/jax.js";
import { assertClose, useEngine } from "../testing/helpers.js";
import { cfgModel, classifierGuidedModel, conditionalModel } from "./guided.js";

useEngine("cpu");

const MIX: GaussianMixture = {
  weights: [0.2, 0.5, 0.3],
  means: [
    [-1.5, 0.5],
    [1, 1.2],
    [0.3, -1.4],
  ],
  variances: [
    [0.3, 0.8],
    [0.5, 0.1],
    [1.2, 0.4],
  ],
};
const K = MIX.weights.length;
// points, levels and labels all differ, so a guided model that mixes up examples or levels shows
const XT = [
  [-1.2, 0.9],
  [0.3, -0.2],
  [1.5, 0.4],
  [-0.4, -1.1],
  [0.8, 2.1],
];
const GAMMAS = [-4, -1, 0.5, 2, -2.5];
const LABELS = [1, 0, 2, 1, 2];

/** Component scores −(x − α μ_k)/v_k and responsibilities at x, γ, in float64. */
function exactScores(x: number[], gamma: number): { perComponent: number[][]; unconditional: number[]; sigma: number } {
  const alpha2 = 1 / (1 + Math.exp(gamma));
  const sigma2 = 1 / (1 + Math.exp(-gamma));
  const alpha = Math.sqrt(alpha2);
  const logJoint: number[] = [];
  const perComponent = MIX.means.map((mu, k) => {
    let lj = Math.log(MIX.weights[k]!);
    const s = mu.map((m, d) => {
      const v = alpha2 * MIX.variances[k]![d]! + sigma2;
      const r = x[d]! - alpha * m;
      lj -= 0.5 * ((r * r) / v + Math.log(2 * Math.PI * v));
      return -r / v;
    });
    logJoint.push(lj);
    return s;
  });
  const top = Math.max(...logJoint);
  const w = logJoint.map((l) => Math.exp(l - top));
  const z = w.reduce((a, b) => a + b, 0);
  const unconditional = [0, 1].map((d) => perComponent.reduce((acc, s, k) => acc + (w[k]! / z) * s[d]!, 0));
  return { perComponent, unconditional, sigma: Math.sqrt(sigma2) };
}

const read = (a: Array) => globalThis.Array.from(a.dataSync() as Float64Array);
const labels = () => np.array(Int32Array.from(LABELS), { dtype: np.int32 });
const inputs = (): [Array, Array, Array] => [
  exactArray(XT.flat()).reshape([XT.length, 2]),
  np.zeros([XT.length], { dtype: np.float64 }),
  exactArray(GAMMAS),
];

describe("guided predictions against the closed-form guided scores of a Gaussian mixture (float64)", () => {
  it("the conditional model is the oracle at each example's own label", () => {
    for (const target of targets) {
      const model = conditionalModel(oracleModel(target, K));
      assert.equal(model.target, target);
      assert.equal(model.classes, 0);
      const got = read(model.apply({ net: mixtureParams(MIX, np.float64), labels: labels() }, ...inputs()));
      const expected = read(oracleModel(target, K).apply(mixtureParams(MIX, np.float64), ...inputs(), labels()));
      assert.deepEqual(got, expected);
    }
    const eps = read(
      conditionalModel(oracleModel("score", K)).apply({ net: mixtureParams(MIX, np.float64), labels: labels() }, ...inputs()),
    );
    const expected = XT.flatMap((x, i) => exactScores(x, GAMMAS[i]!).perComponent[LABELS[i]!]!);
    // measured 4.4e-16
    assertClose(eps, expected, { rtol: 2e-15, atol: 2e-15, label: "conditional score" });
  });

  it("classifier-free guidance at w = 0.5 and 3: ε̃ = (1 + w)·ε_y − w·ε_∅, from every base target", () => {
    for (const w of [0.5, 3]) {
      const expected = XT.flatMap((x, i) => {
        const { perComponent, unconditional, sigma } = exactScores(x, GAMMAS[i]!);
        return [0, 1].map((d) => -sigma * ((1 + w) * perComponent[LABELS[i]!]![d]! - w * unconditional[d]!));
      });
      for (const target of targets) {
        const model = cfgModel(oracleModel(target, K));
        assert.equal(model.target, "eps");
        assert.equal(model.classes, 0);
        const got = read(model.apply({ net: mixtureParams(MIX, np.float64), labels: labels(), scale: exactArray([w]) }, ...inputs()));
        // measured 8e-15 absolute, 4e-15 relative (from x0: its conversion to ε divides by σ, 0.13 at γ = −4)
        assertClose(got, expected, { rtol: 4e-14, atol: 4e-14, label: `CFG w = ${w} from ${target}` });
      }
    }
  });

  it("classifier guidance at γ_c = 0, 0.5 and 2.5: s + γ_c·(s_y − s), from every base target", () => {
    for (const scale of [0, 0.5, 2.5]) {
      const expected = XT.flatMap((x, i) => {
        const { perComponent, unconditional } = exactScores(x, GAMMAS[i]!);
        return [0, 1].map((d) => unconditional[d]! + scale * (perComponent[LABELS[i]!]![d]! - unconditional[d]!));
      });
      for (const target of targets) {
        const model = classifierGuidedModel(oracleModel(target, K), oracleClassifier(K));
        assert.equal(model.target, "score");
        assert.equal(model.classes, 0);
        const params = {
          net: mixtureParams(MIX, np.float64),
          classifier: mixtureParams(MIX, np.float64),
          labels: labels(),
          scale: exactArray([scale]),
        };
        const got = read(model.apply(params, ...inputs()));
        // measured 2.1e-14 absolute, 2.7e-14 relative (from x0)
        assertClose(got, expected, { rtol: 1e-13, atol: 1e-13, label: `classifier guidance γ_c = ${scale} from ${target}` });
      }
    }
  });
});
