/**
 * Ancestral sampling with the exact oracle: sample moments and mode proportions against the
 * known data distribution, with tolerances of 5 standard errors for the sample size.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { knownMixture } from "../data/known.js";
import { mixtureParams, oracleModel } from "../densities/oracle.js";
import { DiffusionProcess } from "../diffusion/process.js";
import { Rng } from "../engine/index.js";
import { getSchedule } from "../schedule/index.js";
import { useEngine } from "../testing/helpers.js";
import { AncestralSampler, type AncestralVariance } from "./ancestral.js";

useEngine("wasm");

const N = 4000;

function draw(data: string, T: number, variance: AncestralVariance, target: "eps" | "x0" | "v" | "score" = "eps") {
  const sampler = new AncestralSampler(new DiffusionProcess(getSchedule("cosine"), T), { variance, steps: 500 });
  const x = sampler.sample({ model: oracleModel(target), params: mixtureParams(knownMixture(data)) }, [N, 2], new Rng(11));
  return x.dataSync() as Float32Array;
}

describe("ancestral sampler with the oracle", () => {
  for (const [T, variance, target] of [
    [1000, "posterior", "eps"],
    [1000, "beta", "v"],
    [0, "posterior", "x0"],
  ] as const) {
    it(`recovers the Gaussian's mean and covariance (T = ${T || "continuous, 500 steps"}, σ² = ${variance}, ${target})`, () => {
      const x = draw("gaussian", T, variance, target);
      const mu = [1, -0.5];
      const v = [0.36, 1.44];
      const m = [0, 1].map((d) => x.filter((_, i) => i % 2 === d).reduce((s, a) => s + a, 0) / N);
      const cov = [
        [0, 0],
        [0, 0],
      ];
      for (let i = 0; i < N; i++)
        for (const a of [0, 1]) for (const b of [0, 1]) cov[a]![b]! += ((x[2 * i + a]! - m[a]!) * (x[2 * i + b]! - m[b]!)) / (N - 1);
      for (const d of [0, 1]) {
        assert.ok(Math.abs(m[d]! - mu[d]!) < 5 * Math.sqrt(v[d]! / N), `mean[${d}] ${m[d]} vs ${mu[d]}`);
        assert.ok(Math.abs(cov[d]![d]! - v[d]!) < 5 * v[d]! * Math.sqrt(2 / (N - 1)), `var[${d}] ${cov[d]![d]} vs ${v[d]}`);
      }
      assert.ok(Math.abs(cov[0]![1]!) < 5 * Math.sqrt((v[0]! * v[1]!) / N), `covariance ${cov[0]![1]} vs 0`);
    });
  }

  it("puts 1/8 of the samples in each of the eight Gaussians", () => {
    const x = draw("eight-gaussians", 1000, "posterior");
    const { means } = knownMixture("eight-gaussians");
    const counts = new Array(8).fill(0);
    let far = 0;
    for (let i = 0; i < N; i++) {
      const dist = means.map(([a, b]) => Math.hypot(x[2 * i]! - a!, x[2 * i + 1]! - b!));
      const k = dist.indexOf(Math.min(...dist));
      counts[k]++;
      if (dist[k]! > 5 * 0.2) far++;
    }
    const tol = 5 * Math.sqrt(((1 / 8) * (7 / 8)) / N);
    counts.forEach((c, k) => assert.ok(Math.abs(c / N - 1 / 8) < tol, `mode ${k}: ${c / N} vs 0.125 ± ${tol}`));
    // beyond 5σ of every mode: about 4e-6 of a Gaussian's mass, so at most a handful
    assert.ok(far <= 4, `${far} samples are more than 5σ from every mode`);
  });
});
