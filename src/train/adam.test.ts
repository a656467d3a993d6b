/**
 * AdamW, its step scalars, global-norm clipping and the EMA against steps written out by hand in
 * float64 on the exact `cpu` device: the warm-up and cosine decay of the learning rate at chosen
 * steps (values worked out from cos(π/8), cos(π/4)), the bias corrections 1 − βᵏ at k = 1, 2, 3,
 * and three AdamW steps of a small tree (a matrix that decays, a vector that does not) whose
 * gradients are clipped at some steps and not at others, with the EMA following them.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Params } from "../engine/index.js";
import { exactArray } from "../engine/index.js";
import { type Array, tree } from "../engine/jax.js";
import { assertClose, useEngine } from "../testing/helpers.js";
import {
  type AdamConfig,
  type AdamState,
  adamInit,
  adamUpdate,
  decayFactor,
  defaultAdam,
  emaUpdate,
  globalNorm,
  stepScalars,
} from "./adam.js";

useEngine("cpu");

const scalar = (v: number): Array => exactArray([v]).reshape([]);
const read = (x: Array): number[] => [...(x.ref.dataSync() as Float64Array)];

/** cos(π/8) and cos(π/4), for the cosine decay at k/steps = 1/8, 2/8 */
const COS_PI_8 = Math.sqrt(2 + Math.SQRT2) / 2;
const COS_PI_4 = Math.SQRT2 / 2;

describe("AdamW defaults", () => {
  it("are the documented ones: lr 1e−3, β₁ 0.9, β₂ 0.999, ε 1e−8, no weight decay, clipping at norm 1, 100 warm-up steps, EMA 0.999, no decay", () => {
    assert.deepEqual(defaultAdam, {
      lr: 1e-3,
      beta1: 0.9,
      beta2: 0.999,
      eps: 1e-8,
      weightDecay: 0,
      clipNorm: 1,
      warmup: 100,
      emaDecay: 0.999,
    });
  });
});

describe("AdamW step scalars", () => {
  const config: AdamConfig = {
    lr: 0.01,
    beta1: 0.9,
    beta2: 0.999,
    eps: 1e-8,
    weightDecay: 0,
    clipNorm: 1,
    warmup: 4,
    decay: { kind: "cosine", steps: 8, final: 0.2 },
    emaDecay: 0.999,
  };

  it("warms the learning rate up linearly over `warmup` steps, then decays it along a cosine to lr·final", () => {
    // lr·min(1, (k+1)/4)·(0.2 + 0.8·½(1 + cos(πk/8))), then lr·0.2 from k = 8 on
    const expected: [number, number][] = [
      [0, 0.01 * 0.25 * 1],
      [1, 0.01 * 0.5 * (0.2 + 0.4 * (1 + COS_PI_8))],
      [2, 0.01 * 0.75 * (0.2 + 0.4 * (1 + COS_PI_4))],
      [4, 0.01 * 0.6], // cos(π/2) = 0: halfway between 1 and 0.2
      [6, 0.01 * (0.2 + 0.4 * (1 - COS_PI_4))],
      [8, 0.01 * 0.2],
      [9, 0.01 * 0.2],
      [1000, 0.01 * 0.2],
    ];
    // measured: exact
    for (const [k, lr] of expected) assertClose([stepScalars(config, k).lr], [lr], { rtol: 1e-15, label: `lr at k = ${k}` });
    assertClose([decayFactor(config, 4)], [0.6], { rtol: 1e-15, label: "factor at k = 4" });
    assert.equal(decayFactor({ ...config, decay: undefined }, 4), 1, "no decay");
    for (const steps of [1, 3, 7, 10, 999, 12345]) {
      const decay = { kind: "cosine" as const, steps, final: 0.1 };
      for (const k of [steps, steps + 1, 10 * steps])
        assert.equal(decayFactor({ ...config, decay }, k), 0.1, `steps ${steps}, k = ${k}: exactly final`);
    }
  });

  it("without decay: a constant rate after the warm-up; a warm-up of 0 or 1 step starts at the full rate", () => {
    const constant = { ...config, decay: undefined, warmup: 100 };
    assertClose([stepScalars(constant, 49).lr, stepScalars(constant, 99).lr, stepScalars(constant, 500).lr], [0.005, 0.01, 0.01], {
      rtol: 1e-15,
      label: "lr",
    });
    for (const warmup of [0, 1]) assert.equal(stepScalars({ ...constant, warmup }, 0).lr, 0.01, `warm-up ${warmup}`);
  });

  it("gives Adam's bias corrections 1 − β₁ᵏ, 1 − β₂ᵏ for the k-th update (k = step + 1)", () => {
    const by = [
      { k: 1, c1: 0.1, c2: 0.001 },
      { k: 2, c1: 0.19, c2: 0.001999 },
      { k: 3, c1: 0.271, c2: 0.002997001 },
    ];
    for (const { k, c1, c2 } of by) {
      const s = stepScalars(config, k - 1);
      // measured: 1.3e-14 relative (1 − β₂ᵏ with β₂ᵏ near 1 keeps few of its bits)
      assertClose([s.correction1, s.correction2], [c1, c2], { rtol: 1e-13, label: `corrections at k = ${k}` });
    }
  });

  it("warms the EMA decay up as (1 + k)/(10 + k) until it reaches the configured decay", () => {
    const d = (k: number) => stepScalars(config, k).emaDecay;
    assertClose([d(0), d(1), d(2), d(8989)], [0.1, 2 / 11, 0.25, 8990 / 8999], { rtol: 1e-15, label: "warm-up" });
    assert.equal(d(9000), 0.999);
    assert.equal(d(1e6), 0.999);
  });
});

