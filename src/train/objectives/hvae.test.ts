/**
 * The "hvae" objective in float64 on `cpu` against a reference written from the definitions: the
 * MLP Gaussians (silu layers, a (μ, log σ²) head), one path z_t = μ_φ(z_{t−1}) + σ_φ(z_{t−1}) ε_t with
 * ε_t = the batch noise's level t, and the −ELBO's terms (Gaussian decoder; or, for images, the
 * discretised 8-bit decoder at the bottom mean with the learned γ), the batch mean and variance.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { exactArray, Rng } from "../../engine/index.js";
import { type Array as JaxArray, numpy as np, tree } from "../../engine/jax.js";
import { type HvaeConfig, type HvaeParams, hvaeKind, initHvae } from "../../models/hvae.js";
import { assertClose, useEngine } from "../../testing/helpers.js";
import { hvaeObjective } from "./hvae.js";

useEngine("cpu");

type Layer = { hidden: { w: number[]; b: number[] }[]; output: { w: number[]; b: number[] } };
const read = (a: JaxArray) => [...(a.ref.dataSync() as Float64Array)];
const readLayer = (l: HvaeParams["encoders"][number]): Layer => ({
  hidden: l.hidden.map((d) => ({ w: read(d.w), b: read(d.b) })),
  output: { w: read(l.output.w), b: read(l.output.b) },
});

/** u W + b for row-major W [in, out]. */
const dense = (u: number[], w: number[], b: number[]) => b.map((bj, j) => u.reduce((s, v, i) => s + v * w[i * b.length + j]!, bj));
const silu = (v: number) => v / (1 + Math.exp(-v));
/** The MLP Gaussian of the reference: (μ, log σ²) of z. */
function gaussian(l: Layer, z: number[]): { mean: number[]; logVar: number[] } {
  const h = l.hidden.reduce((u, d) => dense(u, d.w, d.b).map(silu), z);
  const out = dense(h, l.output.w, l.output.b);
  return { mean: out.slice(0, z.length), logVar: out.slice(z.length) };
}
const logNormal = (u: number[], g: { mean: number[]; logVar: number[] }) =>
  u.reduce((s, v, k) => s - 0.5 * (Math.log(2 * Math.PI) + g.logVar[k]! + (v - g.mean[k]!) ** 2 / Math.exp(g.logVar[k]!)), 0);
const BINS = Array.from({ length: 256 }, (_, k) => (2 * k) / 255 - 1);
/** log p(x | x̂) of the discretised decoder: Σ_d log softmax_k(−½ e^{−γ}(x̂_d − x_k)²) at x_d's bin. */
function discretized(x: number[], xHat: number[], gamma: number): number {
  return x.reduce((s, v, d) => {
    const logits = BINS.map((c) => -0.5 * Math.exp(-gamma) * (xHat[d]! - c) ** 2);
    const top = Math.max(...logits);
    return s - 0.5 * Math.exp(-gamma) * (xHat[d]! - v) ** 2 - top - Math.log(logits.reduce((a, l) => a + Math.exp(l - top), 0));
  }, 0);
}

/** One example's −ELBO: reconstruction + Σ consistency + KL(q(z_T|z_{T−1}) ‖ N(0, I)); `gamma`: the discretised decoder's. */
function negativeElbo(p: HvaeParams, x: number[], eps: number[][], gamma?: number): number {
  const enc = p.encoders.map(readLayer);
  const dec = p.decoders.map(readLayer);
  const T = enc.length;
  const z = [x];
  const q = enc.map(() => ({ mean: [] as number[], logVar: [] as number[] }));
  for (let t = 1; t <= T; t++) {
    q[t - 1] = gaussian(enc[t - 1]!, z[t - 1]!);
    z.push(q[t - 1]!.mean.map((m, k) => m + Math.exp(0.5 * q[t - 1]!.logVar[k]!) * eps[t - 1]![k]!));
  }
  const bottom = gaussian(dec[0]!, z[1]!);
  let total = gamma === undefined ? -logNormal(x, bottom) : -discretized(x, bottom.mean, gamma);
  for (let t = 1; t < T; t++) total += logNormal(z[t]!, q[t - 1]!) - logNormal(z[t]!, gaussian(dec[t]!, z[t + 1]!));
  const top = q[T - 1]!;
  return top.mean.reduce((s, m, k) => s + 0.5 * (Math.exp(top.logVar[k]!) + m * m - 1 - top.logVar[k]!), total);
}

/** The objective's loss and variance on B examples, and the reference's. */
function compare(config: HvaeConfig, x: number[][], decoder: "gaussian" | "discretized", seed: number) {
  const { dim: D, levels: T } = config;
  const B = x.length;
  const p = tree.map(
    (a: JaxArray) => exactArray(a.ref.dataSync() as Float32Array).reshape(a.shape),
    initHvae(config, new Rng(seed)),
  ) as HvaeParams;
  const eps = Array.from({ length: B }, (_, b) =>
    Array.from({ length: T }, (_, t) => Array.from({ length: D }, (_, d) => Math.sin(1 + b + 3 * t + 7 * d))),
  );
  const shape = config.shape ? [B, ...config.shape] : [B, D];
  const batch = {
    x0: exactArray(x.flat()).reshape(shape),
    eps: exactArray(eps.flat(2)).reshape([B, T, D]),
    u: exactArray(new Array(B).fill(0.5)),
    table: np.zeros([0]),
    labels: np.zeros([B], { dtype: np.int32 }),
  };
  const { loss, variance, grads } = hvaeObjective(hvaeKind.hvae!(config), decoder)(tree.ref(p), batch);
  const gamma = p.gamma ? read(p.gamma)[0] : undefined;
  const want = x.map((xb, b) => negativeElbo(p, xb, eps[b]!, gamma));
  const mean = want.reduce((s, v) => s + v, 0) / B;
  const wantVariance = want.reduce((s, v) => s + (v - mean) ** 2, 0) / (B - 1);
  const got = [read(loss)[0]!, read(variance)[0]!];
  tree.dispose([p, loss, variance, grads]);
  return { got, want: [mean, wantVariance] };
}

describe("the hvae objective", () => {
  it("is the batch mean of the −ELBO with the Gaussian decoder, ε_t the noise's level t, and its batch variance (T = 1, 3)", () => {
    for (const levels of [1, 3]) {
      const config: HvaeConfig = { dim: 2, levels, hidden: 4, layers: 2 };
      const { got, want } = compare(
        config,
        [
          [0.3, -1.1],
          [1.4, 0.2],
          [-0.5, 0.9],
          [0.0, 2.1],
        ],
        "gaussian",
        3 + levels,
      );
      // measured: 1e-15 relative; a level's ε taken from another level, or a term dropped, moves it by more than 1e-3
      assertClose(got, want, { rtol: 1e-12, label: `T = ${levels}` });
    }
  });

  it("scores 8-bit images by the discretised decoder at the bottom mean with the learned γ", () => {
    const config: HvaeConfig = { dim: 4, levels: 2, hidden: 3, layers: 1, shape: [2, 2, 1] };
    const x = [
      [0, 17, 128, 255],
      [250, 3, 64, 90],
      [12, 200, 199, 1],
    ].map((row) => row.map((k) => BINS[k]!));
    const { got, want } = compare(config, x, "discretized", 9);
    assertClose(got, want, { rtol: 1e-10, label: "discretized" });
    assert.ok(want[0]! > 0);
  });
});
