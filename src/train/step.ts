/**
 * One training step and a run of them, with no file system: the jitted step (loss, gradients, AdamW, EMA), and `TrainingRun`, which draws each step's batch
 * from a seeded stream exactly as `train` does. `train` (trainer.ts) adds checkpoints and
 * resuming from a directory; the browser playground steps a `TrainingRun` itself.
 */

import { normalize } from "../data/normalize.js";
import { type PointSet, requireLabels } from "../data/sets.js";
import { type DiffusionProcess, levelUniforms } from "../diffusion/process.js";
import type { Params } from "../engine/index.js";
import { Rng, realize } from "../engine/index.js";
import { type Array, jit, numpy as np, tree } from "../engine/jax.js";
import { DataError, VdmError } from "../errors.js";
import type { TrainingState } from "../io/state.js";
import { isLearnedSchedule } from "../schedule/learned.js";
import { type AdamConfig, type AdamState, adamInit, adamUpdate, emaUpdate, type HostScalars, stepScalars } from "./adam.js";
import { buildProcess, dataShape, initParams, labelClasses, noiseShape } from "./build.js";
import type { RunConfig } from "./config.js";
import { runObjective } from "./objectives/index.js";
import { type Batch, batchOf, type Objective } from "./objectives/objective.js";

/** Thrown by `train` when a step's loss is NaN or ±∞; the last good checkpoint is left in place. */
export class NonFiniteLossError extends VdmError {}

/** One step: (params, adam, ema, batch, scalars) → new state, the batch's mean loss and the variance of its per-example estimates. */
export function trainStep(objective: Objective, adam: AdamConfig) {
  return (
    params: Params,
    opt: { m: Params; v: Params },
    ema: Params,
    batch: Batch,
    lr: Array,
    correction1: Array,
    correction2: Array,
    emaDecay: Array,
  ) => {
    const { loss, variance, grads } = objective(tree.ref(params), batch);
    const next = adamUpdate(params, grads, opt, adam, { lr, correction1, correction2 });
    return { params: next.params, adam: next.state, ema: emaUpdate(ema, next.params, emaDecay), loss, variance };
  };
}

/** `trainStep`, jitted. */
export function makeTrainStep(objective: Objective, adam: AdamConfig) {
  return jit(trainStep(objective, adam));
}

/** What a training step updates. */
export type StepState = { params: Params; adam: AdamState; ema: Params };

/** Runs training steps on a state it holds: in jax-js (`jaxStepper`) or elsewhere (onnx/train.ts). */
export interface Stepper {
  /** How many steps it takes at best in one call of `steps` (1: one at a time). */
  readonly chunk: number;
  /**
   * Steps on `batches` (consumed) in order, step k with `scalars[k]`; returns each batch's mean loss
   * and the variance of its per-example estimates. Any number of batches; `chunk` at a time is fastest.
   */
  steps(batches: Batch[], scalars: HostScalars[]): StepResult[];
  /** The current state, owned by the stepper (valid until the next step or `close`). */
  state(): StepState;
  /** Release the stepper and its state. */
  close(): void;
}

/** What one step reports. */
export type StepResult = { loss: number; variance: number };

/** Makes a stepper for a run's objective, starting from `initial` (taken over). */
export type StepperFactory = (objective: Objective, adam: AdamConfig, initial: StepState, example: Batch) => Stepper;

/** The jitted step in jax-js. */
export const jaxStepper: StepperFactory = (objective, adam, initial, example) => {
  tree.dispose(example);
  const step = makeTrainStep(objective, adam);
  let state = initial;
  return {
    chunk: 1,
    steps: (batches, scalars) =>
      batches.map((batch, k) => {
        const s = scalars[k]!;
        const out = step(state.params, state.adam, state.ema, batch, s.lr, s.correction1, s.correction2, s.emaDecay);
        const loss = (out.loss.dataSync() as Float32Array)[0]!;
        const variance = (out.variance.dataSync() as Float32Array)[0]!;
        realize(tree.leaves(out.ema)[0]!);
        state = { params: out.params, adam: out.adam, ema: out.ema };
        return { loss, variance };
      }),
    state: () => state,
    close() {
      step.dispose();
      tree.dispose([state.params, state.adam, state.ema]);
    },
  };
};

/**
 * Fresh state: parameters from the seed (or a copy of `from`, borrowed: a distilled student starts as
 * its teacher, the seed's draws made all the same), EMA = parameters, zero moments.
 */
export function initialState(config: RunConfig, from?: Params): { state: TrainingState; rng: Rng } {
  const rng = new Rng(config.seed);
  const drawn = initParams(config, rng);
  const params = from ? tree.map((p: Array) => p.ref.add(0), from) : drawn;
  if (from) tree.dispose(drawn);
  const ema = tree.map((p: Array) => p.ref.add(0), params);
  return {
    state: { params, ema, adam: adamInit(params), step: 0, rng: rng.state(), losses: new Float32Array(0), variances: new Float32Array(0) },
    rng,
  };
}

/** Options of `TrainingRun`: the state it starts from and what takes its steps. */
export interface TrainingRunOptions {
  /** a saved state to continue from, taken over (default: fresh parameters from the run's seed) */
  start?: TrainingState;
  /** what takes the steps (default `jaxStepper`: jax-js) */
  makeStepper?: StepperFactory;
  /** a distilled run's (`config.distill`) teacher parameters, borrowed while the run lasts: its objective's frozen teacher, and a fresh run's start (default: none; required for a distilled run) */
  teacher?: Params;
}

