/**
 * The probability-flow ODE (Song et al. 2021) of a VP diffusion, in the noise level γ = −log SNR:
 * with x_t = α x_0 + σ ε and the model's data prediction x̂_0,
 *   dx/dγ = f(x, γ) = ½ (α² x − α x̂_0(x, γ))
 * (the VP-SDE's −½β(x + ∇log p) divided by dγ/dt = β/σ²). Its marginals are the model's q_γ, and
 * log p_{γ0}(x(γ0)) = log p_{γ1}(x(γ1)) + ∫_{γ0}^{γ1} ∇·f dγ along a solution. The divergence is
 *   ∇·f = ½ α² D − ½ α ∇·x̂_0,
 * exactly (D forward-mode products with the basis vectors) or by Hutchinson's estimator vᵀ(∂x̂_0/∂x)v
 * with a Rademacher probe v (E[vvᵀ] = I).
 */
import { type Array, type JsTree, jit, jvp, numpy as np, tree } from "../engine/jax.js";
import { UnsupportedError } from "../errors.js";
import { sigmoid } from "../schedule/schedule.js";
import type { Model } from "./model.js";
import { toX0 } from "./parameterization.js";
import { dimsOf, perExample, sumDims } from "./shapes.js";

/** The drift f (shaped like x) and its divergence ∇·f ([B]) at a batch of points. */
export interface FlowValue {
  drift: Array;
  divergence: Array;
}

/**
 * f and ∇·f at x ([B, ...]), t and γ ([B]) for `model` (not a host model: this differentiates the
 * network). `probes`: null for the exact divergence (D products; low-dimensional data), or a
 * Rademacher probe shaped like x for Hutchinson's estimate. Consumes its arrays (params included).
 */
export function flowWithDivergence(model: Model, params: JsTree<Array>, x: Array, t: Array, gamma: Array, probe: Array | null): FlowValue {
  const shape = x.shape;
  const a = np.sqrt(sigmoid(np.negative(gamma.ref))); // α per example, [B]
  const x0 = (xs: Array) => toX0(model.apply(tree.ref(params), xs.ref, t.ref, gamma.ref), model.target, xs, gamma.ref);
  // tangents of x̂_0 along the basis vectors (exact) or along the probe (Hutchinson)
  const directions: Array[] = probe ? [probe] : basis(shape);
  let prediction: Array | null = null;
  let trace: Array | null = null;
  for (const v of directions) {
    const [p, dp] = jvp(x0, [x.ref], [v.ref]) as [Array, Array];
    const term = sumDims(dp.mul(v)); // vᵀ J v (a diagonal entry of J for a basis vector)
    trace = trace ? trace.add(term) : term;
    // Stryker disable next-line ConditionalExpression: every direction's p is the same x̂_0(x); keeping the last one instead of the first only leaks the others
    if (prediction) p.dispose();
    else prediction = p;
  }
  // Stryker disable next-line ArrayDeclaration: releasing the inputs frees memory; no result depends on it
  tree.dispose([params, t, gamma]);
  const alpha = perExample(a.ref, shape);
  const drift = alpha.ref.mul(x).sub(prediction!).mul(alpha.mul(0.5));
  const divergence = np
    .square(a.ref)
    .mul(0.5 * dimsOf(shape))
    .sub(a.mul(trace!).mul(0.5));
  return { drift, divergence };
}

/** e_1..e_D for a batch shaped `shape`: each [B, ...] with a one at one data position. */
function basis(shape: readonly number[]): Array[] {
  const D = dimsOf(shape);
  return globalThis.Array.from({ length: D }, (_, d) =>
    np.broadcastTo(
      np
        .eye(D)
        .slice([d, d + 1])
        .reshape([1, ...shape.slice(1)]),
      [...shape],
    ),
  );
}

const jitted = new WeakMap<Model, { exact: ReturnType<typeof makeFlow>; probe: ReturnType<typeof makeFlow> }>();

function makeFlow(model: Model, exact: boolean) {
  return jit((params: JsTree<Array>, x: Array, t: Array, gamma: Array, probe: Array) => {
    // Stryker disable next-line ConditionalExpression: not disposing the unused probe only leaks it (the exact divergence is passed null either way)
    if (exact) probe.dispose();
    return flowWithDivergence(model, params, x, t, gamma, exact ? null : probe) as unknown as JsTree<Array>;
  });
}

/** f and ∇·f at (x, t, γ) with a probe (ignored by the exact divergence); consumes its arrays. */
export type FlowFunction = (params: JsTree<Array>, x: Array, t: Array, gamma: Array, probe: Array) => FlowValue;

/** The jitted `flowWithDivergence` of `model` (one compiled function per model and mode). Consumes its arrays. */
export function flowFunction(model: Model, exact: boolean): FlowFunction {
  if (model.host)
    throw new UnsupportedError(
      "the probability-flow divergence differentiates the network: use a jax-js model (the ONNX backend wraps it elsewhere)",
    );
  let fns = jitted.get(model);
  if (!fns) {
    fns = { exact: makeFlow(model, true), probe: makeFlow(model, false) };
    jitted.set(model, fns);
  }
  return (exact ? fns.exact : fns.probe) as unknown as FlowFunction;
}
