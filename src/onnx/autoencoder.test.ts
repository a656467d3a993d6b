/**
 * The autoencoder in ONNX Runtime against jax-js: q(z|x) and p(x|z) exported as graphs (run in NCHW
 * inside, as the U-Net) give jax-js's values, and training steps taken in ONNX Runtime give jax-js's
 * losses, which fall over a short run on the bundled Fashion-MNIST subset.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { bundledFashionMnist } from "../data/images.js";
import { loadSplit } from "../data/index.js";
import { Rng } from "../engine/index.js";
import { type Array, tree } from "../engine/jax.js";
import { assertClose, useEngine } from "../testing/helpers.js";
import { buildAutoencoder, initParams } from "../train/build.js";
import { runConfigFor } from "../train/defaults.js";
import { train } from "../train/trainer.js";
import { exportOnnxOutputs } from "./export.js";
import { OnnxSession, toHost } from "./runtime.js";
import { onnxStepper } from "./train.js";

useEngine("wasm");

const split = loadSplit("fashion-mnist", 0, { train: 0, test: 0, dataDir: bundledFashionMnist });
const config = runConfigFor(
  "fashion-mnist",
  split,
  { architecture: "autoencoder", unet: { base: 8 }, autoencoder: { latent: [7, 7, 2] }, steps: 30, batch: 16, lr: 3e-3, seed: 3 },
  { dataDir: bundledFashionMnist },
);

/** `f` of one input `x` of `shape`, exported and run in ONNX Runtime at `value`: its outputs. */
function inOnnx(f: (x: Array) => Array[], shape: number[], value: Array): Float32Array[] {
  const session = new OnnxSession(exportOnnxOutputs(f, [{ name: "x", shape }], ["a", "b"]), { threads: 1 });
  try {
    return session.runOutputs({ x: toHost(value) }, ["a", "b"]).map((t) => t.data as Float32Array);
  } finally {
    session.close();
  }
}

describe("autoencoder in ONNX Runtime", () => {
  it("encode and decode exported to ONNX give jax-js's μ, log σ², x̂ and γ", () => {
    const ae = buildAutoencoder(config);
    const params = initParams(config, new Rng(1));
    // a trained-looking decoder: its output conv is zero at initialisation, so give it weights
    const p = params as { decoder: { output: { w: Array } } };
    p.decoder.output.w = p.decoder.output.w.add(new Rng(4).normal(p.decoder.output.w.shape).mul(0.1));
    const x = new Rng(2).normal([4, 28, 28, 1]);
    const z = new Rng(3).normal([4, 7, 7, 2]);
    const q = ae.encode(tree.ref(params), x.ref);
    const d = ae.decode(tree.ref(params), z.ref);
    const ours = [q.mean, q.logVar, d.mean, d.gamma].map((a) => a.dataSync() as Float32Array);
    const encoded = inOnnx(
      (v) => {
        const e = ae.encode(tree.ref(params), v);
        return [e.mean, e.logVar];
      },
      [4, 28, 28, 1],
      x,
    );
    const decoded = inOnnx(
      (v) => {
        const e = ae.decode(tree.ref(params), v);
        return [e.mean, e.gamma];
      },
      [4, 7, 7, 2],
      z,
    );
    tree.dispose(params);
    ["μ", "log σ²", "x̂", "γ"].forEach((name, k) => {
      assertClose([...encoded, ...decoded][k]!, ours[k]!, { rtol: 1e-4, atol: 1e-5, label: name });
    });
  });

  it("training steps in ONNX Runtime give jax-js's losses, and the loss falls", () => {
    const ours = train(config, split.train);
    const theirs = train(config, split.train, { makeStepper: onnxStepper({ threads: 1 }) });
    assertClose(theirs.state.losses, ours.state.losses, { rtol: 1e-4, label: "losses" });
    const mean = (a: ArrayLike<number>) => globalThis.Array.from(a).reduce((s, v) => s + v, 0) / a.length;
    const [first, last] = [mean(ours.state.losses.slice(0, 5)), mean(ours.state.losses.slice(-5))];
    assert.ok(last < 0.5 * first, `loss ${first.toFixed(0)} → ${last.toFixed(0)} nats per image over ${config.steps} steps`);
  });
});
