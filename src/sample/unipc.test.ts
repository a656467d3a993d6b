/**
 * UniC's weights: as h → 0 on equal steps they tend to the 3-step Adams–Moulton weights, and the
 * corrector of order 2 integrates the data-prediction ODE exactly when x̂_0 is quadratic in λ:
 *   x_s = (σ_s/σ_t) x_t + α_s ∫_0^h e^{u−h} m(λ_t + u) du
 *       = (σ_s/σ_t) x_t + α_s (φ_1 m + (h − φ_1) m' + (h²/2 − h + φ_1) m''),   φ_1 = 1 − e^{−h},
 * for m(λ_t + u) = m + u m' + u² m''/2 (float64, the `cpu` device).
 */
import { describe, it } from "node:test";
import { numpy as np } from "../engine/jax.js";
import { assertClose, useEngine } from "../testing/helpers.js";
import { alpha, sigma } from "../testing/reference.js";
import { uniCorrector, uniCorrectorWeights } from "./unipc.js";

useEngine("cpu");

describe("UniC (UniPC's corrector, bh2)", () => {
  it("tends to Adams–Moulton's (5, 8, −1)/12 as h → 0 with r_0 = 1: ρ = (1/12, 5/12)", () => {
    const { rho0, rho1 } = uniCorrectorWeights(1e-3, 1, 2);
    assertClose([rho0, rho1], [1 / 12, 5 / 12], { atol: 2e-4, label: "ρ" });
    assertClose([uniCorrectorWeights(0.3, 1, 1).rho1], [0.5], { label: "order 1: the trapezoid" });
  });

  it("of order 2 is exact when x̂_0 is quadratic in λ, on uneven steps", () => {
    const [m, m1, m2] = [0.8, -1.3, 2.1]; // m, m', m'' at λ_t
    const mAt = (u: number) => m + u * m1 + (u * u * m2) / 2;
    const [gt, gs, gPrev] = [1.2, -0.4, 3.1]; // γ_t, γ_s, and the level before t
    const [lt, ls, lPrev] = [-gt / 2, -gs / 2, -gPrev / 2];
    const h = ls - lt;
    const scalar = (v: number) => np.array([v], { dtype: np.float64 });
    const history = [
      { m: scalar(m), lambda: lt },
      { m: scalar(mAt(lPrev - lt)), lambda: lPrev },
    ];
    const xt = 0.37;
    const got = uniCorrector(scalar(xt), history, scalar(mAt(h)), gt, gs, 2).dataSync() as Float64Array;
    const phi1 = -Math.expm1(-h);
    const want = (sigma(gs) / sigma(gt)) * xt + alpha(gs) * (phi1 * m + (h - phi1) * m1 + ((h * h) / 2 - h + phi1) * m2);
    assertClose(got, [want], { rtol: 1e-13, label: "x_s" });
    for (const e of history) e.m.dispose();
  });
});
