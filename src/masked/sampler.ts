/**
 * The masked samplers' interface and the walk they share. A sampler runs on the host: z is an
 * Int32Array of ids ([MASK] = V), the denoiser (jax-js) is called once per evaluation on the rows
 * that need it, and every random number comes from the seeded `Rng`, so a draw is reproducible.
 *
 * The walk goes down the grid t_k = k/N, k = N..1, from t = t_k to s = t_{k−1}; at each step a
 * sampler's rule unmasks some [MASK] tokens of each row given p_θ(·|z_t) and never touches the
 * others (unmasked tokens are carried over); at s = 0 every remaining mask is filled. The denoiser
 * reads no time, so a row none of whose tokens changed keeps its prediction: with caching, only
 * rows that changed since their last evaluation (and still hold a mask) are evaluated again.
 */

import type { Rng } from "../engine/index.js";
import { type Array, type JsTree, numpy as np, tree } from "../engine/jax.js";
import { ConfigError, ShapeError } from "../errors.js";
import type { MaskedDenoiser } from "./denoiser.js";
import { getMaskingSchedule, type MaskingSchedule, oneMinusAlphaAt } from "./schedule.js";

/** What to sample: n rows of L tokens from the initial z (borrowed, not modified), with the denoiser's params (borrowed) and labels. */
export interface MaskedSampleRequest<P extends JsTree<Array> = JsTree<Array>> {
  denoiser: MaskedDenoiser<P>;
  params: P;
  /** the initial ids [n·L]: [MASK] (= V) where a token is to be generated, fixed words elsewhere (infilling) */
  z: Int32Array;
  n: number;
  length: number;
  /** labels [n] (0..classes; `classes` = "no label"); required iff the denoiser has classes */
  labels?: Int32Array;
}

/** What the per-step callback sees (k-diffusion style): the step reached and the tokens after it. */
export interface MaskedStepInfo {
  /** the step just taken, N..1 (from t = step/N to s = (step − 1)/N) */
  step: number;
  steps: number;
  t: number;
  s: number;
  /** the ids after the step [n·L] (borrowed: copy to keep) */
  z: Int32Array;
  /** [MASK] tokens left */
  masked: number;
  /** denoiser calls so far */
  nfe: number;
}

/** Options of `MaskedSampler.sample`. */
export interface MaskedSampleOptions {
  /** N, the number of steps (≥ 1; default `maskedSamplerDefaults.steps`) */
  steps?: number;
  /** the masking schedule α(t) (default `maskedSamplerDefaults.schedule`, "linear") */
  schedule?: MaskingSchedule;
  /** reuse a row's prediction while its tokens are unchanged (exact; default true) */
  cache?: boolean;
  /** called after each step */
  onStep?: (info: MaskedStepInfo) => void;
}

/** A draw: the ids [n·L] (no [MASK] left), the denoiser calls (NFE) and the rows they evaluated in all. */
export interface MaskedSample {
  ids: Int32Array;
  nfe: number;
  evaluations: number;
}

/** A masked-diffusion sampler. */
export interface MaskedSampler {
  readonly name: string;
  sample<P extends JsTree<Array>>(request: MaskedSampleRequest<P>, rng: Rng, options?: MaskedSampleOptions): MaskedSample;
}

/** What `vdm sample` uses when no option is given: ancestral sampling on 128 steps of the linear schedule. */
export const maskedSamplerDefaults = { sampler: "ancestral", steps: 128, schedule: "linear" } as const;

/**
 * One step of one row, for a sampler's rule: the row's ids z[offset .. offset + L) (to change in
 * place), its p_θ(·|z_t) (probabilities[probOffset + ℓV + v]), two uniforms per position
 * (uniforms[offset·2 + 2ℓ], [.. + 1]), 1 − α at t and s, and how many tokens the row had masked
 * at the start.
 */
export interface RowStep {
  z: Int32Array;
  offset: number;
  probabilities: Float64Array;
  probOffset: number;
  uniforms: Float32Array;
  length: number;
  vocabulary: number;
  oneMinusAlphaT: number;
  oneMinusAlphaS: number;
  initialMasked: number;
}

/** A sampler's rule: unmask tokens of one row (in place); returns whether any token changed. */
export type UnmaskRule = (row: RowStep) => boolean;

/**
 * The word drawn by inversion from p (the V probabilities at p[offset..]) with the uniform u:
 * the first v with Σ_{w ≤ v} p_w > u (the last word of positive probability when rounding leaves u above the sum).
 */
export function drawWord(p: Float64Array, offset: number, V: number, u: number): number {
  let acc = 0;
  let last = 0;
  for (let v = 0; v < V; v++) {
    const pv = p[offset + v]!;
    if (pv <= 0) continue;
    acc += pv;
    last = v;
    if (acc > u) return v;
  }
  return last;
}

/** Checks the request's sizes and labels against the denoiser. */
function checkRequest(request: MaskedSampleRequest, steps: number): void {
  const { denoiser, z, n, length: L, labels } = request;
  if (!Number.isInteger(steps) || steps < 1) throw new ConfigError(`steps must be an integer ≥ 1, got ${steps}`);
  if (z.length !== n * L) throw new ShapeError(`the initial z has ${z.length} ids, expected n·L = ${n}·${L}`);
  if (z.some((w) => w < 0 || w > denoiser.vocabulary))
    throw new ShapeError(`the initial z holds ids outside 0..${denoiser.vocabulary} ([MASK] = ${denoiser.vocabulary})`);
  if (denoiser.classes === 0 && labels) throw new ConfigError("labels were given for an unconditional denoiser");
  if (denoiser.classes > 0 && !labels)
    throw new ConfigError(`the denoiser is conditional (${denoiser.classes} classes): labels are required`);
  if (labels && labels.length !== n) throw new ShapeError(`${labels.length} labels for ${n} rows`);
  if (labels?.some((y) => y < 0 || y > denoiser.classes))
    throw new ConfigError(`labels must be classes 0..${denoiser.classes - 1} or ${denoiser.classes} ("no label")`);
}

