/**
 * A shared time (`Model.sharedTime`): the MLP at t [1] predicts what it predicts at the same t
 * repeated for every example, and samplers that pass one time per level (ancestral, and the ODE
 * samplers through `predictX0`) draw the same samples as with the time repeated, in jax-js and in
 * ONNX Runtime (whose exported network and compiled steps take either).
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import type { Model } from "../diffusion/model.js";
import { DiffusionProcess } from "../diffusion/process.js";
import { filled, Rng } from "../engine/index.js";
import { type Array, tree } from "../engine/jax.js";
import { initMlp, type MlpConfig, type MlpParams, mlpModel } from "../models/mlp.js";
import { onnxModel } from "../onnx/model.js";
import { getSchedule } from "../schedule/index.js";
import { assertClose, useEngine } from "../testing/helpers.js";
import { AncestralSampler } from "./ancestral.js";
import { DdimSampler } from "./ddim.js";
import type { Sampler } from "./sampler.js";

useEngine("wasm");

const config: MlpConfig = { dim: 2, hidden: 32, layers: 3, timeEmbedding: 16, fourierFeatures: 0, fourierScale: 1, fourierSeed: 0 };
const params = initMlp(config, new Rng(3));
const shared = mlpModel(config, "eps");
/** The same network, asked with the time repeated per example (as every model is without the flag). */
const repeated: Model<MlpParams> = { ...shared, sharedTime: false };
const process = new DiffusionProcess(getSchedule("cosine"), 1000);
const values = (a: Array) => Float32Array.from(a.dataSync() as Float32Array);
const opened: { close(): void }[] = [];
after(() => opened.forEach((m) => m.close()));

describe("a time shared by the batch", () => {
  it("the MLP predicts at t [1] what it predicts at t repeated", () => {
    const x = new Rng(1).normal([64, 2]);
    const at = (t: Array) => values(shared.apply(tree.ref(params), x.ref, t, filled(64, 0.5)));
    const one = at(filled(1, 0.37));
    const many = at(filled(64, 0.37));
    x.dispose();
    assertClose(one, many, { rtol: 1e-6, atol: 1e-7, label: "prediction" });
    // and the time matters: another t moves the prediction far beyond that tolerance
    const other = values(shared.apply(tree.ref(params), new Rng(1).normal([64, 2]), filled(1, 0.9), filled(64, 0.5)));
    const moved = Math.max(...one.map((v, i) => Math.abs(v - other[i]!)));
    if (!(moved > 1e-3)) throw new Error(`t changed the prediction by only ${moved}`);
  });

  const samplers: [string, () => Sampler][] = [
    ["ancestral", () => new AncestralSampler(process, { steps: 50 })],
    ["DDIM (through predictX0)", () => new DdimSampler(process, { steps: 20 })],
  ];
  for (const [name, make] of samplers) {
    it(`${name}: the same samples with the time shared or repeated, in jax-js and in ONNX Runtime`, () => {
      const draw = (model: Model<MlpParams>) => values(make().sample({ model, params }, [256, 2], new Rng(7)));
      // the times the network is asked at: one for the batch when it takes a shared time, else one per example
      const asked = (model: Model<MlpParams>) => {
        const sizes = new Set<number>();
        const apply = (p: MlpParams, x: Array, t: Array, g: Array) => {
          sizes.add(t.shape[0]!);
          return model.apply(p, x, t, g);
        };
        return { samples: draw({ ...model, apply }), sizes: [...sizes] };
      };
      const [a, b] = [asked(shared), asked(repeated)];
      assert.deepEqual([a.sizes, b.sizes], [[1], [256]]);
      const jax = a.samples;
      assertClose(jax, b.samples, { rtol: 1e-5, atol: 1e-5, label: "jax-js samples" });
      const onnxShared = onnxModel(shared, params);
      const onnxRepeated = onnxModel(repeated, params);
      opened.push(onnxShared, onnxRepeated);
      if (!onnxShared.sharedTime || onnxRepeated.sharedTime) throw new Error("onnxModel does not keep sharedTime");
      const onnx = draw(onnxShared);
      assertClose(onnx, draw(onnxRepeated), { rtol: 1e-5, atol: 1e-5, label: "ONNX samples" });
      assertClose(onnx, jax, { rtol: 1e-3, atol: 1e-3, label: "ONNX against jax-js" });
    });
  }

  it("an ONNX model's own forward pass takes a shared time too", () => {
    const model = onnxModel(shared, params);
    opened.push(model);
    const x = new Rng(2).normal([16, 2]);
    const one = values(model.apply(tree.ref(params), x.ref, filled(1, 0.2), filled(16, 0)));
    const many = values(model.apply(tree.ref(params), x, filled(16, 0.2), filled(16, 0)));
    assertClose(one, many, { rtol: 1e-6, atol: 1e-7, label: "prediction" });
  });
});
