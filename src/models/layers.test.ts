/**
 * Image layers against direct loops in float64 (on the exact cpu device), in both layouts (NHWC, and
 * NCHW as exported networks run them), and conv's gradient against finite differences.
 */
import { describe, it } from "node:test";
import { exactArray } from "../engine/index.js";
import { grad, numpy as np } from "../engine/jax.js";
import { assertClose, useEngine } from "../testing/helpers.js";
import { avgPool2, conv3x3, groupNorm, type Layout, pointwise, selfAttention, upsample2 } from "./layers.js";

useEngine("wasm");

const [B, H, W, C, O] = [2, 4, 6, 3, 5];
const values = (n: number, seed: number) =>
  Array.from({ length: n }, (_, i) => Math.sin(1.7 * i + seed) * 0.9 + 0.1 * Math.cos(3.1 * i * seed));
const at = (a: number[], shape: number[], ...idx: number[]) => a[idx.reduce((off, v, k) => off * shape[k]! + v, 0)]!;
const xs = values(B * H * W * C, 1);
const ws = values(9 * C * O, 2);
const bs = values(O, 3);

function convReference(): number[] {
  const out: number[] = [];
  for (let b = 0; b < B; b++)
    for (let i = 0; i < H; i++)
      for (let j = 0; j < W; j++)
        for (let o = 0; o < O; o++) {
          let s = bs[o]!;
          for (let dy = 0; dy < 3; dy++)
            for (let dx = 0; dx < 3; dx++)
              for (let c = 0; c < C; c++) {
                const [y, x] = [i + dy - 1, j + dx - 1];
                if (y >= 0 && y < H && x >= 0 && x < W) s += at(xs, [B, H, W, C], b, y, x, c) * at(ws, [3, 3, C, O], dy, dx, c, o);
              }
          out.push(s);
        }
  return out;
}

const layouts: Layout[] = ["NHWC", "NCHW"];
/** f applied to the NHWC image x in `layout`, its result read back in NHWC. */
function inLayout(layout: Layout, x: np.Array, f: (x: np.Array) => np.Array): Float64Array {
  const y = f(layout === "NCHW" ? x.transpose([0, 3, 1, 2]) : x);
  return (layout === "NCHW" ? y.transpose([0, 2, 3, 1]) : y).dataSync() as Float64Array;
}

