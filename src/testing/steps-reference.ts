/**
 * The sampler-step tests' setting and float64 references (sample/steps.test.ts,
 * sample/stochastic-steps.test.ts): data N(μ, diag S²) in 2-D; the schedule γ(t) = −8 + 16t² (σ̃ from
 * e^{−4} to e^4), whose levels uniform in t are uneven in λ = −γ/2 and whose constants are exact in
 * float32, as jit makes a traced function's constants; the model (`timedOracle`, reading its level
 * from t) written out in float64; and `checkSteps`, which recomputes each step a sampler reports
 * from the x_i it reported before, fed the same noise (`RecordedRng`).
 */
import assert from "node:assert/strict";
import { mixtureParams } from "../densities/oracle.js";
import { DiffusionProcess } from "../diffusion/process.js";
import { numpy as np } from "../engine/jax.js";
import type { Sampler } from "../sample/sampler.js";
import type { NoiseSchedule } from "../schedule/index.js";
import { assertClose } from "./helpers.js";
import { alpha, sigmoid } from "./reference.js";
import { RecordedRng, timedOracle } from "./timed-oracle.js";

const schedule: NoiseSchedule = { name: "quadratic", tMin: 0, tMax: 1, gamma: (t) => np.square(t).mul(16).sub(8) };
export const process = new DiffusionProcess(schedule, 0);
const MU = [1.5, -0.5];
const S2 = [0.25, 1.44];
export const SHAPE = [4, 2];
export const den = () => ({
  model: timedOracle(schedule),
  params: mixtureParams({ weights: [1], means: [MU], variances: [S2] }, np.float64),
});

// ---- float64 references ----
export type Vec = Float64Array;
const gammaOfTime = (t: number) => 16 * t * t - 8;
export const timeOfGamma = (g: number) => Math.sqrt((g + 8) / 16);
/** what the model returns at x, passed (t, γ) as float32: E[x_0 | x] at γ(t), moved by γ − γ(t) */
export function model(x: Vec, t: number, g: number): Vec {
  const own = gammaOfTime(Math.fround(t));
  const [a, s2] = [alpha(own), sigmoid(own)];
  return x.map((v, k) => {
    const [m, l] = [MU[k % 2]!, S2[k % 2]!];
    return m + ((a * l) / (a * a * l + s2)) * (v - a * m) + (Math.fround(g) - own);
  });
}
/** the VP score at level γ from the x_0-prediction: −(x − α x̂_0)/σ² */
export function vpScore(x: Vec, t: number, g: number): Vec {
  const x0 = model(x, t, g);
  const gf = Math.fround(g);
  return x.map((v, k) => -(v - alpha(gf) * x0[k]!) / sigmoid(gf));
}
export const lin = (a: number, x: Vec, b: number, y: Vec) => x.map((v, k) => a * v + b * y[k]!);

/** A sampler's run: the noise it drew, the x after each step with its index, and the result. */
export function record(sampler: Sampler, seed = 7) {
  const rng = new RecordedRng(seed);
  const steps: { index: number; x: Vec }[] = [];
  const out = sampler.sample(den(), SHAPE, rng.asRng, {
    onStep: (index, x) => void steps.push({ index, x: Float64Array.from(x.ref.dataSync() as ArrayLike<number>) }),
  });
  return { draws: rng.draws, steps, out: Float64Array.from(out.dataSync() as ArrayLike<number>) };
}

/** each reported step equals `step(i, x_i, noise)` from the x_i before it; indices N−1..0; result = last */
export function checkSteps(
  sampler: Sampler & { levels: { gamma: Float64Array } },
  step: (i: number, x: Vec, draws: () => Vec) => Vec,
  tol: { rtol?: number; atol?: number },
  label: string,
) {
  const { draws, steps, out } = record(sampler);
  const N = sampler.levels.gamma.length - 1;
  assert.deepEqual(
    steps.map((s) => s.index),
    Array.from({ length: N }, (_, k) => N - 1 - k),
    `${label}: step indices`,
  );
  let next = 1;
  let x = draws[0]!;
  steps.forEach(({ x: got }, k) => {
    assertClose(
      got,
      step(N - k, x, () => draws[next++]!),
      { ...tol, label: `${label}, step ${N - k} → ${N - k - 1}` },
    );
    x = got;
  });
  assert.equal(next, draws.length, `${label}: noise draws used`);
  assert.deepEqual(out, steps[N - 1]!.x, `${label}: the result is the last step's x`);
}
