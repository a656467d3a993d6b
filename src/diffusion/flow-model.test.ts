/**
 * The probability-flow drift and its divergence for denoisers with a known Jacobian (linear in x_t),
 * exactly and by Hutchinson's probe, against formulas written here; and the model plumbing: a model
 * asked by γ alone, and host models (predictions computed outside jax-js) inside `jitFor`.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { exactArray } from "../engine/index.js";
import { type Array as JaxArray, numpy as np, tree } from "../engine/jax.js";
import { assertClose, useEngine } from "../testing/helpers.js";
import { sigmoid } from "../testing/reference.js";
import { flowFunction, flowWithDivergence } from "./flow.js";
import { gammaConditioned, type HostPredictor, hostApply, jitFor, type Model, withTracedHosts } from "./model.js";
import type { Target } from "./parameterization.js";

useEngine("cpu");

const read = (a: JaxArray) => Array.from(a.dataSync() as Float64Array);

// the network: pred = M x + t·c + 0.1 γ per example, M = [[0.5, 0.2], [−0.3, 0.8]]
const M = [
  [0.5, 0.2],
  [-0.3, 0.8],
];
const C = [0.4, -0.1];
const linearModel = (target: Target): Model<{ m: JaxArray; c: JaxArray }> => ({
  target,
  classes: 0,
  apply(params, xt, t, gamma) {
    return np
      .matmul(xt, params.m.transpose())
      .add(t.reshape([-1, 1]).mul(params.c))
      .add(gamma.reshape([-1, 1]).mul(0.1));
  },
});
const params = () => ({ m: exactArray(M.flat()).reshape([2, 2]), c: exactArray(C).reshape([1, 2]) });

const X = [
  [0.7, -1.2],
  [2.0, 0.3],
];
const T = [0.2, 0.65];
const G = [-3, 1.5];
const net = (b: number) => X[b]!.map((_, i) => M[i]![0]! * X[b]![0]! + M[i]![1]! * X[b]![1]! + T[b]! * C[i]! + 0.1 * G[b]!);

/** x̂_0 and the trace of ∂x̂_0/∂x per example: x̂_0 = pred (x0 target) or (x − σ pred)/α (eps target). */
function reference(target: "x0" | "eps", b: number, probe?: number[]) {
  const a = Math.sqrt(sigmoid(-G[b]!));
  const s = Math.sqrt(sigmoid(G[b]!));
  const p = net(b);
  const x0 = target === "x0" ? p : X[b]!.map((x, i) => (x - s * p[i]!) / a);
  // J = M or (I − σM)/α; the exact trace, or vᵀJv for a probe v
  const J = (i: number, j: number) => (target === "x0" ? M[i]![j]! : ((i === j ? 1 : 0) - s * M[i]![j]!) / a);
  const v = probe ?? null;
  const trace = v ? [0, 1].reduce((acc, i) => acc + [0, 1].reduce((inner, j) => inner + v[i]! * J(i, j) * v[j]!, 0), 0) : J(0, 0) + J(1, 1);
  return {
    drift: X[b]!.map((x, i) => 0.5 * (a * a * x - a * x0[i]!)),
    divergence: 0.5 * a * a * 2 - 0.5 * a * trace,
  };
}

