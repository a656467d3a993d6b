/**
 * A trained NCSN-style score model against baselines on held-out noised data. It trains a small
 * network, so the mutation runs leave this file out; langevin.test.ts holds the exact checks.
 */
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { loadSplit } from "../data/index.js";
import { fitNormalization, normalize } from "../data/normalize.js";
import { Rng } from "../engine/index.js";
import { numpy as np, tree } from "../engine/jax.js";
import { useEngine } from "../testing/helpers.js";
import { buildModel, buildProcess } from "../train/build.js";
import { makeRunConfig } from "../train/defaults.js";
import { train } from "../train/trainer.js";
import { gammaOfSigma, veScore } from "./score.js";

useEngine("wasm");

describe("an NCSN-style score model", () => {
  it("trained briefly on moons, beats the zero score and the Gaussian-fit score on held-out noised data", () => {
    const split = loadSplit("moons", 0, { train: 5000, test: 1000 });
    const z = fitNormalization(split.train);
    const config = makeRunConfig(
      { spec: "moons", dim: 2, ...z, train: split.train.n, test: split.test.n },
      { architecture: "ncsn", steps: 800, seed: 1 },
    );
    const { state } = train(config, split.train, { checkpointDir: mkdtempSync(join(tmpdir(), "vdm-ncsn-")) });
    const process = buildProcess(config);
    const model = buildModel(config);
    const x0 = normalize(split.test.points, z);
    const n = split.test.n;
    const rng = new Rng(9);
    for (const sigma of [0.1, 0.3, 1]) {
      // σ̃²-weighted score error per point, ‖σ̃ s + ε‖², x̃ = x_0 + σ̃ ε (normalised coordinates)
      const eps = rng.normal([n, 2]).dataSync() as Float32Array;
      const xt = Float32Array.from(x0, (v, i) => v + sigma * eps[i]!);
      const gamma = gammaOfSigma(sigma);
      const s = veScore(
        model,
        tree.ref(state.ema),
        np.array(xt).reshape([n, 2]),
        np.full([n], process.timeOfGamma(gamma)),
        np.full([n], gamma),
      ).dataSync() as Float32Array;
      const perPoint = (score: (i: number) => number) =>
        Float64Array.from(
          { length: n },
          (_, p) => (sigma * score(2 * p) + eps[2 * p]!) ** 2 + (sigma * score(2 * p + 1) + eps[2 * p + 1]!) ** 2,
        );
      const trained = perPoint((i) => s[i]!);
      const baselines = { zero: perPoint(() => 0), gaussian: perPoint((i) => -xt[i]! / (1 + sigma * sigma)) }; // N(0, (1 + σ̃²) I)
      for (const [name, base] of Object.entries(baselines)) {
        // paired difference: its mean must be below zero by 3 standard errors
        const diff = trained.map((v, p) => v - base[p]!);
        const mean = diff.reduce((a, b) => a + b, 0) / n;
        const se = Math.sqrt(diff.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1) / n);
        assert.ok(mean + 3 * se < 0, `σ̃ = ${sigma}: trained − ${name} = ${mean} ± ${se}`);
      }
    }
  });
});
