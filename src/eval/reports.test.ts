/**
 * The ELBO reports' arithmetic by hand: `studyElboEstimators` and `elboReport` read an estimator's
 * per-example numbers, so an estimator that returns fixed, known numbers lets every summary — means,
 * standard errors, variances across draws, the one-term variance, bits/dim, the gap to log p — be
 * written out here from its definition.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { mixtureParams } from "../densities/oracle.js";
import { type ChainEstimates, type ChainEstimatorName, chainEstimatorNames, type ElboEstimator } from "../diffusion/elbo.js";
import { Rng } from "../engine/index.js";
import { numpy as np } from "../engine/jax.js";
import { useEngine } from "../testing/helpers.js";
import { studyElboEstimators } from "./elbo-variance.js";
import { elboReport, meanAndStdError } from "./likelihood.js";

useEngine("wasm");

const T = 4;
const B = 3;
const DIMS = 5;
const DRAWS = 3;
/** Draw k's numbers: the reconstruction, each estimator's prior and terms (index i), per example b. */
const reconstruction = (b: number, k: number) => 1.5 + 0.25 * b - 0.5 * k;
const offset: Record<ChainEstimatorName, number> = { denoising: 0.1, consistency: -0.7, "consistency-kl": 2.3 };
const prior = (name: ChainEstimatorName, b: number, k: number) => offset[name] + 0.3 * b * k;
const term = (name: ChainEstimatorName, i: number, b: number, k: number) =>
  offset[name] * (i + 1) + [0.4, -1.1, 2.6][k]! * (b + 1) * (i + 1) ** 2 + (name === "consistency" ? k * k : 0);

/** An estimator whose chain estimates are the numbers above, draw after draw; records the streams it was given. */
function fixedEstimator(T = 4) {
  const streams: Rng[] = [];
  const estimator = {
    process: { T },
    chainEstimates(_params: unknown, _x0: unknown, rng: Rng): ChainEstimates {
      const k = streams.length;
      streams.push(rng);
      const perName = <V>(f: (name: ChainEstimatorName) => V) =>
        Object.fromEntries(chainEstimatorNames.map((name) => [name, f(name)])) as Record<ChainEstimatorName, V>;
      return {
        reconstruction: Float64Array.from({ length: B }, (_, b) => reconstruction(b, k)),
        prior: perName((name) => Float64Array.from({ length: B }, (_, b) => prior(name, b, k))),
        terms: perName((name) => Array.from({ length: T - 1 }, (_, i) => Float64Array.from({ length: B }, (_, b) => term(name, i, b, k)))),
      };
    },
  };
  return { estimator: estimator as unknown as ElboEstimator, streams };
}

/** Sample variance (denominator n − 1). */
const variance = (v: number[]) => {
  const m = v.reduce((a, b) => a + b, 0) / v.length;
  return v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - 1);
};
const average = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
// the same sums in another order: measured 2.2e-16 relative at most
const close = (got: number, want: number, what: string) =>
  assert.ok(Math.abs(got - want) <= 2e-15 * Math.max(1, Math.abs(want)), `${what}: ${got} vs ${want}`);

