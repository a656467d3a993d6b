/**
 * The small pieces of the diffusion core, exactly (float64 on `cpu`), against their definitions
 * written here: the regression targets, the losses and KL weights, the forward process and the
 * batch helpers, on data of more than one dimension so that per-example broadcasting is exercised.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { exactArray } from "../engine/index.js";
import { assertClose, useEngine } from "../testing/helpers.js";
import { sigmoid } from "../testing/reference.js";
import { posteriorMean, posteriorVariance, qSample, qStep, transitionVariance } from "./forward.js";
import { continuousWeight, klWeight, priorKl, simpleLoss } from "./losses.js";
import { convert, parseTarget, scoreFromEps, type Target, targets, trueTarget, vFrom } from "./parameterization.js";
import { alphaOf, dimsOf, perExample, sigmaOf, sumDims } from "./shapes.js";

useEngine("cpu");

const read = (a: ReturnType<typeof exactArray>) => Array.from(a.dataSync() as Float64Array);

// two examples of three dimensions
const GAMMA = [-2.5, 1.5];
const X0 = [0.4, -1.3, 2.1, 0.9, 0.05, -0.6];
const EPS = [1.1, -0.2, 0.7, -1.4, 0.3, 0.8];
const at = (b: number) => ({ a: Math.sqrt(sigmoid(-GAMMA[b]!)), s: Math.sqrt(sigmoid(GAMMA[b]!)) });
/** per element k (example ⌊k/3⌋) */
const perElement = (fn: (k: number, a: number, s: number, b: number) => number) =>
  X0.map((_, k) => fn(k, at(Math.floor(k / 3)).a, at(Math.floor(k / 3)).s, Math.floor(k / 3)));
const mat = (v: number[]) => exactArray(v).reshape([2, 3]);

describe("targets", () => {
  const truth: Record<Target, number[]> = {
    eps: EPS,
    x0: X0,
    v: perElement((k, a, s) => a * EPS[k]! - s * X0[k]!),
    score: perElement((k, _a, s) => -EPS[k]! / s),
  };

  it("trueTarget, vFrom and scoreFromEps are the definitions v = αε − σx_0, s = −ε/σ", () => {
    for (const target of targets) {
      // measured: 3.4e-16 relative
      assertClose(read(trueTarget(target, mat(X0), mat(EPS), exactArray(GAMMA))), truth[target], { rtol: 1e-14, label: target });
    }
    assertClose(read(vFrom(mat(EPS), mat(X0), exactArray(GAMMA))), truth.v, { rtol: 1e-14, label: "vFrom" });
    assertClose(read(scoreFromEps(mat(EPS), exactArray(GAMMA))), truth.score, { rtol: 1e-14, label: "scoreFromEps" });
  });

  it("convert to the same target hands the prediction back bit for bit (no round trip through ε)", () => {
    // values whose round trip through ε is off in the last bit for the score and v targets
    const pred = [-26 / 7, -13 / 7, 13 / 7, -25 / 7, -5 / 7, -1 / 7];
    for (const target of targets) {
      assert.deepEqual(read(convert(mat(pred), target, target, mat(EPS), exactArray(GAMMA))), pred, target);
    }
  });

  it("parseTarget knows the four targets, in order, and names them for an unknown one", () => {
    assert.deepEqual(targets, ["eps", "x0", "v", "score"]);
    for (const t of targets) assert.equal(parseTarget(t), t);
    assert.throws(() => parseTarget("velocity"), /unknown target "velocity" \(known: eps, x0, v, score\)/);
  });
});

describe("losses", () => {
  const PRED = [0.2, 0.5, -1.0, 1.3, -0.7, 0.4];

  it("simpleLoss: the mean over dimensions of (prediction − target)², times σ² for the score", () => {
    const truth: Record<Target, number[]> = {
      eps: EPS,
      x0: X0,
      v: perElement((k, a, s) => a * EPS[k]! - s * X0[k]!),
      score: perElement((k, _a, s) => -EPS[k]! / s),
    };
    for (const target of targets) {
      const got = read(simpleLoss(mat(PRED), target, mat(X0), mat(EPS), exactArray(GAMMA)));
      const want = [0, 1].map((b) => {
        const mean = [0, 1, 2].reduce((acc, d) => acc + (PRED[3 * b + d]! - truth[target][3 * b + d]!) ** 2, 0) / 3;
        return target === "score" ? mean * sigmoid(GAMMA[b]!) : mean;
      });
      // measured: 2.2e-16 relative
      assertClose(got, want, { rtol: 1e-14, label: target });
    }
  });

  it("klWeight = ½(SNR_s/SNR_t − 1), continuousWeight = ½γ'", () => {
    const gs = [-Infinity, -3, 2];
    const gt = [-4, -2.2, 9];
    const want = gs.map((s, b) => 0.5 * (Math.exp(-s) / Math.exp(-gt[b]!) - 1));
    // measured: exact (the ratio of SNRs written out; ∞ for the data)
    assertClose(read(klWeight(exactArray(gs), exactArray(gt))), want, { rtol: 1e-15, label: "klWeight" });
    assertClose(read(continuousWeight(exactArray([3, -0.5]))), [1.5, -0.25], { rtol: 0, label: "continuousWeight" });
  });

  it("priorKl = Σ_d KL(N(α_T x_0, σ_T²) ‖ N(0, 1))", () => {
    const want = [0, 1].map((b) => {
      const { a, s } = at(b);
      return [0, 1, 2].reduce((acc, d) => acc + 0.5 * (s * s + (a * X0[3 * b + d]!) ** 2 - 1 - Math.log(s * s)), 0);
    });
    // measured: 8.2e-16 relative
    assertClose(read(priorKl(mat(X0), exactArray(GAMMA))), want, { rtol: 8e-15, label: "priorKl" });
  });
});

