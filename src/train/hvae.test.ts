/**
 * The MLP Markovian HVAE trained on its −ELBO: the gradient is finite for every level count, and a
 * few hundred steps on a tiny 2-D set lower the loss.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Rng } from "../engine/index.js";
import { numpy as np, tree, valueAndGrad } from "../engine/jax.js";
import { markovianHvaeElbo } from "../hvae/elbo.js";
import { type HvaeMlpParams, hvaeOfMlp, initHvaeMlp } from "../models/hvae.js";
import { useEngine } from "../testing/helpers.js";
import { defaultAdam } from "./adam.js";
import { trainHvae } from "./hvae.js";

useEngine();

/** 64 points on two separated clusters in 2-D. */
function clusters(): Float32Array {
  const rng = new Rng(3);
  const noise = rng.normal([64, 2]).dataSync() as Float32Array;
  return Float32Array.from(noise, (v, i) => 0.2 * v + ((i >> 1) % 2 === 0 ? 1 : -1));
}

describe("MLP Markovian HVAE", () => {
  it("the −ELBO's gradient is finite for T = 1, 2, 3", () => {
    for (const T of [1, 2, 3]) {
      const rng = new Rng(T);
      const params = initHvaeMlp({ dim: 2, levels: T, hidden: 8 }, rng);
      const x = np.array(clusters()).reshape([64, 2]);
      const eps = Array.from({ length: T }, () => rng.normal([64, 2]));
      const loss = (p: HvaeMlpParams) => {
        const terms = markovianHvaeElbo(
          hvaeOfMlp(p),
          x.ref,
          eps.map((e) => e.ref),
        );
        tree.dispose(p);
        const total = terms.consistency.reduce((s, c) => s.add(c), terms.reconstruction.add(terms.prior));
        return np.mean(total);
      };
      const [value, grads] = valueAndGrad(loss)(params);
      const v = (value.dataSync() as Float32Array)[0]!;
      assert.ok(Number.isFinite(v), `T = ${T}: loss ${v}`);
      for (const g of tree.leaves(grads)) {
        assert.ok((g.dataSync() as Float32Array).every(Number.isFinite), `T = ${T}: a gradient is not finite`);
      }
      tree.dispose([x, eps]);
    }
  });

  it("training lowers the −ELBO on a tiny set", () => {
    const { params, losses } = trainHvae({
      config: { dim: 2, levels: 2, hidden: 16 },
      points: clusters(),
      steps: 300,
      batch: 32,
      seed: 0,
      adam: { ...defaultAdam, lr: 1e-2, warmup: 10 },
    });
    tree.dispose(params);
    const mean = (xs: Float32Array) => xs.reduce((s, v) => s + v, 0) / xs.length;
    const first = mean(losses.slice(0, 30));
    const last = mean(losses.slice(-30));
    assert.ok(losses.every(Number.isFinite));
    assert.ok(last < first - 0.3, `loss ${first} → ${last}`);
  });
});
