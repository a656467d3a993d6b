/**
 * Schedules against independent references: the β-first definitions used by DDPM / improved
 * DDPM / diffusers (written here directly, not through γ), products of α's, and finite
 * differences for γ'.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { exactArray, Rng } from "../engine/index.js";
import { grad, numpy as np, tree } from "../engine/jax.js";
import { assertClose, useEngine } from "../testing/helpers.js";
import { discretize, gammaWithDerivative, getSchedule, initLearnedSchedule, learnedSchedule, scheduleNames, sigmoid } from "./index.js";

useEngine("wasm");

/** The reference chain from β's: ᾱ by plain products, β̃ by DDPM's formula. */
function chainFromBetas(betas: number[]) {
  const alphaBar: number[] = [];
  const posteriorVariance: number[] = [];
  let prod = 1;
  for (const b of betas) {
    const prev = prod;
    prod *= 1 - b;
    alphaBar.push(prod);
    posteriorVariance.push((b * (1 - prev)) / (1 - prod));
  }
  return { alphaBar, posteriorVariance, snr: alphaBar.map((a) => a / (1 - a)) };
}

function checkAgainst(name: string, T: number, betas: number[], rtol: number) {
  const d = discretize(getSchedule(name), T);
  const ref = chainFromBetas(betas);
  const tail = (a: Float64Array) => Array.from(a.subarray(1));
  assertClose(tail(d.beta), betas, { rtol, label: `${name} beta` });
  assertClose(
    tail(d.alpha),
    betas.map((b) => 1 - b),
    { rtol, label: `${name} alpha` },
  );
  assertClose(tail(d.alphaBar), ref.alphaBar, { rtol, label: `${name} alphaBar` });
  assertClose(tail(d.snr), ref.snr, { rtol, label: `${name} snr` });
  // β̃_1 = 0 exactly; the rest relative.
  assertClose(tail(d.posteriorVariance), ref.posteriorVariance, { rtol, atol: 1e-300, label: `${name} β̃` });
}

describe("discrete schedules match the standard β-first definitions", () => {
  it("linear: β = linspace(1e-4, 0.02, 1000)", () => {
    const T = 1000;
    const betas = Array.from({ length: T }, (_, i) => 1e-4 + ((0.02 - 1e-4) * i) / (T - 1));
    checkAgainst("linear", T, betas, 1e-9);
  });

  it("linear at T = 100 is DDPM's range rescaled by 1000/T", () => {
    const T = 100;
    const betas = Array.from({ length: T }, (_, i) => 10 * (1e-4 + ((0.02 - 1e-4) * i) / (T - 1)));
    checkAgainst("linear", T, betas, 1e-9);
  });

  it("cosine: β_i = min(1 − f(i/T)/f((i−1)/T), 0.999), f(t) = cos²((t+s)/(1+s)·π/2)", () => {
    const T = 1000;
    const f = (t: number) => Math.cos((((t + 0.008) / 1.008) * Math.PI) / 2) ** 2;
    const betas = Array.from({ length: T }, (_, i) => Math.min(1 - f((i + 1) / T) / f(i / T), 0.999));
    assert.equal(betas[T - 1], 0.999, "the last cosine β is clipped");
    checkAgainst("cosine", T, betas, 1e-9);
  });
  it("sqrt (Diffusion-LM): ᾱ_i = 1 − √(i/T + 1e-4) exactly, the last β clipped at 0.999", () => {
    const T = 2000;
    const alphaBar = (t: number) => 1 - Math.sqrt(t + 1e-4);
    // β-first: β_i = 1 − ᾱ(i/T)/ᾱ((i−1)/T) with ᾱ_0 = 1 (the data), clipped where ᾱ crosses 0
    const betas = Array.from({ length: T }, (_, i) =>
      Math.min(1 - Math.max(alphaBar((i + 1) / T), 1e-12) / (i === 0 ? 1 : alphaBar(i / T)), 0.999),
    );
    assert.equal(betas[T - 1], 0.999, "the last sqrt β is clipped");
    checkAgainst("sqrt", T, betas, 1e-8);
  });

  it("log-snr-linear: ᾱ_i = sigmoid(−γ(i/T)), γ from −13.3 to 5", () => {
    const T = 50;
    const alphaBar = Array.from({ length: T + 1 }, (_, i) => (i === 0 ? 1 : 1 / (1 + Math.exp(-13.3 + 18.3 * (i / T)))));
    const betas = alphaBar.slice(1).map((a, i) => 1 - a / alphaBar[i]!);
    checkAgainst("log-snr-linear", T, betas, 1e-9);
  });

  it("ᾱ_t is the product of the α's and γ = log((1 − ᾱ)/ᾱ) for every schedule", () => {
    for (const name of scheduleNames) {
      const d = discretize(getSchedule(name), 200);
      let prod = 1;
      for (let i = 1; i <= d.T; i++) {
        prod *= d.alpha[i]!;
        assert.ok(Math.abs(d.alphaBar[i]! - prod) <= 1e-12 * prod + 1e-300, `${name} ᾱ_${i}`);
        const g = Math.log((1 - d.alphaBar[i]!) / d.alphaBar[i]!);
        assert.ok(Math.abs(d.gamma[i]! - g) <= 1e-8 * Math.max(1, Math.abs(g)), `${name} γ_${i}`);
      }
      assert.equal(d.alphaBar[0], 1);
      assert.equal(d.posteriorVariance[1], 0, `${name}: q(x_0|x_1,x_0) is a point mass`);
    }
  });
});

