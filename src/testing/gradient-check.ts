/**
 * The gradient of a float64 loss against central differences, at one entry of each of a network's
 * chosen parameter leaves: what the network tests (U-Net, autoencoder) check in every kind of layer.
 */
import assert from "node:assert/strict";
import type { Params } from "../engine/index.js";
import { exactArray } from "../engine/index.js";
import { type Array, grad, tree } from "../engine/jax.js";
import { namedLeaves } from "../io/state.js";
import { assertClose } from "./helpers.js";

/**
 * For each leaf `pick` (a dotted name, as `namedLeaves(params, "p")` names it without its "p."), entry
 * `index(pick, size)` (default ⌊0.55·size⌋) of ∂loss/∂params must equal the central difference
 * (L(θ + h e) − L(θ − h e))/2h with h = 1e-6, within ten times its rounding error ε_64·|L|/h, and
 * must be non-zero (the loss depends on the entry). `loss` maps float64 params (consumed) to a
 * scalar; `params` is consumed.
 */
export function assertGradientAtPicks<P extends Params>(
  loss: (params: P) => Array,
  params: P,
  picks: string[],
  index: (pick: string, size: number) => number = (_, size) => Math.floor(size * 0.55),
): void {
  const value = (p: P) => (loss(p).dataSync() as Float64Array)[0]!;
  const names = namedLeaves(params, "p").map(([name]) => name);
  const gradient = (tree.leaves(grad(loss as (p: Params) => Array)(tree.ref(params))) as Array[]).map((g) => g.dataSync() as Float64Array);
  const L = value(tree.ref(params));
  const [leaves, def] = tree.flatten(params) as [Array[], ReturnType<typeof tree.flatten>[1]];
  const h = 1e-6;
  for (const pick of picks) {
    const k = names.indexOf(`p.${pick}`);
    assert.ok(k >= 0, `no parameter ${pick} among ${names.join(", ")}`);
    const base = leaves[k]!.ref.dataSync() as Float64Array;
    const i = index(pick, base.length);
    const perturbed = (delta: number) => {
      const v = Float64Array.from(base);
      v[i]! += delta;
      const swapped = leaves.map((leaf, j) => (j === k ? exactArray(v).reshape(leaf.shape) : leaf.ref));
      return value(tree.unflatten(def, swapped) as P);
    };
    const fd = (perturbed(h) - perturbed(-h)) / (2 * h);
    assert.ok(Math.abs(fd) > 1e-6, `${pick}: the loss does not depend on this entry (fd ${fd})`);
    assertClose([gradient[k]![i]!], [fd], { rtol: 1e-6, atol: (10 * 2.2e-16 * Math.abs(L)) / h, label: `∂L/∂${pick}` });
  }
  tree.dispose(leaves);
}

/** n deterministic values in about [−0.7, 0.7], a different sequence for each seed (test inputs and parameters in float64). */
export const exactValues = (n: number, seed: number) =>
  globalThis.Array.from({ length: n }, (_, i) => 0.5 * Math.sin(1.3 * i + 0.7 * seed) + 0.2 * Math.cos(2.9 * i * (seed + 1)));

/**
 * Every leaf of `params` (consumed) replaced by float64 `exactValues` of its size, leaf k with seed k:
 * zero-initialised layers included, so every path carries gradient.
 */
export function exactParamsLike<P extends Params>(params: P): P {
  let seed = 0;
  return tree.map((p: Array) => {
    const v = exactArray(exactValues(p.size, seed++)).reshape(p.shape);
    p.dispose();
    return v;
  }, params) as P;
}