describe("the chain estimators' study, by hand", () => {
  it("means, standard errors, bits/dim, variances across draws and the one-term variance", () => {
    const { estimator, streams } = fixedEstimator();
    const rng = new Rng(5);
    const x0 = np.zeros([B, DIMS]);
    const study = studyElboEstimators(estimator, {}, x0, { draws: DRAWS, rng });
    x0.dispose();
    assert.deepEqual([study.timesteps, study.examples, study.draws], [T, B, DRAWS]);
    assert.equal(streams.length, DRAWS);
    assert.ok(
      streams.every((s) => s === rng),
      "every draw comes from the given stream",
    );
    const draws = [...Array(DRAWS).keys()];
    const examples = [...Array(B).keys()];
    const terms = [...Array(T - 1).keys()];
    for (const name of chainEstimatorNames) {
      const total = (b: number, k: number) => reconstruction(b, k) + prior(name, b, k) + terms.reduce((s, i) => s + term(name, i, b, k), 0);
      const perExample = examples.map((b) => average(draws.map((k) => total(b, k))));
      const nats = average(perExample);
      const got = study.estimators[name];
      close(got.nats, nats, `${name} nats`);
      close(got.stdError, Math.sqrt(variance(perExample) / B), `${name} standard error`);
      close(got.bpd, nats / (DIMS * Math.LN2), `${name} bits/dim`);
      close(got.chainVariance, average(examples.map((b) => variance(draws.map((k) => total(b, k))))), `${name} chain variance`);
      // (T − 1)·ℓ_t with t uniform over the T − 1 terms: E[((T − 1) ℓ_t)²] − (E[(T − 1) ℓ_t])² over t and the draw
      const oneTerm = examples.map((b) => {
        const values = terms.flatMap((i) => draws.map((k) => (T - 1) * term(name, i, b, k)));
        const m = average(values);
        return average(values.map((v) => v * v)) - m * m;
      });
      close(got.oneTermVariance, average(oneTerm), `${name} one-term variance`);
      assert.deepEqual(got.perT.t, name === "denoising" ? [2, 3, 4] : [1, 2, 3]);
      got.perT.variance.forEach((v, i) =>
        close(v, average(examples.map((b) => variance(draws.map((k) => term(name, i, b, k))))), `${name} variance of term ${i}`),
      );
    }
  });

  it("T = 1 (no terms): the one-term variance is 0 and there is nothing per t", () => {
    const { estimator } = fixedEstimator(1);
    const x0 = np.zeros([B, DIMS]);
    const study = studyElboEstimators(estimator, {}, x0, { draws: DRAWS });
    x0.dispose();
    for (const name of chainEstimatorNames) {
      assert.equal(study.estimators[name].oneTermVariance, 0);
      assert.deepEqual(study.estimators[name].perT, { t: [], variance: [] });
    }
  });

  it("takes 8 draws from a fresh Rng(0) by default, and refuses fewer than 2 or a fractional count", () => {
    const { estimator, streams } = fixedEstimator();
    const x0 = np.zeros([B, DIMS]);
    studyElboEstimators(estimator, {}, x0);
    assert.equal(streams.length, 8);
    assert.ok(streams.every((s) => s instanceof Rng && s === streams[0]));
    assert.equal(studyElboEstimators(estimator, {}, x0, { draws: 2 }).draws, 2);
    for (const draws of [1, 2.5, 0])
      assert.throws(() => studyElboEstimators(estimator, {}, x0, { draws }), new RegExp(`needs at least 2 draws, got ${draws}`));
    x0.dispose();
  });
});

describe("the ELBO report, by hand", () => {
  it("terms, bits/dim, and the gap log p − ELBO to a Gaussian's exact density with its standard error", () => {
    const x = [0.3, -1.2, 2.1, 0.8];
    const costs = { reconstruction: [1.1, 0.4, 2.2, -0.3], prior: [0.01, 0.02, 0.5, 0.03], diffusion: [3, 2.5, 1.25, 4] };
    const estimator = {
      process: { T: 7 },
      terms: () => ({
        reconstruction: Float64Array.from(costs.reconstruction),
        prior: Float64Array.from(costs.prior),
        diffusion: Float64Array.from(costs.diffusion),
      }),
    } as unknown as ElboEstimator;
    const x0 = np.array(x).reshape([4, 1]);
    const [mu, s2] = [0.5, 1.7];
    const density = mixtureParams({ weights: [1], means: [[mu]], variances: [[s2]] });
    const report = elboReport(estimator, {}, x0, new Rng(0), {}, density);
    x0.dispose();
    const total = x.map((_, b) => costs.reconstruction[b]! + costs.prior[b]! + costs.diffusion[b]!);
    assert.equal(report.timesteps, 7);
    close(report.nats, average(total), "nats");
    close(report.bpd, average(total) / Math.LN2, "bits/dim");
    close(report.terms.prior, average(costs.prior), "prior");
    const logp = x.map((v) => -0.5 * ((v - mu) ** 2 / s2 + Math.log(2 * Math.PI * s2)));
    const gaps = logp.map((l, b) => l + total[b]!);
    // measured 1.1e-8: log p in float32
    assert.ok(Math.abs(report.logLikelihood! - average(logp)) < 1e-7, `log p ${report.logLikelihood} vs ${average(logp)}`);
    assert.ok(Math.abs(report.gap! - average(gaps)) < 1e-7, `gap ${report.gap} vs ${average(gaps)}`);
    assert.ok(Math.abs(report.gapStdError! - Math.sqrt(variance(gaps) / 4)) < 1e-7, `gap standard error ${report.gapStdError}`);
    const without = elboReport(estimator, {}, np.zeros([4, 1]), new Rng(0), {});
    assert.deepEqual([without.logLikelihood, without.gap, without.gapStdError], [undefined, undefined, undefined]);
  });

  it("meanAndStdError: the mean and s/√n; no standard error from one value", () => {
    const { mean, se } = meanAndStdError([2, 4, 9]);
    close(mean, 5, "mean");
    close(se, Math.sqrt(13 / 3), "standard error"); // s² = (9 + 1 + 16)/2 = 13
    const one = meanAndStdError(Float64Array.of(3.5));
    assert.equal(one.mean, 3.5);
    assert.ok(Number.isNaN(one.se));
  });
});
