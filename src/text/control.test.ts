/**
 * The controls as model wrappers under every few-step sampler, on a small random network (the
 * mechanics; the trained run's numbers are in train.test.ts): clamping makes DDIM's and
 * DPM-Solver++'s samples exact word embeddings, guidance runs under every sampler and raises the
 * classifier's probability of the target, infilling keeps the fixed words.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Model } from "../diffusion/model.js";
import { DiffusionProcess } from "../diffusion/process.js";
import { Rng } from "../engine/index.js";
import { nn, numpy as np, tree } from "../engine/jax.js";
import { initTextNet, type TextNetConfig, type TextParams, textClassifier, textModel } from "../models/transformer.js";
import { AncestralSampler } from "../sample/ancestral.js";
import { DdimSampler } from "../sample/ddim.js";
import { DpmSolverSampler } from "../sample/dpm-solver.js";
import { EulerSampler } from "../sample/euler.js";
import { HeunSampler } from "../sample/heun.js";
import type { Sampler } from "../sample/sampler.js";
import { getSchedule } from "../schedule/index.js";
import { useEngine } from "../testing/helpers.js";
import { validateRunConfig } from "../train/config.js";
import { clampedModel, nearestTokens } from "./rounding.js";
import { sampleTextIds, type TextLM } from "./sample.js";
import { PAD, Tokenizer, UNK } from "./tokenizer.js";

useEngine("wasm");

const words = [PAD, UNK, "a", "b", "c", "d", "e", "f"];
const net: TextNetConfig = { words, length: 6, embedDim: 4, width: 16, layers: 1, heads: 2, timeEmbedding: 8 };
const process = new DiffusionProcess(getSchedule("sqrt"), 0);
const params = initTextNet(net, new Rng(1));
const lm: TextLM = {
  config: validateRunConfig({
    format: "vdm-run-1",
    data: { spec: "text:test", dim: 6, mean: [0], std: [1], train: 1, test: 0 },
    model: { kind: "text", text: net },
    target: "x0",
    loss: "simple",
    schedule: "sqrt",
    timesteps: 0,
    batch: 4,
    steps: 1,
    seed: 0,
    adam: { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, clipNorm: 1, warmup: 0, emaDecay: 0.99 },
    checkpointEvery: 1,
  }),
  net,
  model: textModel(net),
  params,
  process,
  tokenizer: new Tokenizer(words),
};
const samplers: [string, () => Sampler][] = [
  ["ddim", () => new DdimSampler(process, { steps: 6 })],
  ["dpm++2m", () => new DpmSolverSampler(process, { steps: 6 })],
  ["euler", () => new EulerSampler(process, { steps: 6 })],
  ["heun", () => new HeunSampler(process, { steps: 4 })],
  ["ancestral", () => new AncestralSampler(process, { steps: 6 })],
];

describe("clamping, guidance and infilling with the few-step samplers", () => {
  it("clamping: DDIM and DPM-Solver++ end exactly on word embeddings; every sampler gives finite samples", () => {
    const model = clampedModel(lm.model, (p: TextParams) => p.embedding!);
    for (const [name, make] of samplers) {
      const x = make().sample({ model, params }, [8, 6, 4], new Rng(2));
      const values = x.ref.dataSync() as Float32Array;
      assert.ok(values.every(Number.isFinite), name);
      if (name !== "ddim" && name !== "dpm++2m") {
        x.dispose();
        continue;
      }
      const snapped = np
        .matmul(nn.oneHot(nearestTokens(x.ref, params.embedding!.ref).reshape([48]), 8), params.embedding!.ref)
        .dataSync() as Float32Array;
      x.dispose();
      assert.deepEqual(Array.from(values), Array.from(snapped), `${name}: the samples are embedding rows`);
    }
  });

  it("guidance runs under every sampler and raises the classifier's probability of the target", () => {
    const clfNet = { ...net, outputs: 3 };
    const classifier = textClassifier(clfNet);
    const clfParams = initTextNet(clfNet, new Rng(5));
    const n = 48;
    // the classifier at the least noisy level, on the final samples (their embeddings)
    const targetProb = (ids: Int32Array) => {
      const x = np.matmul(nn.oneHot(np.array(ids, { dtype: np.int32 }), 8), params.embedding!.ref).reshape([n, 6, 4]);
      const p = nn.softmax(classifier.logits(tree.ref(clfParams), x, np.zeros([n]), np.full([n], -5)), -1).dataSync() as Float32Array;
      return Array.from({ length: n }, (_, k) => p[k * 3]!).reduce((a, b) => a + b, 0) / n;
    };
    // a denoiser that follows x_t (ε̂ = 0, so x̂_0 = x_t/α_t): guidance then moves what it returns
    const follower: TextLM = {
      ...lm,
      model: {
        target: "eps",
        classes: 0,
        apply: (p, xt, t, gamma) => {
          tree.dispose([p, t, gamma]);
          return np.zerosLike(xt);
        },
      } as Model<TextParams>,
    };
    for (const [name, make] of samplers) {
      const plain = sampleTextIds(follower, n, { rng: new Rng(3), sampler: make() });
      const guided = sampleTextIds(follower, n, {
        rng: new Rng(3),
        sampler: make(),
        control: { classifier, params: clfParams, label: 0, scale: 30, fluency: 0.5 },
      });
      assert.ok(
        guided.every((id) => id >= 0 && id < 8),
        name,
      );
      const [p0, p1] = [targetProb(plain), targetProb(guided)];
      assert.ok(p1 > p0, `${name}: p(target) ${p0.toFixed(3)} unguided, ${p1.toFixed(3)} guided`);
    }
  });

  it("infilling keeps every fixed word under every sampler", () => {
    const n = 6;
    const ids = new Int32Array(n * 6);
    const mask = new Float32Array(n * 6);
    for (let k = 0; k < n * 6; k++) {
      mask[k] = k % 3 === 0 ? 1 : 0;
      ids[k] = mask[k] ? 2 + (k % 6) : 0;
    }
    for (const [name, make] of samplers) {
      const out = sampleTextIds(lm, n, { rng: new Rng(4), sampler: make(), infill: { ids, mask } });
      for (let k = 0; k < n * 6; k++) if (mask[k]) assert.equal(out[k], ids[k], `${name}: position ${k}`);
    }
  });
});
