/**
 * DPM-Solver++ multistep (Lu et al. 2022, "DPM-Solver++", data prediction), orders 2 and 3, on
 * N levels. With λ = −γ/2 = log(α/σ), a step from t to s (h = λ_s − λ_t > 0) integrates the
 * probability-flow ODE exactly in its linear part and extrapolates x̂_0 in λ from the previous
 * levels' predictions m_0 (at t), m_1, m_2 (h_0 = λ_t − λ_{t'}, h_1 = λ_{t'} − λ_{t''}; r_j = h_j/h):
 *   order 1:  x_s = (σ_s/σ_t) x_t + α_s (1 − e^{−h}) m_0                          (= DDIM, η = 0)
 *   order 2:  x_s = (σ_s/σ_t) x_t + α_s (1 − e^{−h}) (m_0 + D_1/2),   D_1 = (m_0 − m_1)/r_0
 *   order 3:  x_s = (σ_s/σ_t) x_t + α_s (1 − e^{−h}) m_0 + α_s φ_2 D_1 − α_s φ_3 D_2, with
 *             D_1 = D_{1,0} + r_0/(r_0 + r_1)·(D_{1,0} − D_{1,1}),  D_2 = 2(D_{1,0} − D_{1,1})/(r_0 + r_1),
 *             D_{1,0} = (m_0 − m_1)/r_0,  D_{1,1} = (m_1 − m_2)/r_1,
 *             φ_2 = (e^{−h} − 1)/h + 1,  φ_3 = (e^{−h} − 1 + h)/h² − ½.
 *           With m(λ) expanded about λ_t, D_1 = h m' + O(h³) and D_2 = h² m'' + O(h³), and the exact
 *           solution's m'' term is α_s ∫_0^h e^{u−h} u²/2 du · m'' = −α_s φ_3 · h² m''. (The published
 *           implementations take D_2 = (D_{1,0} − D_{1,1})/(r_0 + r_1) ≈ h² m''/2, half of that, which
 *           leaves an O(h³) error per step: second order overall, as orders.test.ts measured.)
 * Step k of N (k = 0 first) uses order min(order, k + 1, N − k): lower orders while the history
 * fills and on the final steps (the last, to the data, has h = ∞ and returns m_0). NFE = N.
 */

import type { DiffusionProcess } from "../diffusion/process.js";
import { type Rng, realize } from "../engine/index.js";
import { type Array, tree } from "../engine/jax.js";
import { ConfigError } from "../errors.js";
import { alphaSigma, axpby, type LevelOptions, OdeLevelSampler, predictX0 } from "./predict.js";
import type { Denoiser, SampleOptions } from "./sampler.js";

/** The multistep order of DPM-Solver++: 2 (default) or 3. */
export type DpmSolverOrder = 2 | 3;

/** Options of `DpmSolverSampler`: its levels, and the order. */
export interface DpmSolverOptions extends LevelOptions {
  /** 2 (default) or 3 */
  order?: DpmSolverOrder;
}

/**
 * DPM-Solver++ multistep (Lu et al. 2022) on the probability-flow ODE with data prediction, order 2
 * or 3, on N levels (default spacing "log-snr", σ̃ ≤ 80); NFE = N.
 */
export class DpmSolverSampler extends OdeLevelSampler {
  readonly name: string;
  readonly order: DpmSolverOrder;
  constructor(process: DiffusionProcess, options: DpmSolverOptions = {}) {
    super(process, options, "log-snr");
    this.order = options.order ?? 2;
    if (this.order !== 2 && this.order !== 3) throw new ConfigError(`DPM-Solver++ order must be 2 or 3, got ${this.order}`);
    this.name = `dpm++${this.order}m`;
  }

  sample(den: Denoiser, shape: number[], rng: Rng, options: SampleOptions = {}): Array {
    const { onStep } = options;
    const { t, gamma } = this.levels;
    const N = t.length - 1;
    /** previous data predictions, newest first, with their λ */
    const history: Prediction[] = [];
    let x = rng.normal(shape);
    for (let i = N; i >= 1; i--) {
      const k = N - i;
      history.unshift({ m: predictX0(den, x, t[i]!, gamma[i]!), lambda: lambdaOf(gamma[i]!) });
      // Stryker disable next-line ConditionalExpression: never dropping the oldest prediction (condition false) leaves history[0..order−1] as they are; the arrays are only held to the end
      if (history.length > this.order) history.pop()!.m.dispose();
      x = dpmSolverStep(x, history, gamma[i]!, gamma[i - 1]!, multistepOrder(this.order, k, N));
      realize(x);
      onStep?.(i - 1, x);
    }
    // Stryker disable next-line ArrowFunction: releasing nothing instead of the last predictions changes no result (memory only)
    tree.dispose(history.map((e) => e.m));
    return x;
  }
}

/** A data prediction m = x̂_0 of one level, with the level's λ = −γ/2. */
export interface Prediction {
  m: Array;
  lambda: number;
}

/** λ = log(α/σ) = −γ/2 of a level (∞ for the data). */
export function lambdaOf(gamma: number): number {
  return -gamma / 2;
}

/**
 * The order of step k of N (k = 0 first) of a multistep method of order `order`: min(order, k + 1, N − k),
 * lower while the history fills and on the final steps.
 */
export function multistepOrder(order: number, k: number, N: number): number {
  return Math.min(order, k + 1, N - k);
}

/**
 * D_1 = (m_0 − m_1)/r_0, r_0 = (λ_t − λ_{t'})/h: the first difference of the newest two predictions of
 * `history` (borrowed) for a step of h in λ, h·m' + O(h²).
 */
export function firstDifference(history: readonly Prediction[], h: number): Array {
  const [m0h, m1h] = [history[0]!, history[1]!];
  const r0 = (m0h.lambda - m1h.lambda) / h;
  return m0h.m.ref.sub(m1h.m.ref).mul(1 / r0);
}

/**
 * One DPM-Solver++ step of order 1, 2 or 3 (the formulas above) from level γ_t to γ_s, with `history`
 * the predictions newest first (history[0] at γ_t; `order` of them are read). Consumes x; borrows the
 * history.
 */
export function dpmSolverStep(x: Array, history: readonly Prediction[], gammaT: number, gammaS: number, order: number): Array {
  const { sigma: st } = alphaSigma(gammaT);
  const { alpha: as, sigma: ss } = alphaSigma(gammaS);
  const h = lambdaOf(gammaS) - lambdaOf(gammaT);
  const phi1 = -Math.expm1(-h); // 1 − e^{−h} (1 at h = ∞)
  const base = axpby(ss / st, x, as * phi1, history[0]!.m.ref);
  if (order < 2) return base;
  const d10 = firstDifference(history, h);
  if (order === 2) return base.add(d10.mul(as * phi1 * 0.5));
  const [m0h, m1h, m2h] = [history[0]!, history[1]!, history[2]!];
  const r0 = (m0h.lambda - m1h.lambda) / h;
  const r1 = (m1h.lambda - m2h.lambda) / h;
  const d11 = m1h.m.ref.sub(m2h.m.ref).mul(1 / r1);
  const diff = d10.ref.sub(d11);
  const d1 = d10.add(diff.ref.mul(r0 / (r0 + r1)));
  const d2 = diff.mul(2 / (r0 + r1));
  const phi2 = Math.expm1(-h) / h + 1;
  const phi3 = (Math.expm1(-h) + h) / (h * h) - 0.5;
  return base.add(axpby(as * phi2, d1, -as * phi3, d2));
}
