/**
 * UniPC (Zhao et al. 2023, "UniPC: a unified predictor–corrector framework"), UniPC-2 with
 * B(h) = e^h − 1 ("bh2"), data prediction, on N levels: the predictor UniP-2 is DPM-Solver++ 2M's
 * step (dpm-solver.ts: with ρ = ½ the two coincide), and after each step into a latent level s the
 * corrector UniC re-takes the step from the level t it left, adding the model's prediction m_s at the
 * predicted x_s (the evaluation the next step needs anyway, so NFE = N):
 *   x_s = (σ_s/σ_t) x_t + α_s φ_1 m_0 + α_s φ_1 (ρ_0 D_1 + ρ_1 (m_s − m_0)),   φ_1 = 1 − e^{−h},
 * with h = λ_s − λ_t (λ = −γ/2), m_0 = x̂_0 at t, D_1 = (m_0 − m_1)/r_0 the predictor's first difference
 * (r_0 = (λ_t − λ_{t'})/h), and ρ solving UniC's order conditions [1 1; −r_0 1]·ρ = (b_1, b_2):
 *   b_1 = 1/φ_1 − 1/h,   b_2 = (1 − 2(h − φ_1)/h²)/φ_1,
 *   ρ_0 = (b_1 − b_2)/(1 + r_0),   ρ_1 = b_1 − ρ_0
 * (as h → 0 with r_0 = 1: ρ = (1/12, 5/12), the 3-step Adams–Moulton weights (5, 8, −1)/12 on
 * m_s, m_0, m_1). A step of predictor order 1 (the first) is corrected with ρ_1 = ½ alone (the
 * trapezoid). The corrector raises the order by one: UniPC-2 converges at order 3, its predictor
 * alone (dpm++2m) at order 2. The corrected x_s is the state the next step starts from, while its
 * history keeps m_s at the predicted x_s (no further evaluation). Orders follow DPM-Solver++:
 * min(2, k + 1, N − k) at step k; the last step, to the data, is the predictor's and returns m_0.
 * `onStep` reports each latent level once corrected, i.e. after the model is evaluated there.
 */

import type { DiffusionProcess } from "../diffusion/process.js";
import { type Rng, realize } from "../engine/index.js";
import { type Array, tree } from "../engine/jax.js";
import { dpmSolverStep, firstDifference, lambdaOf, multistepOrder, type Prediction } from "./dpm-solver.js";
import { alphaSigma, type LevelOptions, OdeLevelSampler, predictX0 } from "./predict.js";
import type { Denoiser, SampleOptions } from "./sampler.js";

/** The predictor's order: UniP-2. */
const ORDER = 2;

/** UniC's weights (ρ_0 on D_1, ρ_1 on m_s − m_0) for a step of h in λ of predictor order 1 or 2 (r_0 as above). */
export function uniCorrectorWeights(h: number, r0: number, order: number): { rho0: number; rho1: number } {
  if (order < 2) return { rho0: 0, rho1: 0.5 };
  const phi1 = -Math.expm1(-h);
  const b1 = 1 / phi1 - 1 / h;
  const b2 = (1 - (2 * (h + Math.expm1(-h))) / (h * h)) / phi1;
  const rho0 = (b1 - b2) / (1 + r0);
  return { rho0, rho1: b1 - rho0 };
}

/**
 * UniC: the step from x_t (consumed) at γ_t to γ_s redone with m_s (borrowed), the prediction at the
 * predicted x_s; `history` (borrowed) as the predictor had it, newest (at γ_t) first.
 */
export function uniCorrector(xt: Array, history: readonly Prediction[], ms: Array, gammaT: number, gammaS: number, order: number): Array {
  const h = lambdaOf(gammaS) - lambdaOf(gammaT);
  const scale = alphaSigma(gammaS).alpha * -Math.expm1(-h); // α_s φ_1
  const r0 = order < 2 ? 1 : (history[0]!.lambda - history[1]!.lambda) / h;
  const { rho0, rho1 } = uniCorrectorWeights(h, r0, order);
  const x = dpmSolverStep(xt, history, gammaT, gammaS, 1).add(ms.ref.sub(history[0]!.m.ref).mul(scale * rho1));
  return order < 2 ? x : x.add(firstDifference(history, h).mul(scale * rho0));
}

/**
 * UniPC-2 (bh2; Zhao et al. 2023): DPM-Solver++ 2M corrected by UniC after each step, on N levels
 * (default spacing "log-snr", σ̃ ≤ 80); order 3, NFE = N.
 */
export class UniPcSampler extends OdeLevelSampler {
  readonly name = "unipc";
  constructor(process: DiffusionProcess, options: LevelOptions = {}) {
    super(process, options, "log-snr");
  }

  sample(den: Denoiser, shape: number[], rng: Rng, options: SampleOptions = {}): Array {
    const { onStep } = options;
    const { t, gamma } = this.levels;
    const N = t.length - 1;
    /** previous data predictions, newest first, with their λ */
    const history: Prediction[] = [];
    /** the level the last step left (uncorrected by this step) and that step's order */
    let left: { x: Array; order: number } | undefined;
    let x = rng.normal(shape);
    for (let i = N; i >= 1; i--) {
      const m = predictX0(den, x, t[i]!, gamma[i]!);
      if (left) {
        x.dispose();
        x = uniCorrector(left.x, history, m, gamma[i + 1]!, gamma[i]!, left.order);
        realize(x);
        onStep?.(i, x);
      }
      history.unshift({ m, lambda: lambdaOf(gamma[i]!) });
      if (history.length > ORDER) history.pop()!.m.dispose();
      const order = multistepOrder(ORDER, N - i, N);
      left = { x: x.ref, order };
      x = dpmSolverStep(x, history, gamma[i]!, gamma[i - 1]!, order);
      realize(x);
    }
    left?.x.dispose();
    tree.dispose(history.map((e) => e.m));
    onStep?.(0, x);
    return x;
  }
}