describe("continuous γ(t)", () => {
  it("is strictly increasing on [tMin, tMax] for every schedule", () => {
    for (const name of scheduleNames) {
      const s = getSchedule(name);
      const n = 2001;
      const t = Array.from({ length: n }, (_, i) => s.tMin + ((s.tMax - s.tMin) * i) / (n - 1));
      const g = s.gamma(exactArray(t)).dataSync() as Float64Array;
      for (let i = 1; i < n; i++) assert.ok(g[i]! > g[i - 1]!, `${name}: γ(${t[i]}) ≤ γ(${t[i - 1]})`);
      assert.ok(Number.isFinite(g[0]!) && Number.isFinite(g[n - 1]!), `${name}: finite at the ends`);
    }
  });

  it("agrees with the discrete chain where the chain is defined from γ", () => {
    // cosine (unclipped steps) and log-snr-linear: γ_i = γ(i/T) exactly.
    for (const name of ["cosine", "log-snr-linear"]) {
      const T = 100;
      const d = discretize(getSchedule(name), T);
      const t = Array.from({ length: T - 1 }, (_, k) => (k + 1) / T);
      const g = getSchedule(name).gamma(exactArray(t)).dataSync() as Float64Array;
      assertClose(g, d.gamma.subarray(1, T), { rtol: 1e-9, atol: 1e-9, label: name });
    }
  });

  it("linear: the VP-SDE γ(t) is the T → ∞ limit of the linear-β chain (error O(1/T))", () => {
    // log ᾱ_chain = Σ log(1 − β_i) = −Σβ_i − Σβ_i²/2 − …, and −Σβ_i → −∫β: the gap is first order in 1/T.
    const s = getSchedule("linear");
    const ts = [0.1, 0.5, 1];
    const g = s.gamma(exactArray(ts)).dataSync() as Float64Array;
    const worst = (T: number) => {
      const d = discretize(s, T);
      return Math.max(...ts.map((t, k) => Math.abs(d.gamma[Math.round(t * T)]! - g[k]!)));
    };
    const e1 = worst(1000);
    const e2 = worst(10000);
    assert.ok(e2 < e1 / 5, `error should fall ~10× with 10× more steps: ${e1} -> ${e2}`);
    assert.ok(e2 < 0.01, `error at T = 10000: ${e2}`);
  });

  it("γ'(t) from forward-mode AD matches central differences (float64)", () => {
    for (const name of scheduleNames) {
      const s = getSchedule(name);
      const t = [0.05, 0.3, 0.7, 0.95].map((u) => s.tMin + (s.tMax - s.tMin) * u);
      const [, dg] = gammaWithDerivative(s, exactArray(t));
      const h = 1e-6;
      const gp = s.gamma(exactArray(t.map((u) => u + h))).dataSync() as Float64Array;
      const gm = s.gamma(exactArray(t.map((u) => u - h))).dataSync() as Float64Array;
      const fd = Array.from(gp, (v, i) => (v - gm[i]!) / (2 * h));
      assertClose(dg.dataSync() as Float64Array, fd, { rtol: 1e-6, label: `${name} γ'` });
    }
  });
});

describe("registry", () => {
  it("names the known schedules when asked for an unknown one", () => {
    assert.throws(
      () => getSchedule("quadratic"),
      /unknown schedule "quadratic" \(known: linear, cosine, log-snr-linear, geometric, sqrt\)/,
    );
  });
  it("rejects a non-integer or non-positive T", () => {
    assert.throws(() => discretize(getSchedule("cosine"), 0), /T >= 1, got 0/);
    assert.throws(() => discretize(getSchedule("cosine"), 2.5), /got 2.5/);
  });
});

describe("learned schedule", () => {
  it("is increasing with exact endpoints for random parameters, and γ' > 0 through jvp", () => {
    for (const seed of [1, 2, 3]) {
      const params = initLearnedSchedule("learned", new Rng(seed), { gammaMin: -10, gammaMax: 7, hidden: 64 });
      const s = learnedSchedule("learned", params);
      const n = 201;
      const t = Array.from({ length: n }, (_, i) => i / (n - 1));
      const g = s.gamma(np.array(t)).dataSync() as Float32Array;
      assertClose([g[0]!, g[n - 1]!], [-10, 7], { atol: 1e-4, label: `seed ${seed} endpoints` });
      for (let i = 1; i < n; i++) assert.ok(g[i]! > g[i - 1]!, `seed ${seed}: γ(${t[i]}) ≤ γ(${t[i - 1]})`);
      const [, dg] = gammaWithDerivative(s, np.array([0.1, 0.5, 0.9]));
      for (const v of dg.dataSync() as Float32Array) assert.ok(v > 0, `γ' = ${v}`);
      tree.dispose(params);
    }
  });
});

describe("sigmoid", () => {
  it("is accurate in both tails (float64) and has finite gradients where e^{−x} overflows (float32)", () => {
    const x = [-745, -60, -30, -1, 0, 2, 40, 800, Infinity, -Infinity];
    const got = sigmoid(exactArray(x)).dataSync() as Float64Array;
    const want = x.map((v) => (v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v))));
    assertClose(got, want, { rtol: 1e-15, label: "sigmoid" });
    const g = grad((v: np.Array) => np.sum(sigmoid(v)))(np.array([-200, -90, -10, 0, 10, 200])).dataSync() as Float32Array;
    for (const v of g) assert.ok(Number.isFinite(v), `sigmoid' = ${v}`);
    const s10 = 1 / (1 + Math.exp(10)); // sigmoid(−10); sigmoid' = sigmoid · (1 − sigmoid)
    assertClose([g[2]!, g[3]!], [s10 * (1 - s10), 0.25], { rtol: 1e-5, label: "sigmoid'" });
  });
});
