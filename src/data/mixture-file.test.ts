/**
 * Gaussian-mixture files: every malformed case gets an error naming the file and the problem;
 * point files (JSON arrays) keep working beside them; a 1-D file N(1.5, 0.5²) gives the closed-form
 * density and denoiser; and samples of a correlated 2-D file have the exact moments (5 standard
 * errors, estimated from the sample's own fourth moments).
 */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { mixtureLogDensity, mixtureParams, mixturePosterior } from "../densities/oracle.js";
import { exactArray } from "../engine/index.js";
import { numpy as np } from "../engine/jax.js";
import { assertClose, useEngine } from "../testing/helpers.js";
import { CORRELATED_MIXTURE } from "../testing/mixture-file.js";
import { loadSplit, mixtureMoments } from "./index.js";
import { knownMixture } from "./known.js";

useEngine("wasm");

const dir = mkdtempSync(join(tmpdir(), "vdm-mixture-"));
let files = 0;
/** `content` (JSON-encoded unless a string) written to a fresh .json file; its path. */
function file(content: unknown): string {
  const path = join(dir, `m${files++}.json`);
  writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content));
  return path;
}
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

describe("Gaussian-mixture files", () => {
  it("every malformed file gets an error naming the file and the problem", () => {
    const cases: [unknown, RegExp][] = [
      ["{ weights: [1] }", /not valid JSON/],
      [
        42,
        /expected a JSON object \{"weights", "means", "stds" or "covariances"\} describing a Gaussian mixture \(or an array of points\), got 42/,
      ],
      [{ means: [[0]], stds: [[1]] }, /missing field "weights"/],
      [{ weights: [1], stds: [[1]] }, /missing field "means"/],
      [{ weights: [1], means: [[0]] }, /missing field "stds" \(per-dimension standard deviations\) or "covariances"/],
      [{ weights: [1], means: [[0]], stds: [[1]], covariances: [[[1]]] }, /give "stds" or "covariances", not both/],
      [{ weights: [1], means: [[0]], variances: [[1]] }, /unknown field "variances"/],
      [{ weight: [1], means: [[0]], stds: [[1]] }, /unknown field "weight" \(a mixture has "weights"/], // not: missing field "weights"
      [{ weights: [0.5, 0], means: [[0], [1]], stds: [[1], [1]] }, /weights\[1\] = 0 is not positive/],
      [{ weights: [-0.5, 1.5], means: [[0], [1]], stds: [[1], [1]] }, /weights\[0\] = -0.5 is not positive/],
      [{ weights: [0.5, 0.4], means: [[0], [1]], stds: [[1], [1]] }, /weights sum to 0.9, not 1/],
      [{ weights: [0.5, 0.5], means: [[0, 0], [1]], stds: [[1, 1], [1]] }, /component 1: means\[1\] has 1 entries, expected D = 2/],
      [
        {
          weights: [0.5, 0.5],
          means: [
            [0, 0],
            [1, 1],
          ],
          stds: [
            [1, 1],
            [1, 1, 1],
          ],
        },
        /component 1: stds\[1\] has 3 entries, expected D = 2/,
      ],
      [{ weights: [0.5, 0.5], means: [[0], [1]], stds: [[1]] }, /stds has 1 entries, expected 2 \(one per weight\)/],
      [{ weights: [0.5, 0.5], means: [[0]], stds: [[1], [1]] }, /means has 1 entries, expected 2 \(one per weight\)/],
      [{ weights: [1], means: [[0, 0]], stds: [[1, 0]] }, /component 0: stds\[0\]\[1\] = 0 is not positive/],
      [{ weights: [1], means: [[0, 0]], covariances: [[[1, 0]]] }, /component 0: covariance has 1 rows, expected D = 2/],
      [
        {
          weights: [1],
          means: [[0, 0]],
          covariances: [
            [
              [1, 0.5],
              [0.4, 1],
            ],
          ],
        },
        /component 0: covariance is not symmetric \(\[0\]\[1\] = 0.5, \[1\]\[0\] = 0.4\)/,
      ],
      [
        {
          ...CORRELATED_MIXTURE,
          covariances: [
            CORRELATED_MIXTURE.covariances[0],
            [
              [1, 2],
              [2, 1],
            ],
          ],
        },
        /component 1: covariance is not positive definite \(eigenvalues from -1\.000 to 3\.000\)/,
      ],
      ['{"weights": [1], "means": [[0, 1e999]], "stds": [[1, 1]]}', /means\[0\]\[1\] is not a finite number \(null\)/],
      [{ weights: [1], means: [[0, null]], stds: [[1, 1]] }, /means\[0\]\[1\] is not a finite number \(null\)/],
      [{ weights: ["1"], means: [[0]], stds: [[1]] }, /weights\[0\] is not a finite number \("1"\)/],
      [{ weights: [1], means: [[0]], covariances: [[[Number.NaN]]] }, /covariances\[0\]\[0\]\[0\] is not a finite number \(null\)/],
      [{ weights: [], means: [], stds: [] }, /weights is empty/],
    ];
    for (const [content, message] of cases) {
      const path = file(content);
      const named = new RegExp(`^${escape(path)}: .*${message.source}`);
      for (const [via, read] of [
        ["knownMixture", () => knownMixture(path)],
        ["loadSplit", () => loadSplit(path, 0)],
      ] as const) {
        assert.throws(read, (err: Error) => named.test(err.message) || assert.fail(`${via} ${JSON.stringify(content)}: ${err.message}`));
      }
    }
  });

  it("a JSON array is still a point file for training data, and not a mixture", () => {
    const path = file(globalThis.Array.from({ length: 20 }, (_, i) => [i, -i]));
    const split = loadSplit(path, 0);
    assert.equal(split.train.n + split.test.n, 20);
    assert.equal(split.train.dim, 2);
    assert.throws(() => knownMixture(path), new RegExp(`${escape(path)} holds points \\(a JSON array\\), not a Gaussian mixture`));
    assert.throws(
      () => knownMixture("moons"),
      /no closed-form density for data set "moons" \(known: gaussian, eight-gaussians, ncsn-gmm; or FILE.json, a Gaussian mixture\)/,
    );
  });

  it("weights summing to 1 within 1e-6 are accepted and renormalised", () => {
    const m = knownMixture(file({ weights: [0.333333, 0.666667], means: [[0], [1]], stds: [[1], [2]] }));
    assert.equal(m.weights[0]! + m.weights[1]!, 1);
    assert.deepEqual(m.variances, [[1], [4]]);
  });

  it("a 1-D file N(1.5, 0.5²): the Gaussian's density, denoiser and held-out points", () => {
    const path = file({ weights: [1], means: [[1.5]], stds: [[0.5]] });
    const m = knownMixture(path);
    assert.deepEqual(m, { weights: [1], means: [[1.5]], variances: [[0.25]] });
    const x = [0.2, 1.5, 2.9];
    const gammas = [-Infinity, -1, 2];
    const logq = mixtureLogDensity(mixtureParams(m, np.float64), exactArray(x).reshape([3, 1]), exactArray(gammas));
    // N(x; α μ, α² s² + σ²) and E[x_0|x_t] = μ + α s²/(α² s² + σ²) (x_t − α μ)
    const stats = x.map((xt, i) => {
      const [a2, s2] = [1 / (1 + Math.exp(gammas[i]!)), 1 / (1 + Math.exp(-gammas[i]!))];
      const [a, v] = [Math.sqrt(a2), a2 * 0.25 + s2];
      return { logq: -0.5 * ((xt - a * 1.5) ** 2 / v + Math.log(2 * Math.PI * v)), x0: 1.5 + ((a * 0.25) / v) * (xt - a * 1.5) };
    });
    assertClose(
      logq.dataSync() as Float64Array,
      stats.map((s) => s.logq),
      { rtol: 1e-6, atol: 1e-6, label: "log q" },
    );
    const { x0 } = mixturePosterior(mixtureParams(m, np.float64), exactArray(x).reshape([3, 1]), exactArray(gammas));
    assertClose(
      x0.dataSync() as Float64Array,
      stats.map((s) => s.x0),
      { rtol: 1e-6, atol: 1e-6, label: "E[x0|xt]" },
    );

    const { train, test } = loadSplit(path, 3, { train: 4000, test: 1000 });
    assert.equal(train.dim, 1);
    for (const set of [train, test]) {
      const mean = set.points.reduce((s, v) => s + v, 0) / set.n;
      const variance = set.points.reduce((s, v) => s + (v - mean) ** 2, 0) / set.n;
      assert.ok(Math.abs(mean - 1.5) < 5 * Math.sqrt(0.25 / set.n), `mean ${mean}`);
      assert.ok(Math.abs(variance - 0.25) < 5 * Math.sqrt((2 * 0.25 ** 2) / set.n), `variance ${variance}`);
    }
    assert.notDeepEqual(train.points.slice(0, 10), test.points.slice(0, 10), "train and held-out points come from different streams");
  });

  it("samples of a correlated 2-D mixture file have its exact mean and covariance (5 standard errors)", () => {
    const path = file(CORRELATED_MIXTURE);
    const { mean, covariance } = mixtureMoments(knownMixture(path));
    const n = 20000;
    const { points } = loadSplit(path, 7, { train: n, test: 1 }).train;
    const col = (d: number) => globalThis.Array.from({ length: n }, (_, i) => points[2 * i + d]!);
    const avg = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
    const [x, y] = [col(0), col(1)];
    const [mx, my] = [avg(x), avg(y)];
    // each estimate is a mean of n i.i.d. terms; its standard error is their sample std/√n
    const check = (terms: number[], expected: number, label: string) => {
      const m = avg(terms);
      const se = Math.sqrt(avg(terms.map((t) => (t - m) ** 2)) / n);
      assert.ok(Math.abs(m - expected) < 5 * se, `${label}: ${m} vs exact ${expected} (s.e. ${se})`);
      return se;
    };
    check(x, mean[0]!, "mean x");
    check(y, mean[1]!, "mean y");
    check(
      x.map((v) => (v - mx) ** 2),
      covariance[0]![0]!,
      "var x",
    );
    check(
      y.map((v) => (v - my) ** 2),
      covariance[1]![1]!,
      "var y",
    );
    const se = check(
      x.map((v, i) => (v - mx) * (y[i]! - my)),
      covariance[0]![1]!,
      "cov xy",
    );
    // a sampler that drew each component axis-aligned would miss Σ_k π_k Σ_k[0][1] of cov xy
    const within = CORRELATED_MIXTURE.weights.reduce((s, w, k) => s + w * CORRELATED_MIXTURE.covariances[k]![0]![1]!, 0);
    assert.ok(
      Math.abs(within) > 10 * se,
      `the within-component covariance ${within} is too small for the test to see an axis-aligned sampler`,
    );
  });
});
