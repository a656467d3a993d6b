/**
 * The masked-diffusion transformer: its parameters' shapes, what its logits read (every token,
 * masked or not, at every position; the label, "no label" included), that it refuses missing or
 * unexpected labels, that its gradient compiles under jit (one-hot products, no gather), and the
 * classifier of masked tokens.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Rng } from "../engine/index.js";
import { type Array, grad, jit, nn, numpy as np, tree } from "../engine/jax.js";
import { ConfigError } from "../errors.js";
import { useEngine } from "../testing/helpers.js";
import { initMaskedNet, type MaskedParams, maskedClassifier, maskedDenoiser } from "./masked-transformer.js";
import type { TextNetConfig } from "./transformer.js";

useEngine();

const words = ["<pad>", "<unk>", "a", "b", "c", "d"];
const V = words.length;
const L = 5;
const config: TextNetConfig = { words, length: L, embedDim: 16, width: 16, layers: 1, heads: 2, timeEmbedding: 2, classes: 3 };

/** One-hot z [1, L, V + 1] of the ids (V = [MASK]). */
const oneHot = (ids: number[]) => nn.oneHot(np.array(Int32Array.from(ids), { dtype: np.int32 }).reshape([1, L]), V + 1);
const label = (y: number) => np.array(Int32Array.from([y]), { dtype: np.int32 });

describe("the masked-diffusion transformer", () => {
  const params = initMaskedNet(config, new Rng(3));
  const denoiser = maskedDenoiser(config);
  const logits = (ids: number[], y: number) => denoiser.logits(tree.ref(params), oneHot(ids), label(y)).dataSync() as Float32Array;
  /** the largest |a − b| over position ℓ's V logits */
  const diffAt = (a: Float32Array, b: Float32Array, l: number) =>
    Math.max(...globalThis.Array.from({ length: V }, (_, v) => Math.abs(a[l * V + v]! - b[l * V + v]!)));

  it("has W_in [V + 1, W], classes + 1 label rows and logits over the V words only", () => {
    const p = params as MaskedParams;
    assert.deepEqual(p.input.w.shape, [V + 1, 16]);
    assert.deepEqual(p.label?.shape, [4, 16]);
    assert.deepEqual(p.output.w.shape, [16, V]);
    assert.equal(logits([2, 6, 3, 6, 0], 0).length, L * V);
  });

  it("reads every token at every position, masked ones included, and the label", () => {
    const base = logits([2, 6, 3, 6, 0], 1);
    const changedToken = logits([2, 6, 4, 6, 0], 1); // an unmasked token at position 2
    const unmasked = logits([2, 6, 3, 5, 0], 1); // position 3 no longer masked
    const otherLabel = logits([2, 6, 3, 6, 0], 3); // "no label"
    for (const l of [0, 1, 3, 4]) assert.ok(diffAt(base, changedToken, l) > 1e-4, `position ${l} reads position 2`);
    for (const l of [0, 1, 2, 4]) assert.ok(diffAt(base, unmasked, l) > 1e-4, `position ${l} reads position 3`);
    for (let l = 0; l < L; l++) assert.ok(diffAt(base, otherLabel, l) > 1e-4, `position ${l} reads the label`);
  });

  it("refuses a conditional forward without labels, and labels given to an unconditional one", () => {
    assert.throws(() => denoiser.logits(tree.ref(params), oneHot([2, 2, 2, 2, 2])), ConfigError);
    const plain = { ...config, classes: 0 };
    const p = initMaskedNet(plain, new Rng(0));
    assert.equal((p as MaskedParams).label, undefined);
    assert.throws(() => maskedDenoiser(plain).logits(p, oneHot([2, 2, 2, 2, 2]), label(0)), ConfigError);
  });

  it("differentiates under jit", () => {
    const loss = (p: MaskedParams, z: Array, y: Array) => np.sum(np.square(denoiser.logits(p, z, y)));
    const g = jit(grad(loss))(tree.ref(params) as MaskedParams, oneHot([2, 6, 3, 6, 0]), label(2));
    const inputGrad = g.input.w.ref.dataSync() as Float32Array;
    assert.ok(inputGrad.every(Number.isFinite) && inputGrad.some((v) => v !== 0));
    tree.dispose(g);
  });

  it("as a classifier of masked tokens: logits [B, outputs] that read every token", () => {
    const c = { ...config, classes: undefined, outputs: 4 } as TextNetConfig;
    const p = initMaskedNet(c, new Rng(1));
    const classifier = maskedClassifier(c);
    const z = nn.oneHot(np.array(Int32Array.from([2, 6, 3, 6, 0, 2, 6, 4, 6, 0]), { dtype: np.int32 }).reshape([2, L]), V + 1);
    const out = classifier.logits(p, z).dataSync() as Float32Array;
    assert.equal(out.length, 2 * 4);
    assert.ok(Math.max(...[0, 1, 2, 3].map((k) => Math.abs(out[k]! - out[4 + k]!))) > 1e-4);
    assert.equal(classifier.vocabulary, V);
  });
});