describe("probability-flow drift and divergence", () => {
  const inputs = () => [exactArray(X.flat()).reshape([2, 2]), exactArray(T), exactArray(G)] as const;
  const PROBE = [1, -1, -1, -1];

  for (const target of ["x0", "eps"] as const) {
    it(`${target} target: f = ½(α²x − αx̂_0), ∇·f = ½α²D − ½α tr(∂x̂_0/∂x), exact and with a Rademacher probe`, () => {
      const model = linearModel(target);
      const exact = flowWithDivergence(model, params(), ...inputs(), null);
      const want = [0, 1].map((b) => reference(target, b));
      // measured: 2.2e-15 relative (the eps target's drift), 1e-15 elsewhere
      assertClose(
        read(exact.drift),
        want.flatMap((w) => w.drift),
        { rtol: 1e-14, label: "drift" },
      );
      assertClose(
        read(exact.divergence),
        want.map((w) => w.divergence),
        { rtol: 1e-14, label: "divergence" },
      );
      const probed = flowWithDivergence(model, params(), ...inputs(), exactArray(PROBE).reshape([2, 2]));
      const wantProbed = [0, 1].map((b) => reference(target, b, PROBE.slice(2 * b, 2 * b + 2)));
      assertClose(
        read(probed.drift),
        wantProbed.flatMap((w) => w.drift),
        { rtol: 1e-14, label: "drift (probe)" },
      );
      assertClose(
        read(probed.divergence),
        wantProbed.map((w) => w.divergence),
        { rtol: 1e-14, label: "divergence (probe)" },
      );
      // the jitted function of each mode, one per model and mode
      const jitted = flowFunction(model, true);
      assert.equal(flowFunction(model, true), jitted);
      assert.notEqual(flowFunction(model, false), jitted);
      const out = jitted(params(), ...inputs(), exactArray(PROBE).reshape([2, 2]));
      assertClose(
        read(out.divergence),
        want.map((w) => w.divergence),
        { rtol: 1e-14, label: "jitted exact divergence (the probe ignored)" },
      );
      out.drift.dispose();
      const outProbe = flowFunction(model, false)(params(), ...inputs(), exactArray(PROBE).reshape([2, 2]));
      assertClose(
        read(outProbe.divergence),
        wantProbed.map((w) => w.divergence),
        { rtol: 1e-14, label: "jitted probe divergence" },
      );
      outProbe.drift.dispose();
    });
  }

  it("refuses a host model", () => {
    const host: HostPredictor = { predict: (xt) => xt };
    assert.throws(() => flowFunction({ ...linearModel("eps"), host }, true), /the probability-flow divergence differentiates the network/);
  });
});

describe("models asked by γ", () => {
  it("gammaConditioned: time (γ − γ_lo)/(γ_hi − γ_lo) clamped to [−¼, 1¼], whatever t it is given", () => {
    const seen: number[][] = [];
    const inner: Model<{ k: JaxArray }> = {
      target: "v",
      classes: 3,
      apply(p, xt, t, gamma) {
        seen.push(read(t.ref));
        gamma.dispose();
        return xt.mul(p.k).add(t.reshape([-1, 1]));
      },
    };
    const model = gammaConditioned(inner, -10, 6);
    assert.deepEqual([model.target, model.classes, model.host], ["v", 3, undefined]);
    const out = model.apply(
      { k: exactArray([2]) },
      exactArray([1, 1, 1, 1, 1]).reshape([5, 1]),
      exactArray([9, 9, 9, 9, 9]),
      exactArray([-10, -2, 6, -100, Infinity]),
    );
    assert.deepEqual(seen, [[0, 0.5, 1, -0.25, 1.25]]);
    assert.deepEqual(read(out), [2, 2.5, 3, 1.75, 3.25]);
    const host: HostPredictor = { predict: (xt) => xt };
    assert.equal(gammaConditioned({ ...inner, host }, -1, 1).host, host);
  });
});