/**
 * A run's training steps, one at a time: each `step()` draws the next batch from the run's seeded
 * stream (data rows, label dropout, ε and levels, in `train`'s order) and takes one step, so a
 * run stepped here equals `train` on the same config and data bit for bit.
 */
export class TrainingRun {
  readonly config: RunConfig;
  /** steps completed */
  step: number;
  readonly losses: number[];
  readonly variances: number[];
  readonly rng: Rng;
  #stepper: Stepper;
  #data: PointSet;
  #normalized: Float32Array;
  #fixed: DiffusionProcess | null;
  #labelled: boolean;
  #classes: number;

  constructor(config: RunConfig, data: PointSet, options: TrainingRunOptions = {}) {
    const { start, makeStepper = jaxStepper, teacher } = options;
    this.config = config;
    // a fixed schedule's process gives the batches their γ table (a learned schedule's levels come from its parameters)
    this.#fixed = isLearnedSchedule(config.schedule) ? null : buildProcess(config);
    this.#classes = labelClasses(config);
    this.#labelled = config.task === "classifier" || this.#classes > 0;
    if (this.#labelled && requireLabels(data, config.data.spec).some((y) => y < 0 || y >= this.#classes))
      throw new DataError(`labels must lie in 0..${this.#classes - 1}`);
    const { dim: D, mean, std } = config.data;
    if (data.dim !== D) throw new DataError(`data have ${data.dim} dimensions, the model expects ${D}`);
    let state: TrainingState;
    if (start) {
      state = start;
      this.rng = Rng.fromState(state.rng);
    } else {
      const fresh = initialState(config, config.distill ? teacher : undefined);
      state = fresh.state;
      this.rng = fresh.rng;
    }
    this.step = state.step;
    this.losses = [...state.losses];
    this.variances = [...state.variances];
    this.#data = data;
    this.#normalized = normalize(data.points, { mean, std });
    const shape = [config.batch, ...dataShape(config)];
    const B = config.batch;
    const example = batchOf(
      this.#fixed,
      np.zeros(shape),
      np.zeros([B, ...noiseShape(config)]),
      np.zeros([B]),
      np.zeros([B], { dtype: np.int32 }),
    );
    this.#stepper = makeStepper(
      runObjective(config, teacher),
      config.adam,
      { params: state.params, adam: state.adam, ema: state.ema },
      example,
    );
  }

  /** Steps the stepper takes at best in one call (see `nextSteps`). */
  get chunk(): number {
    return this.#stepper.chunk;
  }

  /** One step on the next batch; returns its mean loss and the variance of its per-example estimates (recorded unless non-finite). */
  next(): StepResult {
    return this.nextSteps(1)[0]!;
  }

  /**
   * `count` steps on the next batches, drawn in order as `count` calls of `next` draw them (so the
   * run is the same either way), taken by the stepper in one call. Results are recorded up to the
   * first non-finite loss, which ends the list.
   */
  nextSteps(count: number): StepResult[] {
    const batches = globalThis.Array.from({ length: count }, () => this.#nextBatch());
    const scalars = batches.map((_, k) => stepScalars(this.config.adam, this.step + k));
    const results = this.#stepper.steps(batches, scalars);
    const bad = results.findIndex((r) => !Number.isFinite(r.loss));
    const kept = bad < 0 ? results : results.slice(0, bad);
    for (const r of kept) {
      this.losses.push(r.loss);
      this.variances.push(r.variance);
    }
    this.step += kept.length;
    return bad < 0 ? results : results.slice(0, bad + 1);
  }

  /** The next batch of the run's stream (data rows, label dropout, ε and levels). */
  #nextBatch(): Batch {
    const { config } = this;
    const { batch: B } = config;
    const D = config.data.dim;
    const data = this.#data;
    const rng = this.rng;
    const u = rng.uniform([B]).dataSync() as Float32Array;
    const x = new Float32Array(B * D);
    const labels = new Int32Array(B);
    for (let b = 0; b < B; b++) {
      const r = Math.min(data.n - 1, Math.floor(u[b]! * data.n));
      x.set(this.#normalized.subarray(r * D, (r + 1) * D), b * D);
      if (this.#labelled) labels[b] = data.labels![r]!;
    }
    const dropout = config.task === "classifier" ? 0 : (config.cfgDropout ?? 0);
    if (dropout > 0) {
      // classifier-free guidance: drop each label to "no label" (index `classes`) with probability p
      const drop = rng.uniform([B]).dataSync() as Float32Array;
      for (let b = 0; b < B; b++) if (drop[b]! < dropout) labels[b] = this.#classes;
    }
    const shape = [B, ...dataShape(config)];
    // (ε is drawn before u, as always: resumed runs continue the same random stream)
    return batchOf(
      this.#fixed,
      np.array(x).reshape(shape),
      rng.normal([B, ...noiseShape(config)]),
      levelUniforms(rng, B, config.timesteps === 0),
      np.array(labels, { dtype: np.int32 }),
    );
  }

  /** The current state (parameters owned by the run: valid until the next step or `close`). */
  state(): TrainingState {
    return {
      ...this.#stepper.state(),
      step: this.step,
      rng: this.rng.state(),
      losses: Float32Array.from(this.losses),
      variances: Float32Array.from(this.variances),
    };
  }

  /** Release the stepper and its state. */
  close(): void {
    this.#stepper.close();
  }
}
