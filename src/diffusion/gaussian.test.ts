/**
 * The diagonal-Gaussian pieces (float64 on `cpu`) against their definitions written here per
 * dimension, and the KL against its definition E_q[log q − log p], averaged exactly at sigma points.
 */
import { describe, it } from "node:test";
import { exactArray } from "../engine/index.js";
import type { Array as JaxArray } from "../engine/jax.js";
import { gaussKl, logNormal } from "../testing/elbo-reference.js";
import { assertClose, useEngine } from "../testing/helpers.js";
import { type DiagonalGaussian, gaussianKl, gaussianLogDensity, reparameterize, standardNormalLike } from "./gaussian.js";

useEngine("cpu");

const read = (a: JaxArray) => Array.from(a.dataSync() as Float64Array);
// two examples of three dimensions
const mat = (v: number[]) => exactArray(v).reshape([2, 3]);
const Q = { mean: [0.4, -1.3, 2.1, 0.9, 0.05, -0.6], logVar: [-0.5, 0.3, -1.7, 0.0, 1.2, -0.2] };
const P = { mean: [-0.2, 0.7, 1.5, 0.1, -0.4, 0.3], logVar: [0.6, -0.9, 0.2, -1.1, 0.4, 0.0] };
const Z = [1.1, -0.2, 0.7, -1.4, 0.3, 0.8];
const gaussian = (g: typeof Q): DiagonalGaussian => ({ mean: mat(g.mean), logVar: mat(g.logVar) });
/** per example, the sum over its three dimensions of f(k) */
const perExample = (f: (k: number) => number) => [0, 1].map((b) => [0, 1, 2].reduce((s, d) => s + f(3 * b + d), 0));

describe("diagonal Gaussians", () => {
  it("gaussianLogDensity: Σ_d log N(z_d; μ_d, σ_d²)", () => {
    const want = perExample((k) => logNormal(Z[k]!, Q.mean[k]!, Math.exp(Q.logVar[k]!)));
    // measured: 2e-16 relative
    assertClose(read(gaussianLogDensity(mat(Z), gaussian(Q))), want, { rtol: 1e-14, label: "log-density" });
  });

  it("gaussianKl: Σ_d KL(N(μ_q, σ_q²) ‖ N(μ_p, σ_p²)), zero against itself, and KL to N(0, I)", () => {
    const want = perExample((k) => gaussKl(Q.mean[k]!, Math.exp(Q.logVar[k]!), P.mean[k]!, Math.exp(P.logVar[k]!)));
    assertClose(read(gaussianKl(gaussian(Q), gaussian(P))), want, { rtol: 1e-14, label: "KL(q ‖ p)" });
    assertClose(read(gaussianKl(gaussian(Q), gaussian(Q))), [0, 0], { atol: 1e-15, label: "KL(q ‖ q)" });
    const standard = perExample((k) => gaussKl(Q.mean[k]!, Math.exp(Q.logVar[k]!), 0, 1));
    assertClose(read(gaussianKl(gaussian(Q), standardNormalLike(mat(Q.mean)))), standard, { rtol: 1e-14, label: "KL(q ‖ N(0, I))" });
  });

  it("reparameterize: z = μ + σ ε, and the KL is E_q[log q(z) − log p(z)] over the 6 sigma points ±√3 e_k of ε", () => {
    const want = Q.mean.map((m, k) => m + Math.exp(0.5 * Q.logVar[k]!) * Z[k]!);
    assertClose(read(reparameterize(gaussian(Q), mat(Z))), want, { rtol: 1e-14, label: "z" });
    // log q − log p is quadratic in ε, so the sigma points' mean is the expectation exactly
    const points = [1, -1].flatMap((sign) => [0, 1, 2].map((k) => [0, 1, 2].map((d) => (d === k ? sign * Math.sqrt(3) : 0))));
    const kl = [0, 1].map((b) => {
      const sums = points.map((eps) => {
        const e = [0, 1].flatMap((c) => (c === b ? eps : [0, 0, 0]));
        const z = () => reparameterize(gaussian(Q), mat(e));
        return read(gaussianLogDensity(z(), gaussian(Q)))[b]! - read(gaussianLogDensity(z(), gaussian(P)))[b]!;
      });
      return sums.reduce((s, v) => s + v, 0) / sums.length;
    });
    assertClose(kl, read(gaussianKl(gaussian(Q), gaussian(P))), { rtol: 1e-12, label: "E_q[log q − log p]" });
  });
});