/** One-hot rows [B, L, V + 1] (float32) of the chosen rows of z [n·L]. */
export function oneHotRows(z: Int32Array, rows: readonly number[], L: number, V: number): Array {
  const out = new Float32Array(rows.length * L * (V + 1));
  rows.forEach((b, i) => {
    for (let l = 0; l < L; l++) out[(i * L + l) * (V + 1) + z[b * L + l]!] = 1;
  });
  return np.array(out).reshape([rows.length, L, V + 1]);
}

/**
 * p_θ(·|z) of the chosen rows into `probabilities` [n·L·V] (float64 softmax of the logits, max
 * subtracted): one denoiser call on those rows, padded (with copies of the first) to a power of two
 * at most n, so that a jitted network meets at most log₂ n + 2 batch shapes. Borrows params.
 */
function evaluateRows<P extends JsTree<Array>>(
  request: MaskedSampleRequest<P>,
  z: Int32Array,
  rows: number[],
  probabilities: Float64Array,
): void {
  const { denoiser, params, length: L, labels, n } = request;
  const V = denoiser.vocabulary;
  const padded = [
    ...rows,
    ...new globalThis.Array<number>(Math.min(n, 2 ** Math.ceil(Math.log2(rows.length))) - rows.length).fill(rows[0]!),
  ];
  const y = labels
    ? np.array(
        Int32Array.from(padded, (b) => labels[b]!),
        { dtype: np.int32 },
      )
    : undefined;
  const logits = denoiser.logits(tree.ref(params), oneHotRows(z, padded, L, V), y).dataSync() as Float32Array;
  rows.forEach((b, i) => {
    for (let l = 0; l < L; l++) {
      const from = (i * L + l) * V;
      const to = (b * L + l) * V;
      let max = -Infinity;
      for (let v = 0; v < V; v++) max = Math.max(max, logits[from + v]!);
      let sum = 0;
      for (let v = 0; v < V; v++) sum += probabilities[to + v] = Math.exp(logits[from + v]! - max);
      for (let v = 0; v < V; v++) probabilities[to + v]! /= sum;
    }
  });
}

/** [MASK] tokens of row b. */
function maskedIn(z: Int32Array, b: number, L: number, V: number): number {
  let m = 0;
  for (let l = 0; l < L; l++) if (z[b * L + l] === V) m++;
  return m;
}

/**
 * The walk every masked sampler takes (module doc), with `rule` deciding each row's step. Draws
 * 2·n·L uniforms per step whether or not a row is evaluated, so caching changes the cost, never
 * the samples.
 */
export function walk<P extends JsTree<Array>>(
  request: MaskedSampleRequest<P>,
  rng: Rng,
  options: MaskedSampleOptions,
  rule: UnmaskRule,
): MaskedSample {
  const steps = options.steps ?? maskedSamplerDefaults.steps;
  checkRequest(request, steps);
  const { n, length: L } = request;
  const V = request.denoiser.vocabulary;
  const schedule = options.schedule ?? getMaskingSchedule(maskedSamplerDefaults.schedule);
  const cache = options.cache ?? true;
  const grid = globalThis.Array.from({ length: steps + 1 }, (_, k) => k / steps);
  const oneMinusAlpha = oneMinusAlphaAt(schedule, grid);
  oneMinusAlpha[0] = 0; // α(0) = 1: every remaining mask is filled at s = 0
  const z = Int32Array.from(request.z);
  const initialMasked = Int32Array.from({ length: n }, (_, b) => maskedIn(z, b, L, V));
  const stale = new Uint8Array(n).fill(1);
  const probabilities = new Float64Array(n * L * V);
  let nfe = 0;
  let evaluations = 0;
  for (let k = steps; k >= 1; k--) {
    const rows: number[] = [];
    for (let b = 0; b < n; b++) if ((stale[b] || !cache) && maskedIn(z, b, L, V) > 0) rows.push(b);
    if (rows.length > 0) {
      evaluateRows(request, z, rows, probabilities);
      for (const b of rows) stale[b] = 0;
      nfe++;
      evaluations += rows.length;
    }
    const uniforms = rng.uniform([n * L * 2]).dataSync() as Float32Array;
    let masked = 0;
    for (let b = 0; b < n; b++) {
      if (maskedIn(z, b, L, V) > 0) {
        const row: RowStep = {
          z,
          offset: b * L,
          probabilities,
          probOffset: b * L * V,
          uniforms,
          length: L,
          vocabulary: V,
          oneMinusAlphaT: oneMinusAlpha[k]!,
          oneMinusAlphaS: oneMinusAlpha[k - 1]!,
          initialMasked: initialMasked[b]!,
        };
        if (rule(row)) stale[b] = 1;
      }
      masked += maskedIn(z, b, L, V);
    }
    options.onStep?.({ step: k, steps, t: grid[k]!, s: grid[k - 1]!, z, masked, nfe });
  }
  return { ids: z, nfe, evaluations };
}

/** The masked sampler `name` that takes the walk with `rule` deciding each row's step. */
export function maskedSampler(name: string, rule: UnmaskRule): MaskedSampler {
  return {
    name,
    sample<P extends JsTree<Array>>(request: MaskedSampleRequest<P>, rng: Rng, options: MaskedSampleOptions = {}): MaskedSample {
      return walk(request, rng, options, rule);
    },
  };
}