/** A float64 AdamW reference, written from the update rule: g ← g·min(1, c/‖g‖); m, v; p ← p − lr(m̂/(√v̂ + ε) + λp) for matrices. */
interface RefState {
  p: number[][];
  m: number[][];
  v: number[][];
  ema: number[][];
}

describe("AdamW with global-norm clipping, and the EMA", () => {
  const config: AdamConfig = {
    lr: 0.1,
    beta1: 0.8,
    beta2: 0.95,
    eps: 1e-3,
    weightDecay: 0.2,
    clipNorm: 1.5,
    warmup: 2,
    decay: { kind: "cosine", steps: 4, final: 0.1 },
    emaDecay: 0.9,
  };
  /** leaves: w [2, 3] (a matrix: decayed), b [3] (a vector: not decayed), in tree order (keys sorted) */
  const shapes = { b: [3], w: [2, 3] };
  const p0 = [
    [0.3, -0.2, 0.1],
    [1, -0.5, 0.25, 0.75, -1.25, 2],
  ];
  /** gradients of steps 0, 1, 2, with global norms 3.0104 (clipped to 1.5), 0.8322 (not clipped) and 4.5 (clipped) */
  const grads = [
    [
      [1, -2, 0.5],
      [0.5, 0.25, -1, 1.5, 0, -0.5],
    ],
    [
      [0.1, 0.2, -0.3],
      [0.4, -0.05, 0.3, -0.2, 0.1, 0.5],
    ],
    [
      [-3, 0, 0],
      [0, 3, 0, 0, 1.5, 0],
    ],
  ];
  // the learning rate by hand: lr·min(1, (k+1)/2)·(0.1 + 0.9·½(1 + cos(πk/4)))
  const lrs = [0.1 * 0.5 * 1, 0.1 * (0.1 + 0.45 * (1 + COS_PI_4)), 0.1 * 0.55];
  const emaDecays = [0.1, 2 / 11, 0.25];

  const toTree = (leaves: number[][]): Params => ({
    b: exactArray(leaves[0]!).reshape(shapes.b),
    w: exactArray(leaves[1]!).reshape(shapes.w),
  });
  const fromTree = (t: Params): number[][] => (tree.leaves(t) as Array[]).map(read);

  function referenceStep(s: RefState, g: number[][], k: number): RefState {
    const norm = Math.sqrt(g.flat().reduce((a, x) => a + x * x, 0));
    const scale = Math.min(1, config.clipNorm / norm);
    const c1 = 1 - config.beta1 ** (k + 1),
      c2 = 1 - config.beta2 ** (k + 1);
    const m = s.m.map((leaf, i) => leaf.map((mi, j) => config.beta1 * mi + (1 - config.beta1) * scale * g[i]![j]!));
    const v = s.v.map((leaf, i) => leaf.map((vi, j) => config.beta2 * vi + (1 - config.beta2) * (scale * g[i]![j]!) ** 2));
    const p = s.p.map((leaf, i) =>
      leaf.map((pi, j) => {
        const decay = i === 1 ? config.weightDecay * pi : 0; // leaf 1 is the matrix
        return pi - lrs[k]! * (m[i]![j]! / c1 / (Math.sqrt(v[i]![j]! / c2) + config.eps) + decay);
      }),
    );
    const d = emaDecays[k]!;
    const ema = s.ema.map((leaf, i) => leaf.map((e, j) => d * e + (1 - d) * p[i]![j]!));
    return { p, m, v, ema };
  }

  it("gives the global norm over every leaf", () => {
    const g = toTree(grads[0]!);
    // √(1 + 4 + 0.25 + 0.25 + 0.0625 + 1 + 2.25 + 0 + 0.25) = √9.0625
    assertClose(read(globalNorm(g)), [Math.sqrt(9.0625)], { rtol: 1e-15, label: "norm" });
    tree.dispose(g);
  });

  it("three steps (clipped, unclipped, clipped; warm-up, cosine decay, weight decay on the matrix only) equal the float64 reference", () => {
    let params = toTree(p0);
    let state: AdamState = adamInit(params);
    let ema = toTree(p0);
    let ref: RefState = { p: p0, m: p0.map((l) => l.map(() => 0)), v: p0.map((l) => l.map(() => 0)), ema: p0 };
    for (let k = 0; k < 3; k++) {
      const s = stepScalars(config, k);
      assertClose([s.lr, s.emaDecay], [lrs[k]!, emaDecays[k]!], { rtol: 1e-15, label: `scalars at k = ${k}` });
      const scalars = { lr: scalar(s.lr), correction1: scalar(s.correction1), correction2: scalar(s.correction2) };
      const out = adamUpdate(params, toTree(grads[k]!), state, config, scalars);
      assert.throws(() => scalars.lr.dataSync(), /freed/, "the step's scalars are consumed");
      ema = emaUpdate(ema, out.params, scalar(s.emaDecay));
      ({ params, state } = out);
      ref = referenceStep(ref, grads[k]!, k);
      // measured: 6.6e-14 absolute (values 0.002 to 2), from the clipping's c/(‖g‖ + 1e−12) at step 0; the rest is float64 on the cpu device
      const tol = { atol: 5e-13 };
      assertClose(fromTree(state.m).flat(), ref.m.flat(), { ...tol, label: `m after step ${k}` });
      assertClose(fromTree(state.v).flat(), ref.v.flat(), { ...tol, label: `v after step ${k}` });
      assertClose(fromTree(params).flat(), ref.p.flat(), { ...tol, label: `params after step ${k}` });
      assertClose(fromTree(ema).flat(), ref.ema.flat(), { ...tol, label: `ema after step ${k}` });
    }
    tree.dispose([params, state, ema]);
  });

  it("the first step moves each coordinate by lr·(g/(|g| + ε) + λp): Adam's bias-corrected first step, written out", () => {
    // k = 1: m̂ = g, v̂ = g², so the step is g/(|g| + ε); no clipping (clipNorm 0), no warm-up, no decay
    const plain: AdamConfig = { ...config, clipNorm: 0, warmup: 0, decay: undefined };
    const g = [
      [100, -200, 0.001],
      [3, -4, 0, 50, 60, -70],
    ]; // norm ≈ 240: clipNorm 0 leaves it alone
    const s = stepScalars(plain, 0);
    const out = adamUpdate(toTree(p0), toTree(g), adamInit(toTree(p0)), plain, {
      lr: scalar(s.lr),
      correction1: scalar(s.correction1),
      correction2: scalar(s.correction2),
    });
    const expected = p0.map((leaf, i) =>
      leaf.map((p, j) => p - 0.1 * (g[i]![j]! / (Math.abs(g[i]![j]!) + 1e-3) + (i === 1 ? 0.2 * p : 0))),
    );
    // measured: exact
    assertClose(fromTree(out.params).flat(), expected.flat(), { rtol: 1e-15, label: "first step" });
    tree.dispose([out.params, out.state]);
  });
});
