/**
 * The networks' activation: silu (swish), built on the schedule's numerically stable sigmoid.
 * jax-js's `nn.silu` is not used: its direct sigmoid 1/(1 + e^{−x}) differs in the last bits from
 * the stable one for x < 0, and its gradient is NaN once e^{−x} overflows (x below ≈ −88 in float32).
 */
import type { Array } from "../engine/jax.js";
import { sigmoid } from "../schedule/schedule.js";

/** silu(x) = x · sigmoid(x), with the stable sigmoid (finite gradient everywhere). Consumes `x`. */
export function silu(x: Array): Array {
  return x.ref.mul(sigmoid(x));
}
