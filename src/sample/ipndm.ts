/**
 * iPNDM, the improved pseudo linear multistep method (Zhang & Chen 2023, "DEIS", after Liu et al.
 * 2022's PNDM): explicit Adams–Bashforth steps on the probability-flow ODE in Karras et al.'s
 * coordinates (euler.ts), the scaled latent x̃ = x/α against σ̃ = e^{γ/2}, where the slope is the
 * model's ε-prediction:
 *   dx̃/dσ̃ = ε̂ = (x̃ − x̂_0(x̃))/σ̃.
 * A step from σ̃_t to σ̃_s integrates the polynomial through the slopes ε̂_0 (at σ̃_t), ε̂_1, ... of the
 * last p levels:
 *   x̃_s = x̃_t + Σ_j w_j ε̂_j,   w_j = ∫_{σ̃_t}^{σ̃_s} ℓ_j(σ̃) dσ̃,
 * ℓ_j the Lagrange basis on those p levels' σ̃, p = min(4, k + 1) at step k (orders 1, 2, 3, then 4
 * from the stored evaluations: no extra ones). On equal steps Δ in σ̃ the weights are the published
 * iPNDM's fixed coefficients, Δ·1, Δ·(3, −1)/2, Δ·(23, −16, 5)/12, Δ·(55, −59, 37, −9)/24; on the
 * library's levels, uneven in σ̃, these variable-step weights (the "iPNDM-v" of later solver
 * comparisons) keep the order 4 that the fixed ones lose (order 2 on levels uniform in t, measured
 * in orders.test.ts's setting). The last step, to σ̃ = 0, integrates the same polynomial down to the
 * data. On N levels (default spacing "log-snr", σ̃ ≤ 80), NFE = N.
 */

import type { DiffusionProcess, Levels } from "../diffusion/process.js";
import { type Rng, realize } from "../engine/index.js";
import { type Array, tree } from "../engine/jax.js";
import { karrasSlope, sigmaTilde } from "./euler.js";
import { alphaSigma, type LevelOptions, odeLevels } from "./predict.js";
import type { Denoiser, SampleOptions, Sampler } from "./sampler.js";

/** iPNDM's highest order: the Adams–Bashforth method on the last four slopes. */
const MAX_ORDER = 4;

/**
 * The Adams–Bashforth weights w_j = ∫_from^to ℓ_j(τ) dτ of the Lagrange basis on `nodes` (distinct,
 * nodes[0] the level the step leaves): with u = (τ − from)/(to − from) and ℓ_j expanded in powers
 * c_n u^n, w_j = (to − from)·Σ_n c_n/(n + 1). Exact for polynomials of degree < nodes.length.
 */
export function adamsBashforthWeights(nodes: readonly number[], from: number, to: number): number[] {
  const h = to - from;
  const u = nodes.map((node) => (node - from) / h);
  return u.map((uj, j) => {
    let coefficients = [1]; // ℓ_j(u) = Π_{k≠j} (u − u_k)/(u_j − u_k), lowest power first
    u.forEach((uk, k) => {
      if (k === j) return;
      const shifted = [0, ...coefficients].map((c, n) => c - uk * (coefficients[n] ?? 0));
      coefficients = shifted.map((c) => c / (uj - uk));
    });
    return h * coefficients.reduce((sum, c, n) => sum + c / (n + 1), 0);
  });
}

/** iPNDM (Zhang & Chen 2023) on N levels: Adams–Bashforth of orders 1 to 4 in x̃ = x/α against σ̃; NFE = N. */
export class IpndmSampler implements Sampler {
  readonly name = "ipndm";
  readonly levels: Levels;
  constructor(
    readonly process: DiffusionProcess,
    options: LevelOptions = {},
  ) {
    this.levels = odeLevels(process, options, "log-snr");
  }

  get nfe(): number {
    return this.levels.t.length - 1;
  }

  sample(den: Denoiser, shape: number[], rng: Rng, options: SampleOptions = {}): Array {
    const { onStep } = options;
    const { t, gamma } = this.levels;
    /** the last slopes ε̂, newest first, with their σ̃ */
    const slopes: { d: Array; sigma: number }[] = [];
    let x = rng.normal(shape);
    for (let i = t.length - 1; i >= 1; i--) {
      const { xTilde, d } = karrasSlope(den, x, t[i]!, gamma[i]!);
      x.dispose();
      slopes.unshift({ d, sigma: sigmaTilde(gamma[i]!) });
      if (slopes.length > MAX_ORDER) slopes.pop()!.d.dispose();
      const weights = adamsBashforthWeights(
        slopes.map((s) => s.sigma),
        sigmaTilde(gamma[i]!),
        sigmaTilde(gamma[i - 1]!),
      );
      const xs = weights.reduce((sum, w, j) => sum.add(slopes[j]!.d.ref.mul(w)), xTilde);
      x = xs.mul(alphaSigma(gamma[i - 1]!).alpha);
      realize(x);
      onStep?.(i - 1, x);
    }
    tree.dispose(slopes.map((s) => s.d));
    return x;
  }
}
