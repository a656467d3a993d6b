/**
 * Progressive distillation's objective (Salimans & Ho 2022, Algorithm 2): a student sampling in N
 * deterministic DDIM steps learns, on each of its steps t → t'', to land where its frozen teacher's two
 * steps t → t' → t'' land. The levels are the DDIM sampler's "trailing" ones, t_k = t_min + (t_max −
 * t_min)·k/M, k = 1..M (capped at σ̃_max), so that the student's N levels are every second one of the
 * teacher's 2N. t is drawn on the student's grid, z_t = α_t x_0 + σ_t ε, the target x̃ is the one of
 * `distillationTarget`, and the loss is the paper's truncated-SNR one (`truncatedSnrLoss`). The student
 * starts from the teacher's parameters (the trainer's job); the teacher's are constants here (no gradient).
 */

import { ddimStep, distillationTarget, type LevelScales, truncatedSnrLoss } from "../../diffusion/distill.js";
import { qSample } from "../../diffusion/forward.js";
import type { Model } from "../../diffusion/model.js";
import { toX0 } from "../../diffusion/parameterization.js";
import type { DiffusionProcess, Levels } from "../../diffusion/process.js";
import type { Params } from "../../engine/index.js";
import { type Array, type JsTree, numpy as np, tree } from "../../engine/jax.js";
import { ConfigError } from "../../errors.js";
import { cfgModel, conditionalModel } from "../../guidance/guided.js";
import { alphaSigma, ODE_SIGMA_MAX } from "../../sample/predict.js";
import { meanObjective, type Objective } from "./objective.js";

/** Where a distilled student's levels lie: the DDIM sampler's trailing spacing (N levels nest in 2N). */
export const distilledSpacing = "trailing" as const;

/**
 * A frozen teacher: its parameters (borrowed), its model (absent: the student's network) and, for a
 * conditional one, the classifier-free guidance w folded into its prediction (absent or 0: none).
 */
export interface Teacher {
  params: Params;
  model?: Model;
  guidance?: number;
}

/** The teacher's 2N levels (index 0 the data): the DDIM sampler's trailing levels, capped at σ̃ ≤ `ODE_SIGMA_MAX`; the student's N are every second one. */
export function distillationLevels(process: DiffusionProcess, steps: number): Levels {
  if (!Number.isInteger(steps) || steps < 1) throw new ConfigError(`a distilled student's steps must be an integer >= 1, got ${steps}`);
  return process.samplingLevels(2 * steps, distilledSpacing, ODE_SIGMA_MAX);
}

/** One training example of distillation: the student's level (t, γ, α, σ), its input z_t and its target x̃. */
export interface DistillationExample {
  zt: Array;
  t: Array;
  gamma: Array;
  level: LevelScales;
  target: Array;
}

/** The teacher as a model of (x_t, t, γ) alone: labels (consumed) and the guidance w folded into its params. Borrows the teacher's params. */
function teacherDenoiser(
  student: Model,
  teacher: Teacher,
  labels: Array | undefined,
  dtype: np.DType,
): { model: Model; params: JsTree<Array> } {
  const model = teacher.model ?? student;
  if (!labels) return { model, params: tree.ref(teacher.params) };
  if (teacher.guidance)
    return { model: cfgModel(model), params: { net: tree.ref(teacher.params), labels, scale: np.array([teacher.guidance], { dtype }) } };
  return { model: conditionalModel(model), params: { net: tree.ref(teacher.params), labels } };
}

const refScales = (s: LevelScales): LevelScales => ({ alpha: s.alpha.ref, sigma: s.sigma.ref });

/**
 * The distillation examples of x_0 [B, ...], ε and uniforms u [B] (all consumed; labels [B] consumed,
 * for a conditional model): the student's step i = ⌊uN⌋ + 1 ∈ 1..N goes from the teacher's level 2i to
 * 2i − 2 of `levels` (`distillationLevels`); z_t = α_t x_0 + σ_t ε at level 2i; two teacher DDIM steps
 * (`ddimStep` with the teacher's x̂_0) z_t → z_{t'} → z_{t''}; the target x̃ (`distillationTarget`).
 * The tables are of x_0's dtype (float64 on the `cpu` device for exact references). `model` is the
 * student's network (the teacher's unless `teacher.model`). Borrows the teacher.
 */
export function distillationExample(
  model: Model,
  teacher: Teacher,
  levels: Levels,
  x0: Array,
  eps: Array,
  u: Array,
  labels?: Array,
): DistillationExample {
  const steps = (levels.t.length - 1) / 2;
  const dtype = x0.dtype;
  const exact = dtype === np.float64;
  const column = (values: ArrayLike<number>, at: Array) =>
    np.take(np.array(exact ? Float64Array.from(values) : Float32Array.from(values), { dtype }), at);
  const alphas = Float64Array.from(levels.gamma, (g) => alphaSigma(g).alpha);
  const sigmas = Float64Array.from(levels.gamma, (g) => alphaSigma(g).sigma);
  const k = np.minimum(np.floor(u.mul(steps)), steps - 1).mul(2); // 2(i − 1)
  const index = (offset: number) => k.ref.add(offset).astype(np.int32);
  const scales = (offset: number): LevelScales => {
    const i = index(offset);
    return { alpha: column(alphas, i.ref), sigma: column(sigmas, i) };
  };
  const time = (offset: number) => {
    const i = index(offset);
    return { t: column(levels.t, i.ref), gamma: column(levels.gamma, i) };
  };
  const [hi, mid] = [time(2), time(1)];
  const [from, between, to] = [scales(2), scales(1), scales(0)];
  k.dispose();
  const den = teacherDenoiser(model, teacher, labels, dtype);
  const x0Hat = (z: Array, at: { t: Array; gamma: Array }) =>
    toX0(den.model.apply(tree.ref(den.params), z.ref, at.t, at.gamma.ref), den.model.target, z, at.gamma);
  const zt = qSample(x0, hi.gamma.ref, eps);
  const zMid = ddimStep(zt.ref, x0Hat(zt.ref, { t: hi.t.ref, gamma: hi.gamma.ref }), refScales(from), refScales(between));
  const zLanded = ddimStep(zMid.ref, x0Hat(zMid, mid), between, refScales(to));
  tree.dispose(den.params);
  return { zt: zt.ref, t: hi.t, gamma: hi.gamma, level: from, target: distillationTarget(zt, zLanded, refScales(from), to) };
}

/**
 * The objective of a student of `steps` DDIM steps distilled from `teacher` (the same network's
 * parameters, borrowed for as long as the objective is used): the batch mean of `truncatedSnrLoss`
 * between the student's x̂_0(z_t) and x̃ of `distillationExample`. A conditional student sees the
 * batch's labels (dropped ones included) as the teacher does.
 */
export function distillationObjective(model: Model, process: DiffusionProcess, teacher: Teacher, steps: number): Objective {
  const levels = distillationLevels(process, steps);
  return meanObjective((params, b) => {
    b.table.dispose();
    if (model.classes <= 0) b.labels.dispose();
    const labels = model.classes > 0 ? b.labels : undefined;
    const ex = distillationExample(model, teacher, levels, b.x0, b.eps, b.u, labels?.ref);
    const pred = model.apply(params, ex.zt.ref, ex.t, ex.gamma.ref, labels);
    return truncatedSnrLoss(toX0(pred, model.target, ex.zt, ex.gamma), ex.target, ex.level);
  });
}
