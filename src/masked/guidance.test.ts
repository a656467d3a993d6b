/**
 * Guidance of masked diffusion with exact parts: a conditional oracle (one distribution per class,
 * "no label" = their mixture) for classifier-free guidance, and a classifier whose log p(y = 0 | z)
 * is affine in the one-hot z, so that the first-order estimate of classifier guidance is exact and
 * its logits must equal Bayes' reweighting computed by brute force.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Rng } from "../engine/index.js";
import { type Array as JaxArray, type JsTree, nn, numpy as np } from "../engine/jax.js";
import { assertClose, useEngine } from "../testing/helpers.js";
import { conditionalOracleDenoiser, oracleDenoiser, type SequenceDistribution } from "../testing/masked-oracle.js";
import type { MaskedClassifier, MaskedDenoiser } from "./denoiser.js";
import { classifierFreeGuided, classifierGuided } from "./guidance.js";
import { oneHotRows } from "./sampler.js";
import { maskedSamplerByName, maskedSamplerNames } from "./samplers.js";
import { allMasked } from "./start.js";

useEngine();

const distribution = (rows: number[][], probabilities: number[]): SequenceDistribution => ({
  vocabulary: 4,
  length: 3,
  sequences: rows.map((s) => Int32Array.from(s)),
  probabilities,
});
/** Two classes sharing the sequence [1, 1, 2]; "no label" is their even mixture. */
const parts = [
  distribution(
    [
      [0, 1, 2],
      [0, 2, 1],
      [1, 1, 2],
    ],
    [0.5, 0.2, 0.3],
  ),
  distribution(
    [
      [3, 1, 1],
      [3, 3, 0],
      [1, 1, 2],
    ],
    [0.5, 0.2, 0.3],
  ),
];
const [V, L] = [4, 3];
const conditional = conditionalOracleDenoiser(parts, [0.5, 0.5]);

/** p(y = 0 | x) under the even mixture: 1 for sequences of class 0 only, 1/2 for the shared one, 0 for the others (outside the support too). */
function posterior0(ids: Int32Array, b: number): number {
  const key = ids.subarray(b * L, (b + 1) * L).join(",");
  const mass = parts.map((d) => d.probabilities[d.sequences.findIndex((s) => s.join(",") === key)] ?? 0);
  return mass[0]! > 0 ? mass[0]! / (mass[0]! + mass[1]!) : 0;
}

/** Mean and standard error of f over the n rows. */
function share(ids: Int32Array, n: number, f: (ids: Int32Array, b: number) => number): { mean: number; se: number } {
  const values = Array.from({ length: n }, (_, b) => f(ids, b));
  const mean = values.reduce((a, v) => a + v, 0) / n;
  return { mean, se: Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1) / n) };
}

function sample<P extends JsTree<JaxArray>>(name: string, denoiser: MaskedDenoiser<P>, params: P, n: number, label: number, seed: number) {
  const labels = new Int32Array(n).fill(label);
  return maskedSamplerByName(name).sample({ denoiser, params, z: allMasked(n, L, V), n, length: L, labels }, new Rng(seed), { steps: 16 })
    .ids;
}

describe("classifier-free guidance", () => {
  for (const name of maskedSamplerNames) {
    it(`${name}: w = 0 samples as the conditional denoiser; w = 3 raises the target class's share`, () => {
      const n = 3000;
      const plain = sample(name, conditional, {}, n, 0, 1);
      assert.deepEqual(sample(name, classifierFreeGuided(conditional, 0), {}, n, 0, 1), plain);
      const before = share(plain, n, posterior0);
      const after = share(sample(name, classifierFreeGuided(conditional, 3), {}, n, 0, 2), n, posterior0);
      assert.ok(after.mean > before.mean + 4 * Math.hypot(before.se, after.se), `${before.mean} → ${after.mean}`);
    });
  }
});

