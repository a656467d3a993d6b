/**
 * Heun's method (Karras et al. 2022, Algorithm 1) on the probability-flow ODE dx̃/dσ̃ = (x̃ − x̂_0)/σ̃
 * (coordinates as in euler.ts): an Euler predictor x̃' = x̃_t + (σ̃_s − σ̃_t) d_t, then the trapezoid
 *   x̃_s = x̃_t + (σ̃_s − σ̃_t)·(d_t + d(x̃', σ̃_s))/2,
 * except on the last step (σ̃_s = 0), which stays Euler. On N levels, NFE = 2N − 1.
 */
import type { Array } from "../engine/jax.js";
import { EulerSampler, karrasSlope, sigmaTilde } from "./euler.js";
import { alphaSigma, axpby } from "./predict.js";
import type { Denoiser } from "./sampler.js";

export class HeunSampler extends EulerSampler {
  override readonly name = "heun";

  override get nfe(): number {
    return 2 * (this.levels.t.length - 1) - 1;
  }

  protected override advance(den: Denoiser, xTilde: Array, d: Array, i: number): Array {
    const { t, gamma } = this.levels;
    const dSigma = sigmaTilde(gamma[i - 1]!) - sigmaTilde(gamma[i]!);
    if (i === 1) return axpby(1, xTilde, dSigma, d);
    const predicted = axpby(1, xTilde.ref, dSigma, d.ref);
    const next = predicted.mul(alphaSigma(gamma[i - 1]!).alpha);
    const slope = karrasSlope(den, next, t[i - 1]!, gamma[i - 1]!);
    next.dispose();
    slope.xTilde.dispose();
    return axpby(1, xTilde, dSigma / 2, d.add(slope.d));
  }
}
