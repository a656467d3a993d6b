/**
 * Every schedule's γ(t), γ'(t) (through forward-mode AD) and γ⁻¹ at several points against closed
 * forms written here in float64 (algebraically different from the library's: e.g. the inverses by
 * solving for t directly), the posterior coefficients against DDPM's ᾱ formulas, the stable
 * sigmoid/softplus, the learned schedules against their network written out in plain JS, and the
 * schedules' own checks of their inputs.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { exactArray, Rng } from "../engine/index.js";
import { numpy as np, tree } from "../engine/jax.js";
import { tracingFor } from "../engine/tracing.js";
import { assertClose, useEngine } from "../testing/helpers.js";
import { cosineClosedForm, sigmoid as sig } from "../testing/reference.js";
import {
  cosineSchedule,
  defaultLearnedInit,
  discretize,
  gammaWithDerivative,
  geometricSchedule,
  getSchedule,
  initLearnedSchedule,
  isLearnedSchedule,
  learnedSchedule,
  linearSchedule,
  logSnrLinearSchedule,
  type NoiseSchedule,
  posteriorCoefficients,
  sigmoid,
  softplus,
  sqrtSchedule,
} from "./index.js";

useEngine("cpu");

const read = (a: np.Array) => Array.from(a.dataSync() as Float64Array);

/** A schedule's closed forms in float64. */
interface ClosedForm {
  schedule: NoiseSchedule;
  gamma: (t: number) => number;
  dgamma: (t: number) => number;
  inverse: (g: number) => number;
}

// linear: −log ᾱ = ℓ(t) = 0.1 t + 9.95 t², γ = log(e^ℓ − 1), γ' = ℓ'·e^ℓ/(e^ℓ − 1); t = (−0.1 + √(0.01 + 39.8 ℓ))/19.9
const ell = (t: number) => 0.1 * t + 9.95 * t * t;
const linear: ClosedForm = {
  schedule: linearSchedule(),
  gamma: (t) => Math.log(Math.expm1(ell(t))),
  dgamma: (t) => ((0.1 + 19.9 * t) * Math.exp(ell(t))) / Math.expm1(ell(t)),
  inverse: (g) => (-0.1 + Math.sqrt(0.01 + 39.8 * Math.log1p(Math.exp(g)))) / 19.9,
};

const cosine: ClosedForm = { schedule: cosineSchedule(), ...cosineClosedForm };

const logSnrLinear: ClosedForm = {
  schedule: logSnrLinearSchedule(),
  gamma: (t) => -13.3 + 18.3 * t,
  dgamma: () => 18.3,
  inverse: (g) => (g + 13.3) / 18.3,
};

// geometric: σ̃(t) = 0.01^{1−t}·10^t, γ = 2 log σ̃
const geometric: ClosedForm = {
  schedule: geometricSchedule(),
  gamma: (t) => 2 * Math.log(0.01 ** (1 - t) * 10 ** t),
  dgamma: () => 2 * Math.log(1000),
  inverse: (g) => (g / 2 - Math.log(0.01)) / Math.log(1000),
};

// sqrt: ᾱ = 1 − r, r = √(t + s), γ = log(r/(1 − r)), γ' = r'/(r(1 − r)), r' = 1/(2r)
const SQ = 1e-4;
const sqrt: ClosedForm = {
  schedule: sqrtSchedule(),
  gamma: (t) => Math.log(Math.sqrt(t + SQ) / (1 - Math.sqrt(t + SQ))),
  dgamma: (t) => 1 / (2 * (t + SQ) * (1 - Math.sqrt(t + SQ))),
  inverse: (g) => (Math.exp(g) / (1 + Math.exp(g))) ** 2 - SQ,
};

const forms: Record<string, ClosedForm> = { linear, cosine, "log-snr-linear": logSnrLinear, geometric, sqrt };