describe("host models inside jitFor", () => {
  /** A host that predicts 2x_t + t (computed on the host from the arrays it is given), counting its calls. */
  function doubling(): HostPredictor & { calls: number[][][] } {
    const calls: number[][][] = [];
    return {
      calls,
      predict(xt, t, gamma) {
        const [x, tt] = [read(xt.ref), read(t.ref)];
        calls.push([x, tt, read(gamma)]);
        const B = tt.length;
        const D = x.length / B;
        return exactArray(x.map((v, k) => 2 * v + tt[Math.floor(k / D)]!)).reshape(xt.shape);
      },
    };
  }
  const hostModel = (host: HostPredictor): Model => ({
    target: "eps",
    classes: 0,
    host,
    apply: (params, xt, t, gamma, labels) => {
      tree.dispose(params);
      return hostApply(host, xt, t, gamma, labels);
    },
  });
  const step = (model: Model) => (params: JaxArray, x: JaxArray, t: JaxArray, g: JaxArray) =>
    model.apply(params, x.ref.mul(3), t, g).mul(x).add(1);

  it("splits f at the host call: its inputs from the first pass, the prediction on the host, f from it", () => {
    const host = doubling();
    const f = jitFor(hostModel(host), step(hostModel(host)));
    const x = [1, -2, 0.5, 4];
    const t = [0.25, 0.75];
    const out = f(exactArray([0]), exactArray(x).reshape([2, 2]), exactArray(t), exactArray([-1, 2]));
    // (2·3x + t)·x + 1
    assert.deepEqual(
      read(out),
      x.map((v, k) => (6 * v + t[Math.floor(k / 2)]!) * v + 1),
    );
    assert.deepEqual(host.calls, [[x.map((v) => 3 * v), t, [-1, 2]]]);
    f.dispose();
  });

  it("passes labels and plain numbers through, and refuses a step that calls its host more often than when traced", () => {
    const seen: number[][] = [];
    const labelled: HostPredictor = {
      predict(xt, t, gamma, labels) {
        seen.push(read(labels!));
        tree.dispose([t, gamma]);
        return xt.mul(2);
      },
    };
    const model = hostModel(labelled);
    const f = jitFor(model, (x: JaxArray, labels: JaxArray, k: number) =>
      model
        .apply(exactArray([0]), x.ref, exactArray([0, 0]), exactArray([0, 0]), labels)
        .mul(k)
        .add(x),
    );
    assert.deepEqual(read(f(exactArray([1, 2]).reshape([2, 1]), np.array([3, 1], { dtype: np.int32 }), 2.5)), [6, 12]);
    assert.deepEqual(seen, [[3, 1]]);
    f.dispose();
    let traces = 0;
    const plain = hostModel(doubling());
    const growing = jitFor(plain, (x: JaxArray) => {
      traces++;
      const once = plain.apply(exactArray([0]), x.ref, exactArray([0]), exactArray([0]));
      return traces === 1 ? once.add(x) : once.add(plain.apply(exactArray([0]), x, exactArray([0]), exactArray([0])));
    });
    assert.throws(() => growing(exactArray([1])), /a host model was called more often than when its step was traced/);
  });

  it("eagerly, apply is the host's prediction; a host that compiles takes f whole", () => {
    const host = doubling();
    assert.deepEqual(read(hostApply(host, exactArray([1, 2]).reshape([1, 2]), exactArray([0.5]), exactArray([0]))), [2.5, 4.5]);
    let compiled = 0;
    const whole: HostPredictor = {
      predict: (xt) => xt,
      compile(fn) {
        compiled++;
        return Object.assign((...args: Parameters<typeof fn>) => fn(...args), { dispose: () => undefined }) as never;
      },
    };
    const g = jitFor(hostModel(whole), (x: JaxArray) => x.mul(2));
    assert.equal(compiled, 1);
    assert.deepEqual(read(g(exactArray([1.5]))), [3]);
  });

  it("withTracedHosts runs the host's traced network in place, and refuses a host without one", () => {
    const traced: HostPredictor = {
      predict: () => assert.fail("not on the host"),
      traced: (xt, t, gamma) => {
        tree.dispose([t, gamma]);
        return xt.mul(5);
      },
    };
    const out = withTracedHosts(() => hostApply(traced, exactArray([1, 2]), exactArray([0]), exactArray([0])));
    assert.deepEqual(read(out), [5, 10]);
    assert.throws(
      () => withTracedHosts(() => hostApply(doubling(), exactArray([1]), exactArray([0]), exactArray([0]))),
      /a host model without a traceable network was met while a whole step was compiled/,
    );
    // the mode ends with the call: eagerly the host predicts again
    assert.deepEqual(read(hostApply(doubling(), exactArray([1]).reshape([1, 1]), exactArray([0]), exactArray([0]))), [2]);
  });
});