/** log p(y = 0 | z) = u(z) = Σ_ℓ A[ℓ, z_ℓ] (A < 0), class 1 the rest: logits [u, log(1 − e^u)]. */
function affineClassifier(): MaskedClassifier<{ a: JaxArray }> {
  return {
    classes: 2,
    logits(params, z) {
      const B = z.shape[0]!;
      const u = np.matmul(z.reshape([B, L * (V + 1)]), params.a.reshape([L * (V + 1), 1]));
      return np.concatenate([u.ref, np.log(np.negative(np.expm1(u)))], 1);
    },
  };
}
/** A [L, V + 1]: position 0 favours word 0 (and disfavours the others), positions 1 and 2 prefer word 1 mildly. */
const A = Float32Array.from([-0.05, -3, -3, -3, -1, -0.4, -0.1, -0.6, -0.5, -0.3, -0.2, -0.7, -0.2, -0.9, -0.4]);
const classifier = affineClassifier();
const params = () => ({ denoiser: {}, classifier: { a: np.array(A) } });

describe("classifier guidance", () => {
  const small = distribution(
    [
      [0, 1, 2],
      [0, 2, 1],
      [3, 1, 1],
      [3, 3, 0],
      [1, 1, 2],
    ],
    [0.3, 0.1, 0.25, 0.15, 0.2],
  );
  const oracle = oracleDenoiser(small);

  it("with a classifier affine in the one-hot z, its logits are Bayes' reweighting p(x_ℓ | z) p(y | z^{ℓ←v})^S", () => {
    const rows = [Int32Array.of(V, V, V), Int32Array.of(V, 1, V), Int32Array.of(0, V, V), Int32Array.of(3, V, 1)];
    const S = 1.5;
    const z = Int32Array.from(rows.flatMap((r) => [...r]));
    const all = rows.map((_, b) => b);
    const guided = nn
      .softmax(
        classifierGuided(oracle, classifier, S).logits(params(), oneHotRows(z, all, L, V), np.zeros([rows.length], { dtype: np.int32 })),
        -1,
      )
      .dataSync() as Float32Array;
    const base = nn.softmax(oracle.logits({}, oneHotRows(z, all, L, V)), -1).dataSync() as Float32Array;
    rows.forEach((row, b) => {
      for (let l = 0; l < L; l++) {
        const at = (b * L + l) * V;
        if (row[l] !== V) {
          assertClose(guided.subarray(at, at + V), base.subarray(at, at + V), { atol: 1e-6, label: `unmasked ${b},${l}` });
          continue;
        }
        // brute force: the classifier on z with z_ℓ ← v for every word v
        const edited = Int32Array.from({ length: V * L }, (_, i) => (i % L === l ? Math.floor(i / L) : row[i % L]!));
        const logp0 = nn
          .logSoftmax(classifier.logits({ a: np.array(A) }, oneHotRows(edited, [0, 1, 2, 3], L, V)), -1)
          .dataSync() as Float32Array;
        const weights = Array.from({ length: V }, (_, v) => base[at + v]! * Math.exp(S * logp0[2 * v]!));
        const total = weights.reduce((a, w) => a + w, 0);
        assertClose(
          guided.subarray(at, at + V),
          weights.map((w) => w / total),
          { atol: 1e-5, label: `row ${b}, position ${l}` },
        );
      }
    });
  });

  it("'no label' rows are not guided", () => {
    const z = allMasked(1, L, V);
    const guided = classifierGuided(oracle, classifier, 2).logits(
      params(),
      oneHotRows(z, [0], L, V),
      np.array(Int32Array.of(2), { dtype: np.int32 }),
    );
    const base = nn.logSoftmax(oracle.logits({}, oneHotRows(z, [0], L, V)), -1);
    assertClose(guided.dataSync() as Float32Array, base.dataSync() as Float32Array, { atol: 1e-6 });
  });

  for (const name of maskedSamplerNames) {
    it(`${name}: guided samples carry the target attribute (first word 0) more often`, () => {
      const n = 2000;
      const firstIsZero = (ids: Int32Array, b: number) => (ids[b * L] === 0 ? 1 : 0);
      const plain = maskedSamplerByName(name).sample({ denoiser: oracle, params: {}, z: allMasked(n, L, V), n, length: L }, new Rng(3), {
        steps: 16,
      });
      const before = share(plain.ids, n, firstIsZero);
      const after = share(sample(name, classifierGuided(oracle, classifier, 2), params(), n, 0, 4), n, firstIsZero);
      assert.ok(after.mean > before.mean + 4 * Math.hypot(before.se, after.se), `${before.mean} → ${after.mean}`);
    });
  }
});