describe("forward process", () => {
  it("qSample = α x_0 + σ ε per example", () => {
    // measured: 1.2e-16 relative
    assertClose(
      read(qSample(mat(X0), exactArray(GAMMA), mat(EPS))),
      perElement((k, a, s) => a * X0[k]! + s * EPS[k]!),
      { rtol: 1e-15, label: "qSample" },
    );
  });

  it("qStep = (α_t/α_s) x_s + σ_{t|s} ε, and transitionVariance σ_{t|s}² = σ_t² − (α_t/α_s)² σ_s²", () => {
    const gs = [-6, 0.5];
    const gt = GAMMA.map((g, b) => g + [1.2, 3][b]!);
    const ref = (b: number) => {
      const [as, at2, ss, st] = [Math.sqrt(sigmoid(-gs[b]!)), Math.sqrt(sigmoid(-gt[b]!)), sigmoid(gs[b]!), sigmoid(gt[b]!)];
      return { ratio: at2 / as, variance: st - (at2 / as) ** 2 * ss };
    };
    // measured: exact and 1.6e-16 relative
    assertClose(
      read(transitionVariance(exactArray(gs), exactArray(gt))),
      [0, 1].map((b) => ref(b).variance),
      { rtol: 1e-15, label: "σ_{t|s}²" },
    );
    const got = read(qStep(mat(X0), exactArray(gs), exactArray(gt), mat(EPS)));
    const want = X0.map((x, k) => {
      const { ratio, variance } = ref(Math.floor(k / 3));
      return ratio * x + Math.sqrt(variance) * EPS[k]!;
    });
    assertClose(got, want, { rtol: 1.5e-15, label: "qStep" });
  });

  it("posteriorMean and posteriorVariance per example, broadcast over dimensions", () => {
    const gs = [-6, 0.5];
    const xt = EPS;
    const got = read(posteriorMean(mat(xt), mat(X0), exactArray(gs), exactArray(GAMMA)));
    const coef = (b: number) => {
      const [abs, abt] = [sigmoid(-gs[b]!), sigmoid(-GAMMA[b]!)];
      return {
        xt: (Math.sqrt(abt / abs) * (1 - abs)) / (1 - abt),
        x0: (Math.sqrt(abs) * (1 - abt / abs)) / (1 - abt),
        v: ((1 - abt / abs) * (1 - abs)) / (1 - abt),
      };
    };
    // measured: 1.8e-15 and 4.6e-14 relative (the DDPM forms lose digits to 1 − α_{t|s}²)
    assertClose(
      got,
      X0.map((x, k) => coef(Math.floor(k / 3)).xt * xt[k]! + coef(Math.floor(k / 3)).x0 * x),
      { rtol: 1.5e-14, label: "μ_q" },
    );
    assertClose(
      read(posteriorVariance(exactArray(gs), exactArray(GAMMA))),
      [0, 1].map((b) => coef(b).v),
      { rtol: 1e-13, label: "Σ_q" },
    );
  });
});

describe("batch helpers", () => {
  it("perExample, sumDims, dimsOf, alphaOf, sigmaOf on [B], [B, D] and [B, H, W]", () => {
    assert.deepEqual(perExample(exactArray([1, 2]), [2, 4, 5]).shape, [2, 1, 1]);
    assert.deepEqual(read(sumDims(exactArray([1, 2, 3, 4, 5, 6]).reshape([2, 1, 3]))), [6, 15]);
    assert.deepEqual(read(sumDims(exactArray([1, 2]))), [1, 2], "no data axes: unchanged");
    assert.deepEqual([dimsOf([7]), dimsOf([7, 3]), dimsOf([7, 4, 5])], [1, 3, 20]);
    const a = alphaOf(exactArray(GAMMA), [2, 3]);
    const s = sigmaOf(exactArray(GAMMA), [2, 3]);
    assert.deepEqual(
      [a.shape, s.shape],
      [
        [2, 1],
        [2, 1],
      ],
    );
    assertClose(
      read(a),
      [0, 1].map((b) => at(b).a),
      { rtol: 1e-15, label: "α" },
    );
    assertClose(
      read(s),
      [0, 1].map((b) => at(b).s),
      { rtol: 1e-15, label: "σ" },
    );
  });
});
