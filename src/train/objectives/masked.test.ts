/**
 * Masked diffusion's objectives with fixed noise: the normals made into uniforms (Φ against a
 * float64 erf), the denoiser's objective against `maskedNelbo` called directly on the same
 * uniforms and against a float64 reference written from the bound's definition (linear schedule,
 * continuous time: token ℓ masked where U_ℓ < t, weight 1/t), labels read by a conditional
 * denoiser; the classifier's cross-entropy against a float64 reference. The networks are stand-ins
 * linear in the one-hot z (logits = z M + Y[y]), so a token, mask or label read at the wrong place
 * changes the numbers.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type Array, nn, numpy as np, tree } from "../../engine/jax.js";
import type { MaskedClassifier, MaskedDenoiser } from "../../masked/denoiser.js";
import { maskedNelbo } from "../../masked/process.js";
import { getMaskingSchedule } from "../../masked/schedule.js";
import { assertClose, useEngine } from "../../testing/helpers.js";
import { maskedClassifierObjective, maskedObjective, normalCdf } from "./masked.js";

useEngine();

const B = 6,
  L = 4,
  V = 5,
  K = 3;
const M = globalThis.Array.from({ length: (V + 1) * V }, (_, i) => Math.sin(1.7 * i + 0.3));
const Y = globalThis.Array.from({ length: (K + 1) * V }, (_, i) => Math.cos(2.3 * i));
const IDS = globalThis.Array.from({ length: B * L }, (_, i) => (i * 7 + 3) % V);
const EPS = globalThis.Array.from({ length: B * L }, (_, i) => 1.6 * Math.sin(5.1 * i + 0.7));
const U = [0.12, 0.31, 0.47, 0.66, 0.83, 0.97];
const LABELS = [0, 1, 2, 3, 1, 0];

/** erf in float64 (Abramowitz & Stegun 7.1.26 is too coarse; this is the series / continued fraction to 1e−15). */
function erf(x: number): number {
  if (Math.abs(x) > 5) return Math.sign(x);
  let sum = x;
  let term = x;
  for (let n = 1; n < 200; n++) {
    term *= (-x * x) / n;
    sum += term / (2 * n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}
const phi = (e: number) => 0.5 * (1 + erf(e / Math.SQRT2));

const N = globalThis.Array.from({ length: (V + 1) * V }, (_, i) => 0.3 * Math.cos(0.9 * i + 0.1));

type P = { m: Array; n: Array; y?: Array };
const f32 = (values: number[], shape: number[]) => np.array(Float32Array.from(values)).reshape(shape);
const params = (labelled: boolean): P => ({
  m: f32(M, [V + 1, V]),
  n: f32(N, [V + 1, V]),
  ...(labelled ? { y: f32(Y, [K + 1, V]) } : {}),
});

/** logits_ℓ = z_ℓ M + (Σ_ℓ' z_ℓ') N (+ Y[y]): a stand-in denoiser linear in z that reads every position and the label. */
function standIn(classes: number): MaskedDenoiser<P> {
  return {
    vocabulary: V,
    classes,
    logits(p, z, labels) {
      const [b, l] = z.shape as [number, number];
      const counts = np.matmul(np.sum(z.ref, 1), p.n); // [b, V]
      let out = np
        .matmul(z.reshape([b * l, V + 1]), p.m)
        .reshape([b, l, V])
        .add(counts.reshape([b, 1, V]));
      if (p.y) out = out.add(np.matmul(nn.oneHot(labels!, K + 1), p.y).reshape([b, 1, V]));
      else tree.dispose(labels);
      return out;
    },
  };
}

/** The masked token ids z of sentence b at time t (float64 masking: U_ℓ < t). */
const masking = (b: number, t: number) => globalThis.Array.from({ length: L }, (_, l) => (phi(EPS[b * L + l]!) < t ? V : IDS[b * L + l]!));

/** −log softmax(row)_k in float64. */
function nll(row: number[], k: number): number {
  const max = Math.max(...row);
  return max + Math.log(row.reduce((a, r) => a + Math.exp(r - max), 0)) - row[k]!;
}

/** The float64 bound of sentence b: (1/t) Σ_{ℓ: U_ℓ < t} −log softmax(M[z_ℓ] + Σ_ℓ' N[z_ℓ'] + Y[y])_{x_ℓ}, t = U[b]. */
function reference(b: number, label?: number): number {
  const t = U[b]!;
  const z = masking(b, t);
  let total = 0;
  for (let l = 0; l < L; l++) {
    if (z[l] !== V) continue;
    const row = globalThis.Array.from(
      { length: V },
      (_, v) => M[V * V + v]! + z.reduce((a, zk) => a + N[zk * V + v]!, 0) + (label === undefined ? 0 : Y[label * V + v]!),
    );
    total += nll(row, IDS[b * L + l]!);
  }
  return total / t;
}

const batch = (labels: number[] = LABELS) => ({
  x0: np.array(Float32Array.from(IDS)).reshape([B, L]),
  eps: np.array(Float32Array.from(EPS)).reshape([B, L]),
  u: np.array(Float32Array.from(U)),
  table: np.zeros([0]),
  labels: np.array(Int32Array.from(labels), { dtype: np.int32 }),
});

describe("masked diffusion's objectives", () => {
  it("Φ(ε) = ½(1 + erf(ε/√2)) agrees with a float64 reference", () => {
    const got = normalCdf(np.array(Float32Array.from(EPS))).dataSync() as Float32Array;
    assertClose(got, EPS.map(phi), { atol: 2e-7, label: "Φ" });
  });

  it("the denoiser's objective is the batch mean of maskedNelbo on the uniforms Φ(ε), and of the float64 bound", () => {
    const denoiser = standIn(0);
    const schedule = getMaskingSchedule("linear");
    const { loss, variance, grads } = maskedObjective(denoiser, schedule, 0)(params(false), batch());
    tree.dispose([variance, grads]);
    const b = batch();
    tree.dispose([b.table, b.labels]);
    const p = params(false);
    const direct = maskedNelbo((z) => denoiser.logits(p, z), schedule, V, b.x0, normalCdf(b.eps), b.u, 0).dataSync() as Float32Array;
    const mean = (loss.dataSync() as Float32Array)[0]!;
    assertClose([mean], [direct.reduce((a, v) => a + v, 0) / B], { rtol: 1e-6, label: "maskedNelbo" });
    const ref = U.map((_, k) => reference(k));
    assert.ok(ref.filter((r) => r > 0).length >= 3, "some tokens are masked");
    assertClose([mean], [ref.reduce((a, v) => a + v, 0) / B], { rtol: 1e-5, label: "float64" });
  });

  it("a conditional denoiser's objective reads the batch's labels (the last class: no label)", () => {
    const { loss, variance, grads } = maskedObjective(standIn(K), getMaskingSchedule("linear"), 0)(params(true), batch());
    tree.dispose([variance, grads]);
    const ref = U.map((_, k) => reference(k, LABELS[k]));
    assertClose(loss.dataSync() as Float32Array, [ref.reduce((a, v) => a + v, 0) / B], { rtol: 1e-5, label: "conditional" });
  });

  it("the classifier's objective is the cross-entropy of p_φ(y | z_t), z_t masked at t = u", () => {
    /** logits = (Σ_ℓ z_ℓ) N[:, :K]: the classifier reads the token counts */
    const classifier: MaskedClassifier = {
      classes: K,
      logits: (p, z) => np.matmul(np.sum(z, 1), (p as { n: Array }).n),
    };
    const n = () => ({ n: f32(N, [V + 1, V]).slice([], [0, K]) });
    const labels = LABELS.map((y) => y % K);
    const objective = maskedClassifierObjective({ ...classifier, vocabulary: V }, getMaskingSchedule("linear"));
    const { loss, variance, grads } = objective(n(), batch(labels));
    tree.dispose([variance, grads]);
    const ref = U.map((t, k) => {
      const z = masking(k, t);
      return nll(
        globalThis.Array.from({ length: K }, (_, c) => z.reduce((a, zk) => a + N[zk * V + c]!, 0)),
        labels[k]!,
      );
    });
    assertClose(loss.dataSync() as Float32Array, [ref.reduce((a, v) => a + v, 0) / B], { rtol: 1e-5, label: "cross-entropy" });
  });
});
