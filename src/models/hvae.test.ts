/**
 * The HVAE kind: its config from the data and options, the shapes of its parameters, layers and
 * noise, and the gradient of its −ELBO (float64 on `cpu`) against central finite differences.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { exactArray, Rng } from "../engine/index.js";
import { type Array, grad, numpy as np, tree } from "../engine/jax.js";
import { ConfigError } from "../errors.js";
import { hvaeNegativeElbo, markovianHvaeElbo } from "../hvae/elbo.js";
import { assertClose, useEngine } from "../testing/helpers.js";
import { type HvaeConfig, type HvaeParams, hvaeKind, initHvae } from "./hvae.js";

useEngine("cpu");

const config: HvaeConfig = hvaeKind.configure!({ spec: "moons", dim: 2 }, { levels: 3, hidden: 5, layers: 2 });
/** Fresh parameters as float64 arrays (same values as `initHvae` draws). */
const params64 = (c: HvaeConfig, seed: number): HvaeParams =>
  tree.map((p: Array) => exactArray(p.ref.dataSync() as Float32Array).reshape(p.shape), initHvae(c, new Rng(seed))) as HvaeParams;

describe("the hvae kind", () => {
  it("configures T levels of MLP Gaussians from the options (widths as the MLP's), images with their shape", () => {
    assert.deepEqual(config, { dim: 2, levels: 3, hidden: 5, layers: 2 });
    assert.deepEqual(hvaeKind.configure!({ spec: "moons", dim: 2 }, {}), { dim: 2, levels: 4, hidden: 128, layers: 3 });
    const image = hvaeKind.configure!({ spec: "fashion-mnist", dim: 784, shape: [28, 28, 1] }, { levels: 2 });
    assert.deepEqual(image.shape, [28, 28, 1]);
    assert.throws(() => hvaeKind.configure!({ spec: "moons", dim: 2, classes: 2 }, {}), ConfigError);
    assert.deepEqual(hvaeKind.noiseShape!(config), [3, 2]);
    assert.equal(hvaeKind.objective, "hvae");
  });

  it("initialises T encoders and T decoders of L layers and a (μ, log σ²) head; γ only for images", () => {
    const p = initHvae(config, new Rng(0));
    for (const layer of [...p.encoders, ...p.decoders]) {
      assert.deepEqual(
        layer.hidden.map((d) => d.w.shape),
        [
          [2, 5],
          [5, 5],
        ],
      );
      assert.deepEqual(layer.output.w.shape, [5, 4]);
    }
    assert.equal(p.encoders.length, 3);
    assert.equal(p.decoders.length, 3);
    assert.equal(p.gamma, undefined);
    const image = initHvae({ ...config, dim: 4, shape: [2, 2, 1] }, new Rng(0));
    assert.deepEqual(image.gamma!.shape, [1]);
    tree.dispose([p, image]);
  });

  it("builds layers whose mean and log-variance are [B, D]; the discretised decoder needs γ", () => {
    const p = params64(config, 1);
    const hvae = hvaeKind.hvae!(config).build(p, "gaussian");
    const q = hvae.encoders[2]!(exactArray([0.1, 0.2, -0.3, 0.4, 0.5, -0.6]).reshape([3, 2]));
    assert.deepEqual(
      [q.mean.shape, q.logVar.shape],
      [
        [3, 2],
        [3, 2],
      ],
    );
    assert.throws(() => hvaeKind.hvae!(config).build(p, "discretized"), ConfigError);
    tree.dispose([p, q]);
  });

  it("its −ELBO's gradient in every weight matrix matches central differences", () => {
    const p = params64(config, 2);
    const x = exactArray([0.3, -1.1, 1.4, 0.2, -0.5, 0.9]).reshape([3, 2]);
    const eps = [0, 1, 2].map((t) => exactArray([0.5 - t, 0.1 * t, -0.7, 1.2, 0.3 * t, -0.4]).reshape([3, 2]));
    const network = hvaeKind.hvae!(config);
    const loss = (q: HvaeParams) => {
      const value = np.mean(
        hvaeNegativeElbo(
          markovianHvaeElbo(
            network.build(q, "gaussian"),
            x.ref,
            eps.map((e) => e.ref),
          ),
        ),
      );
      tree.dispose(q);
      return value;
    };
    const g = grad(loss)(tree.ref(p)) as HvaeParams;
    const at = (q: HvaeParams) => (loss(q).dataSync() as Float64Array)[0]!;
    const h = 1e-6;
    // one entry of each level's first encoder layer, decoder head and a hidden layer
    const probes: [(q: HvaeParams) => Array, number][] = [
      [(q) => q.encoders[0]!.hidden[0]!.w, 3],
      [(q) => q.encoders[2]!.hidden[1]!.w, 7],
      [(q) => q.decoders[0]!.output.w, 1],
      [(q) => q.decoders[0]!.output.w, 6],
      [(q) => q.decoders[1]!.hidden[0]!.w, 4],
      [(q) => q.decoders[2]!.output.b, 2],
    ];
    for (const [pick, i] of probes) {
      const shifted = (delta: number) => {
        const q = tree.map((a: Array) => a.ref.add(0), p) as HvaeParams;
        const w = pick(q);
        const values = Float64Array.from(w.ref.dataSync() as Float64Array);
        values[i]! += delta;
        const target = exactArray(values).reshape(w.shape);
        return tree.map((a: Array) => {
          if (a !== w) return a;
          a.dispose();
          return target;
        }, q) as HvaeParams;
      };
      const fd = (at(shifted(h)) - at(shifted(-h))) / (2 * h);
      const analytic = (pick(g).ref.dataSync() as Float64Array)[i]!;
      // central differences in float64: error O(h²) ≈ 1e-12 plus rounding ≈ 1e-10/h ≈ 1e-4 relative at worst
      assertClose([analytic], [fd], { rtol: 1e-5, atol: 1e-8, label: `probe ${i}` });
    }
    tree.dispose([p, g, x, eps]);
  });
});
