/**
 * Dormand–Prince 5(4) for y' = f(s, y) on float64 vectors (Dormand & Prince 1980; Hairer, Nørsett
 * & Wanner, "Solving ODEs I", II.4–5): the 5th-order solution is propagated, the embedded 4th-order
 * one gives the error estimate, and the last stage is the next step's first (FSAL: 6 evaluations
 * per accepted step). Adaptive: a step is accepted when
 *   max_i |y₅ − y₄|_i / (atol + rtol·max(|y_i|, |y₅,i|)) ≤ 1
 * (the max norm, not Hairer's RMS: a state that stacks many independent systems, like a batch of
 * points, must not let one stiff member hide among the rest),
 * and the next step is h·min(5, max(0.2, 0.9·err^{−1/5})). With `steps`, fixed steps of
 * (s1 − s0)/steps and no control. Works in either direction (s1 < s0 too).
 */
import { ConfigError, ShapeError } from "../errors.js";

export interface OdeOptions {
  rtol?: number;
  atol?: number;
  /** fixed number of steps instead of error control */
  steps?: number;
  /** stop with an error after this many evaluations of f (default 100,000) */
  maxEvaluations?: number;
  /** called after each accepted step with the time reached and evaluations so far */
  onStep?: (s: number, evaluations: number) => void;
}

export interface OdeSolution {
  y: Float64Array;
  /** evaluations of f */
  evaluations: number;
  accepted: number;
  rejected: number;
}

const C = [0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1, 1];
const A = [
  // Stryker disable next-line ArrayDeclaration: row 0 is never read (stage 1 is f at the step's start)
  [],
  [1 / 5],
  [3 / 40, 9 / 40],
  [44 / 45, -56 / 15, 32 / 9],
  [19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729],
  [9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656],
  [35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84],
];
/** 5th-order weights are A[6]; these are the differences b₅ − b₄ for the error estimate */
const E = [
  35 / 384 - 5179 / 57600,
  0,
  500 / 1113 - 7571 / 16695,
  125 / 192 - 393 / 640,
  -2187 / 6784 + 92097 / 339200,
  11 / 84 - 187 / 2100,
  -1 / 40,
];

/** y' = f(s, y) from y(s0) = y0 to s1. f must return a fresh array of y's length. */
export function solveOde(
  f: (s: number, y: Float64Array) => Float64Array,
  y0: Float64Array,
  s0: number,
  s1: number,
  options: OdeOptions = {},
): OdeSolution {
  const { rtol = 1e-5, atol = 1e-5, steps, maxEvaluations = 100_000, onStep } = options;
  if (!(rtol > 0 && atol > 0)) throw new ConfigError(`ODE tolerances must be > 0, got rtol ${rtol}, atol ${atol}`);
  if (steps !== undefined && !(Number.isInteger(steps) && steps >= 1))
    throw new ConfigError(`ODE steps must be an integer >= 1, got ${steps}`);
  const n = y0.length;
  const span = s1 - s0;
  let evaluations = 0;
  const call = (s: number, y: Float64Array) => {
    if (++evaluations > maxEvaluations)
      throw new ConfigError(`the ODE solver needed more than ${maxEvaluations} evaluations (loosen rtol/atol)`);
    const out = f(s, y);
    if (out.length !== n) throw new ShapeError(`the ODE's right-hand side has ${out.length} entries, the state ${n}`);
    return out;
  };
  const rms = (v: (i: number) => number) => {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += v(i) ** 2;
    return Math.sqrt(sum / n);
  };
  let y = Float64Array.from(y0);
  let s = s0;
  const k1 = call(s, y);
  let h: number;
  if (steps !== undefined) h = span / steps;
  else {
    // Hairer's starting step: h₀ = 0.01·‖y‖/‖f‖ in the error norm, capped by the span
    const scale = (i: number) => atol + rtol * Math.abs(y[i]!);
    const d0 = rms((i) => y[i]! / scale(i));
    const d1 = rms((i) => k1[i]! / scale(i));
    h = Math.sign(span) * Math.min(Math.abs(span), d0 < 1e-5 || d1 < 1e-5 ? 1e-6 : (0.01 * d0) / d1);
  }
  let accepted = 0;
  let rejected = 0;
  const k: Float64Array[] = [k1];
  const stage = new Float64Array(n);
  const direction = Math.sign(span);
  const end = 1e-12 * Math.abs(span);
  // Stryker disable next-line ArithmeticOperator: direction is ±1 (or 0 with s1 − s = 0), so ·direction and /direction agree
  while ((s1 - s) * direction > end) {
    // the last adaptive step ends at s1; fixed steps are all span/steps
    if (steps === undefined) {
      // Stryker disable next-line EqualityOperator: where |h| = |s1 − s|, h = s1 − s already (same sign)
      if (Math.abs(h) > Math.abs(s1 - s)) h = s1 - s;
    }
    for (let j = 1; j < 7; j++) {
      const a = A[j]!;
      // Stryker disable next-line EqualityOperator: a write to stage[n] is past the typed array's end and dropped
      for (let i = 0; i < n; i++) {
        let acc = 0;
        for (let m = 0; m < j; m++) acc += a[m]! * k[m]![i]!;
        stage[i] = y[i]! + h * acc;
      }
      // Stryker disable next-line ConditionalExpression,EqualityOperator: f reads its argument during the call only; the copy gives the step's end state an array of its own
      k[j] = call(s + C[j]! * h, j === 6 ? Float64Array.from(stage) : stage);
    }
    const yNew = Float64Array.from(stage); // the 7th stage's argument is the 5th-order solution
    let err = 0;
    if (steps === undefined) {
      for (let i = 0; i < n; i++) {
        let e = 0;
        // Stryker disable next-line AssignmentOperator: −Σ instead of Σ has the same absolute value
        for (let m = 0; m < 7; m++) e += E[m]! * k[m]![i]!;
        err = Math.max(err, Math.abs(h * e) / (atol + rtol * Math.max(Math.abs(y[i]!), Math.abs(yNew[i]!))));
      }
    }
    // Stryker disable next-line EqualityOperator: < and ≤ differ only at err = 1 exactly, a ratio of rounded values no run reaches
    if (err <= 1) {
      s += h;
      y = yNew;
      k[0] = k[6]!;
      accepted++;
      onStep?.(s, evaluations);
    } else rejected++;
    // err = 0: 0^{−1/5} = ∞, the factor 5
    if (steps === undefined) h *= Math.min(5, Math.max(0.2, 0.9 * err ** -0.2));
  }
  return { y, evaluations, accepted, rejected };
}