describe("image layers (float64 against direct loops)", () => {
  it("conv3x3 equals the direct zero-padded convolution, in both layouts", () => {
    for (const layout of layouts) {
      const y = inLayout(layout, exactArray(xs).reshape([B, H, W, C]), (x) =>
        conv3x3(x, exactArray(ws).reshape([3, 3, C, O]), exactArray(bs), layout),
      );
      assertClose(y, convReference(), { rtol: 1e-12, atol: 1e-12, label: `conv3x3 ${layout}` });
    }
  });

  it("pointwise applies the dense layer at every position, in both layouts", () => {
    const w = values(C * O, 4);
    const want: number[] = [];
    for (let b = 0; b < B; b++)
      for (let i = 0; i < H; i++)
        for (let j = 0; j < W; j++)
          for (let o = 0; o < O; o++) {
            want.push(
              bs[o]! + Array.from({ length: C }, (_, c) => at(xs, [B, H, W, C], b, i, j, c) * w[c * O + o]!).reduce((s, v) => s + v, 0),
            );
          }
    for (const layout of layouts) {
      const y = inLayout(layout, exactArray(xs).reshape([B, H, W, C]), (x) =>
        pointwise(x, { w: exactArray(w).reshape([C, O]), b: exactArray(bs) }, layout),
      );
      assertClose(y, want, { rtol: 1e-12, atol: 1e-12, label: `pointwise ${layout}` });
    }
  });

  it("conv3x3's gradient with respect to the weights matches central differences", () => {
    const loss = (w: np.Array) => np.sum(np.square(conv3x3(exactArray(xs).reshape([B, H, W, C]), w, exactArray(bs))));
    const g = grad(loss)(exactArray(ws).reshape([3, 3, C, O])).dataSync() as Float64Array;
    const h = 1e-6;
    const fd = [0, 7, 31, ws.length - 1].map((k) => {
      const f = (delta: number) =>
        (loss(exactArray(ws.map((v, i) => (i === k ? v + delta : v))).reshape([3, 3, C, O])).dataSync() as Float64Array)[0]!;
      return (f(h) - f(-h)) / (2 * h);
    });
    assertClose(
      [0, 7, 31, ws.length - 1].map((k) => g[k]!),
      fd,
      { rtol: 1e-6, atol: 1e-8, label: "∂/∂w" },
    );
  });

  for (const layout of layouts)
    it(`groupNorm normalises each (example, group) over space and the group's channels (${layout})`, () => {
      const Cg = 4,
        G = 2;
      const x = values(B * H * W * Cg, 5);
      const scale = [1.5, 0.5, 2, 1],
        shift = [0.1, -0.2, 0, 0.3];
      const y = inLayout(layout, exactArray(x).reshape([B, H, W, Cg]), (v) =>
        groupNorm(v, exactArray(scale), exactArray(shift), G, layout),
      );
      const want = new Array<number>(x.length);
      for (let b = 0; b < B; b++)
        for (let g = 0; g < G; g++) {
          const idx: number[] = [];
          for (let p = 0; p < H * W; p++) for (let c = g * 2; c < g * 2 + 2; c++) idx.push((b * H * W + p) * Cg + c);
          const m = idx.reduce((s, i) => s + x[i]!, 0) / idx.length;
          const v = idx.reduce((s, i) => s + (x[i]! - m) ** 2, 0) / idx.length;
          for (const i of idx) want[i] = ((x[i]! - m) / Math.sqrt(v + 1e-5)) * scale[i % Cg]! + shift[i % Cg]!;
        }
      assertClose(y, want, { rtol: 1e-12, atol: 1e-12, label: `groupNorm ${layout}` });
    });

  for (const layout of layouts)
    it(`avgPool2 averages 2×2 blocks and upsample2 repeats each pixel 2×2 (${layout})`, () => {
      const x = exactArray(xs).reshape([B, H, W, C]);
      const pooled = inLayout(layout, x.ref, (v) => avgPool2(v, layout));
      const up = inLayout(layout, x, (v) => upsample2(v, layout));
      const wantPool: number[] = [];
      const wantUp: number[] = [];
      for (let b = 0; b < B; b++)
        for (let i = 0; i < H / 2; i++)
          for (let j = 0; j < W / 2; j++)
            for (let c = 0; c < C; c++) {
              wantPool.push(
                [0, 1].flatMap((di) => [0, 1].map((dj) => at(xs, [B, H, W, C], b, 2 * i + di, 2 * j + dj, c))).reduce((s, v) => s + v, 0) /
                  4,
              );
            }
      for (let b = 0; b < B; b++)
        for (let i = 0; i < 2 * H; i++)
          for (let j = 0; j < 2 * W; j++)
            for (let c = 0; c < C; c++) {
              wantUp.push(at(xs, [B, H, W, C], b, Math.floor(i / 2), Math.floor(j / 2), c));
            }
      assertClose(pooled, wantPool, { rtol: 1e-12, atol: 1e-14, label: `avgPool2 ${layout}` });
      assertClose(up, wantUp, { rtol: 0, atol: 0, label: `upsample2 ${layout}` });
    });

  for (const layout of layouts)
    it(`selfAttention equals per-head softmax(q kᵀ/√d) v from direct loops (${layout})`, () => {
      const [Ca, heads] = [4, 2];
      const d = Ca / heads;
      const N = H * W;
      const x = values(B * N * Ca, 7);
      const wq = values(Ca * 3 * Ca, 8),
        bq = values(3 * Ca, 9),
        wo = values(Ca * Ca, 10),
        bo = values(Ca, 11);
      const y = inLayout(layout, exactArray(x).reshape([B, H, W, Ca]), (v) =>
        selfAttention(
          v,
          { w: exactArray(wq).reshape([Ca, 3 * Ca]), b: exactArray(bq) },
          { w: exactArray(wo).reshape([Ca, Ca]), b: exactArray(bo) },
          heads,
          layout,
        ),
      );
      const want: number[] = [];
      for (let b = 0; b < B; b++) {
        // qkv[p][j] = Σ_c x[b,p,c] wq[c,j] + bq[j]; column j = part·C + head·d + e
        const qkv = Array.from({ length: N }, (_, p) =>
          Array.from(
            { length: 3 * Ca },
            (_, j) =>
              bq[j]! + Array.from({ length: Ca }, (_, c) => x[(b * N + p) * Ca + c]! * wq[c * 3 * Ca + j]!).reduce((s, v) => s + v, 0),
          ),
        );
        const o = Array.from({ length: N }, () => new Array<number>(Ca).fill(0));
        for (let h = 0; h < heads; h++)
          for (let p = 0; p < N; p++) {
            const logits = Array.from(
              { length: N },
              (_, r) =>
                Array.from({ length: d }, (_, e) => qkv[p]![h * d + e]! * qkv[r]![Ca + h * d + e]!).reduce((s, v) => s + v, 0) /
                Math.sqrt(d),
            );
            const m = Math.max(...logits);
            const z = logits.reduce((s, l) => s + Math.exp(l - m), 0);
            for (let r = 0; r < N; r++)
              for (let e = 0; e < d; e++) o[p]![h * d + e]! += (Math.exp(logits[r]! - m) / z) * qkv[r]![2 * Ca + h * d + e]!;
          }
        for (let p = 0; p < N; p++) for (let j = 0; j < Ca; j++) want.push(bo[j]! + o[p]!.reduce((s, v, c) => s + v * wo[c * Ca + j]!, 0));
      }
      assertClose(y, want, { rtol: 1e-10, atol: 1e-12, label: `selfAttention ${layout}` });
    });
});
