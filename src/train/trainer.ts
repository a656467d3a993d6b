/**
 * The training loop: one jitted step (loss, gradients, AdamW, EMA), batches drawn from a seeded
 * stream, checkpoints every `checkpointEvery` steps, and a stop with a clear error on a
 * non-finite loss that leaves the last good checkpoint in place. Resuming restores parameters,
 * optimizer moments, EMA, loss history and the RNG key, so a resumed run equals an
 * uninterrupted one.
 */
import { realize, Rng } from "../engine/index.js";
import { jit, numpy as np, tree, valueAndGrad, type Array, type JsTree } from "../engine/jax.js";
import { qSample } from "../diffusion/forward.js";
import { simpleLoss, weightedEpsError } from "../diffusion/losses.js";
import type { Model } from "../diffusion/model.js";
import { toEps } from "../diffusion/parameterization.js";
import type { DiffusionProcess, Weighting } from "../diffusion/process.js";
import type { PointSet } from "../data/index.js";
import { normalize } from "../data/normalize.js";
import { loadCheckpointState, saveCheckpoint, type TrainingState } from "../io/checkpoint.js";
import { initMlp } from "../models/mlp.js";
import { adamInit, adamUpdate, emaUpdate, stepScalars, type AdamConfig } from "./adam.js";
import { buildModel, buildProcess, type RunConfig } from "./config.js";
import { Progress } from "./progress.js";

type Params = JsTree<Array>;

export class NonFiniteLossError extends Error {}

/**
 * The per-example training loss for x_0 [B, ...] with noise ε and uniforms u ([B]):
 * "simple" — the target's own MSE at a uniform level; "elbo" — the one-sample estimate of the
 * ELBO's diffusion term. Consumes everything.
 */
export function trainingLoss(model: Model, process: DiffusionProcess, weighting: Weighting, params: Params, x0: Array, eps: Array, u: Array, table: Array | null): Array {
  const { t, gamma, weight } = process.levelsFromUniform(u, table, weighting);
  const xt = qSample(x0.ref, gamma.ref, eps.ref);
  const pred = model.apply(params, xt.ref, t, gamma.ref);
  if (weighting === "simple") {
    tree.dispose([weight, xt]);
    return simpleLoss(pred, model.target, x0, eps, gamma);
  }
  x0.dispose();
  return weightedEpsError(eps, toEps(pred, model.target, xt, gamma), weight);
}

/** One jitted step: (params, adam, ema, batch, noise, uniforms, γ-table, scalars) → new state and loss. */
export function makeTrainStep(model: Model, process: DiffusionProcess, weighting: Weighting, adam: AdamConfig) {
  const loss = (params: Params, x0: Array, eps: Array, u: Array, table: Array) =>
    np.mean(trainingLoss(model, process, weighting, params, x0, eps, u, process.continuous ? (table.dispose(), null) : table));
  return jit(
    (params: Params, opt: { m: Params; v: Params }, ema: Params, x0: Array, eps: Array, u: Array, table: Array, lr: Array, correction1: Array, correction2: Array, emaDecay: Array) => {
      const [value, grads] = valueAndGrad(loss)(tree.ref(params), x0, eps, u, table);
      const next = adamUpdate(params, grads, opt, adam, { lr, correction1, correction2 });
      return { params: next.params, adam: next.state, ema: emaUpdate(ema, next.params, emaDecay), loss: value };
    },
  );
}

export interface TrainOptions {
  resume?: boolean;
  quiet?: boolean;
}

export interface TrainResult {
  state: TrainingState;
  model: Model;
  process: DiffusionProcess;
  /** steps per second over this invocation (excluding the first, compiling step) */
  stepsPerSecond: number;
}

/** Fresh state: parameters from the seed, EMA = parameters, zero moments. */
function initialState(config: RunConfig): { state: TrainingState; rng: Rng } {
  const rng = new Rng(config.seed);
  const params = initMlp(config.model.mlp, rng);
  const ema = tree.map((p: Array) => p.ref.add(0), params);
  return { state: { params, ema, adam: adamInit(params), step: 0, rng: rng.state(), losses: new Float32Array(0) }, rng };
}

/** Train `config` on the (unnormalised) training points, checkpointing into `dir`. */
export function train(config: RunConfig, dir: string, data: PointSet, { resume = false, quiet = false }: TrainOptions = {}): TrainResult {
  const model = buildModel(config);
  const diffusion = buildProcess(config);
  let state: TrainingState;
  let rng: Rng;
  if (resume) {
    const template = initialState(config).state;
    state = loadCheckpointState(dir, template.params);
    tree.dispose([template.params, template.ema, template.adam.m, template.adam.v]);
    rng = Rng.fromState(state.rng);
  } else {
    ({ state, rng } = initialState(config));
  }
  const { batch: B, steps } = config;
  const { dim: D, mean, std } = config.data;
  if (data.dim !== D) throw new Error(`data have ${data.dim} dimensions, the model expects ${D}`);
  const normalized = normalize(data.points, { mean, std });
  const step = makeTrainStep(model, diffusion, config.loss, config.adam);
  const losses = [...state.losses];
  const progress = new Progress("train", steps, state.step, process.stderr, quiet);
  const firstStep = state.step;
  let timedFrom = 0; // the first step compiles; time the rest

  for (let k = state.step; k < steps; k++) {
    const u = rng.uniform([B]).dataSync() as Float32Array;
    const x = new Float32Array(B * D);
    for (let b = 0; b < B; b++) {
      const r = Math.min(data.n - 1, Math.floor(u[b]! * data.n));
      x.set(normalized.subarray(r * D, (r + 1) * D), b * D);
    }
    const s = stepScalars(config.adam, k);
    const out = step(
      state.params, state.adam, state.ema,
      np.array(x).reshape([B, D]), rng.normal([B, D]), diffusion.uniforms(rng, B), diffusion.gammaTable() ?? np.zeros([0]),
      s.lr, s.correction1, s.correction2, s.emaDecay,
    );
    const loss = (out.loss.dataSync() as Float32Array)[0]!;
    if (!Number.isFinite(loss)) {
      tree.dispose([out.params, out.adam, out.ema]);
      const kept = Math.floor(k / config.checkpointEvery) * config.checkpointEvery;
      throw new NonFiniteLossError(
        `loss is ${loss} at step ${k + 1}; stopped. ` +
          (kept > 0 ? `The last good checkpoint (step ${kept}) in ${dir} is kept.` : `No checkpoint had been written yet.`) +
          ` Try a lower --lr.`,
      );
    }
    realize(tree.leaves(out.ema)[0]!);
    state = { params: out.params, adam: out.adam, ema: out.ema, step: k + 1, rng: state.rng, losses: state.losses };
    losses.push(loss);
    if (k === firstStep) timedFrom = performance.now();
    progress.update(k + 1, loss);
    if ((k + 1) % config.checkpointEvery === 0 || k + 1 === steps) {
      state.rng = rng.state();
      state.losses = Float32Array.from(losses);
      saveCheckpoint(dir, config, state);
    }
  }
  state.rng = rng.state();
  state.losses = Float32Array.from(losses);
  const timed = steps - firstStep - 1;
  return { state, model, process: diffusion, stepsPerSecond: timed > 0 ? timed / ((performance.now() - timedFrom) / 1000) : NaN };
}