describe("fixed schedules against closed forms (float64)", () => {
  it("the registry's schedules are these, with their domains", () => {
    const domains: Record<string, [number, number]> = {
      linear: [1e-5, 1],
      cosine: [1e-5, 0.999],
      "log-snr-linear": [0, 1],
      geometric: [0, 1],
      sqrt: [0, 0.999],
    };
    for (const [name, [tMin, tMax]] of Object.entries(domains)) {
      const s = getSchedule(name);
      assert.deepEqual([s.name, s.tMin, s.tMax], [name, tMin, tMax]);
    }
    assert.equal(getSchedule("cosine").maxBeta, 0.999);
    assert.equal(getSchedule("sqrt").maxBeta, 0.999);
    assert.equal(getSchedule("linear").maxBeta, undefined);
  });

  for (const [name, form] of Object.entries(forms)) {
    it(`${name}: γ(t), γ'(t) by jvp, and γ⁻¹(γ) at points across [tMin, tMax]`, () => {
      const { tMin, tMax } = form.schedule;
      const t = [0, 0.1, 0.37, 0.8, 1].map((u) => tMin + (tMax - tMin) * u);
      const [g, dg] = gammaWithDerivative(form.schedule, exactArray(t));
      // measured worst errors over the five schedules, all cosine's: 2.2e-14 relative (γ), 1.4e-13 (γ' at
      // tMax, where cos b is small), 3.3e-15 absolute (γ⁻¹ at tMin: the reference's acos near 1)
      assertClose(read(g), t.map(form.gamma), { rtol: 2e-13, atol: 1e-14, label: `${name} γ` });
      assertClose(read(dg), t.map(form.dgamma), { rtol: 1e-12, label: `${name} γ'` });
      const levels = t.map(form.gamma);
      assertClose(read(form.schedule.inverse!(exactArray(levels))), levels.map(form.inverse), {
        rtol: 1e-12,
        atol: 3e-14,
        label: `${name} γ⁻¹`,
      });
    });
  }

  it("sqrt floors 1 − √(t + s) at 1e-12 where ᾱ would cross 0 (t ≥ 1 − s)", () => {
    const g = read(sqrtSchedule().gamma(exactArray([1, 1.5])));
    assertClose(g, [0.5 * Math.log(1 + SQ) - Math.log(1e-12), 0.5 * Math.log(1.5 + SQ) - Math.log(1e-12)], {
      rtol: 1e-15,
      label: "floored γ",
    });
  });

  it("other parameters: cosine's s, sqrt's s, log-snr-linear's and geometric's ends", () => {
    const t = [0.2, 0.6];
    const s = 0.05;
    const b = (u: number) => ((u + s) / (1 + s)) * (Math.PI / 2);
    assertClose(
      read(cosineSchedule(s).gamma(exactArray(t))),
      t.map((u) => Math.log(Math.cos(b(0)) ** 2 / Math.cos(b(u)) ** 2 - 1)),
      { rtol: 1e-13, label: "cosine s = 0.05" },
    );
    const r = (u: number) => Math.sqrt(u + 0.01);
    assertClose(
      read(sqrtSchedule(0.01).gamma(exactArray(t))),
      t.map((u) => Math.log(r(u) / (1 - r(u)))),
      { rtol: 1e-13, label: "sqrt s = 0.01" },
    );
    assertClose(read(logSnrLinearSchedule(-4, 6).gamma(exactArray(t))), [-2, 2], { rtol: 1e-15, label: "log-snr-linear(−4, 6)" });
    assertClose(
      read(geometricSchedule(0.1, 100).gamma(exactArray(t))),
      t.map((u) => 2 * Math.log(0.1 ** (1 - u) * 100 ** u)),
      { rtol: 1e-13, label: "geometric(0.1, 100)" },
    );
  });

  it("reject parameters that give no schedule", () => {
    assert.throws(() => logSnrLinearSchedule(3, 3), /log-snr-linear needs gammaMin < gammaMax, got 3 and 3/);
    assert.throws(() => sqrtSchedule(0), /the sqrt schedule's offset s must be > 0, got 0/);
  });
});

describe("discrete chains", () => {
  it("linear at T = 1 is the single DDPM β_1 rescaled by 1000: 0.1", () => {
    const d = discretize(linearSchedule(), 1);
    assert.deepEqual(Array.from(d.beta), [0, 0.1]);
    assert.deepEqual(Array.from(d.t), [0, 1]);
    assert.equal(d.name, "linear");
    assert.equal(d.T, 1);
  });

  it("refuses a β outside (0, 1)", () => {
    const withBetas = (betas: number[]): NoiseSchedule => ({ ...logSnrLinearSchedule(), betas: () => Float64Array.from(betas) });
    assert.throws(() => discretize(withBetas([0.5, 1]), 2), /β_2 = 1 is outside \(0, 1\)/);
    assert.throws(() => discretize(withBetas([0, 0.5]), 2), /β_1 = 0 is outside \(0, 1\)/);
  });

  it("a schedule without maxBeta is not clipped: log-snr-linear's last β may exceed 0.999", () => {
    // γ from −13.3 to 20 in two steps: β_2 = 1 − ᾱ_2/ᾱ_1 with ᾱ = sigmoid(−γ)
    const d = discretize(logSnrLinearSchedule(-13.3, 20), 2);
    const alphaBar = [1, sig(13.3 - 16.65), sig(-20)];
    assertClose(Array.from(d.beta.subarray(1)), [1 - alphaBar[1]!, 1 - alphaBar[2]! / alphaBar[1]!], { rtol: 1e-13, label: "β" });
    assert.ok(d.beta[2]! > 0.999);
  });
});

describe("posterior coefficients and the stable functions", () => {
  it("posteriorCoefficients against DDPM's forms in ᾱ_s, ᾱ_t, including s = the data (γ_s = −∞)", () => {
    const pairs = [
      [-Infinity, -3],
      [-5, -4.9],
      [-2, 3],
      [4, 9],
      [-12, 10],
    ] as const;
    const { coefXt, coefX0, variance } = posteriorCoefficients(exactArray(pairs.map((p) => p[0])), exactArray(pairs.map((p) => p[1])));
    const want = pairs.map(([gs, gt]) => {
      const [as, at] = [sig(-gs), sig(-gt)];
      const a = at / as; // α_{t|s}²
      return { xt: (Math.sqrt(a) * (1 - as)) / (1 - at), x0: (Math.sqrt(as) * (1 - a)) / (1 - at), v: ((1 - a) * (1 - as)) / (1 - at) };
    });
    // measured: 1.2e-12 relative (the DDPM forms lose digits to 1 − ᾱ_t near 1 and 1 − α_{t|s}² near 0)
    assertClose(
      read(coefXt),
      want.map((w) => w.xt),
      { rtol: 1e-11, atol: 1e-300, label: "coefXt" },
    );
    assertClose(
      read(coefX0),
      want.map((w) => w.x0),
      { rtol: 1e-11, label: "coefX0" },
    );
    assertClose(
      read(variance),
      want.map((w) => w.v),
      { rtol: 1e-11, atol: 1e-300, label: "variance" },
    );
  });

  it("softplus(x) = log(1 + eˣ) in both tails and at ±∞", () => {
    const x = [-Infinity, -800, -3, 0, 2, 40, 800];
    const want = [0, 0, Math.log1p(Math.exp(-3)), Math.LN2, 2 + Math.log1p(Math.exp(-2)), 40 + Math.log1p(Math.exp(-40)), 800];
    // measured: 2e-15 relative
    assertClose(read(softplus(exactArray(x))), want, { rtol: 1e-14, label: "softplus" });
  });

  it("sigmoid traced for export is the direct form on max(x, −80)", () => {
    const x = [-100, -80, -3, 0, 3];
    const got = tracingFor({ export: true }, () => read(sigmoid(exactArray(x))));
    assertClose(got, [sig(-80), sig(-80), sig(-3), 0.5, sig(3)], { rtol: 1e-15, label: "export sigmoid" });
    assert.ok(read(sigmoid(exactArray([-100])))[0]! < sig(-99), "outside export, the tail goes on");
  });
});

describe("learned schedules against their network in plain JS (float64)", () => {
  const H = 3;
  const interior = { w1: 0.7, b1: 0.2, w2: [0.5, -1.2, 2.0], b2: [0.1, -0.4, 0.3], w3: [0.9, -0.3, 1.5] };
  const softplusJs = (x: number) => Math.log1p(Math.exp(x));
  // γ̃(t) = l₁ + Σ_h softplus(w3_h)·sigmoid(softplus(w2_h)·l₁ + b2_h), l₁ = softplus(w1)·t + b1
  const tilde = (t: number) => {
    const l1 = softplusJs(interior.w1) * t + interior.b1;
    return l1 + interior.w2.reduce((s, w, h) => s + softplusJs(interior.w3[h]!) * sig(softplusJs(w) * l1 + interior.b2[h]!), 0);
  };
  const gammaJs = (t: number) => -6 + 9 * ((tilde(t) - tilde(0)) / (tilde(1) - tilde(0)));
  /** parameters on `device`, float32 */
  const paramsOn = (device: "cpu" | "wasm") => {
    const a = (v: number[], shape: number[]) => np.array(v, { device }).reshape(shape);
    return {
      gammaMin: a([-6], [1]),
      gammaMax: a([3], [1]),
      interior: {
        w1: a([interior.w1], [1, 1]),
        b1: a([interior.b1], [1]),
        w2: a(interior.w2, [1, H]),
        b2: a(interior.b2, [H]),
        w3: a(interior.w3, [H, 1]),
      },
    };
  };
  const t = [0, 0.15, 0.5, 0.85, 1];
  // the parameters are float32 numbers: the reference reads them as such
  const rounded = <T>(x: T): T => JSON.parse(JSON.stringify(x, (_, v) => (typeof v === "number" ? Math.fround(v) : v)));
  Object.assign(interior, rounded(interior));

  it("learned: γ_min + (γ_max − γ_min)(γ̃(t) − γ̃(0))/(γ̃(1) − γ̃(0)), for float64 t with parameters on another device, and float32 t", () => {
    for (const device of ["cpu", "wasm"] as const) {
      const p = paramsOn(device);
      const s = learnedSchedule("learned", p);
      assert.deepEqual([s.name, s.tMin, s.tMax, s.inverse], ["learned", 0, 1, undefined]);
      // measured: exact (float64 t)
      assertClose(read(s.gamma(exactArray(t))), t.map(gammaJs), { rtol: 1e-13, atol: 1e-14, label: `${device} parameters, float64 t` });
      const g32 = Array.from(s.gamma(np.array(t)).dataSync() as Float32Array);
      // measured: 7e-7 absolute (float32)
      assertClose(g32, t.map(gammaJs), { atol: 2e-6, label: `${device} parameters, float32 t` });
      // γ' by jvp (a trace: no device on the tracers) against central differences of the float64 reference
      const [, dg] = gammaWithDerivative(s, exactArray(t.slice(1, 4)));
      const h = 1e-6;
      // measured: 1.3e-10 relative (the central difference's own error)
      assertClose(
        read(dg),
        t.slice(1, 4).map((u) => (gammaJs(u + h) - gammaJs(u - h)) / (2 * h)),
        { rtol: 1.3e-9, label: `${device} γ'` },
      );
      tree.dispose(p);
    }
  });

  it("learned-linear: γ_min + (γ_max − γ_min)·t", () => {
    const p = { gammaMin: np.array([-5]), gammaMax: np.array([7]) };
    const s = learnedSchedule("learned-linear", p);
    assert.equal(s.name, "learned-linear");
    assertClose(
      read(s.gamma(exactArray(t))),
      t.map((u) => -5 + 12 * u),
      { rtol: 1e-15, atol: 1e-15, label: "learned-linear" },
    );
    tree.dispose(p);
  });

  it("initial parameters: VDM's endpoints, w1 = 1, b1 = b2 = 0, w2 ~ N(0, 1), w3 ~ N(0, 1)/H", () => {
    assert.deepEqual(defaultLearnedInit, { gammaMin: -13.3, gammaMax: 5, hidden: 1024 });
    const linearInit = initLearnedSchedule("learned-linear", new Rng(1));
    assert.deepEqual([read(linearInit.gammaMin), read(linearInit.gammaMax), linearInit.interior], [[Math.fround(-13.3)], [5], undefined]);
    const p = initLearnedSchedule("learned", new Rng(4), { gammaMin: -2, gammaMax: 1, hidden: 5 });
    const draws = new Rng(4);
    const w2 = Array.from(draws.normal([1, 5]).dataSync() as Float32Array);
    const w3 = Array.from(draws.normal([5, 1]).dataSync() as Float32Array).map((v) => v / 5);
    const i = p.interior!;
    assert.deepEqual([read(p.gammaMin), read(p.gammaMax), read(i.w1), read(i.b1), read(i.b2)], [[-2], [1], [1], [0], [0, 0, 0, 0, 0]]);
    assert.deepEqual(
      [i.w2.shape, i.w3.shape],
      [
        [1, 5],
        [5, 1],
      ],
    );
    assertClose(read(i.w2), w2, { rtol: 0, label: "w2" });
    // measured: 2.3e-8 (w3/H rounded to float32)
    assertClose(read(i.w3), w3, { rtol: 1e-7, label: "w3" });
  });

  it("names the kinds and refuses mismatched parameters or endpoints", () => {
    assert.equal(isLearnedSchedule("learned"), true);
    assert.equal(isLearnedSchedule("learned-linear"), true);
    assert.equal(isLearnedSchedule("cosine"), false);
    assert.throws(
      () => initLearnedSchedule("learned", new Rng(1), { gammaMin: 2, gammaMax: 2, hidden: 4 }),
      /a learned schedule needs γ_min < γ_max, got 2 and 2/,
    );
    const ends = { gammaMin: np.array([-1]), gammaMax: np.array([1]) };
    assert.throws(() => learnedSchedule("learned", ends), /the parameters do not match a "learned" schedule/);
    const full = paramsOn("cpu");
    assert.throws(() => learnedSchedule("learned-linear", full), /the parameters do not match a "learned-linear" schedule/);
    tree.dispose([ends, full]);
  });
});
