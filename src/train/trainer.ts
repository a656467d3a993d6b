/**
 * The training loop: one jitted step (loss, gradients, AdamW, EMA), batches drawn from a seeded
 * stream, checkpoints every `checkpointEvery` steps, and a stop with a clear error on a
 * non-finite loss that leaves the last good checkpoint in place. Resuming restores parameters,
 * optimizer moments, EMA, loss history and the RNG key, so a resumed run equals an
 * uninterrupted one.
 */
import { realize, Rng } from "../engine/index.js";
import { jit, nn, numpy as np, tree, type Array, type JsTree } from "../engine/jax.js";
import { qSample } from "../diffusion/forward.js";
import { simpleLoss, weightedEpsError } from "../diffusion/losses.js";
import type { Model } from "../diffusion/model.js";
import { toEps } from "../diffusion/parameterization.js";
import { levelUniforms, type DiffusionProcess, type Weighting } from "../diffusion/process.js";
import { isLearnedSchedule } from "../schedule/learned.js";
import { learnedScheduleObjective, meanObjective, type Objective } from "./objective.js";
import { requireLabels, type PointSet } from "../data/index.js";
import { normalize } from "../data/normalize.js";
import { loadCheckpointState, saveCheckpoint, type TrainingState } from "../io/checkpoint.js";
import type { Classifier } from "../models/mlp.js";
import { adamInit, adamUpdate, emaUpdate, stepScalars, type AdamConfig, type AdamState } from "./adam.js";
import { buildClassifier, buildModel, buildProcess, dataShape, initParams, labelClasses, type RunConfig } from "./config.js";
import { ConfigError } from "../errors.js";

/**
 * Model parameters as a tree of arrays.
 * @inline
 */
type Params = JsTree<Array>;

/** Thrown by `train` when a step's loss is NaN or ±∞; the last good checkpoint is left in place. */
export class NonFiniteLossError extends Error {}

/**
 * The per-example training loss for x_0 [B, ...] with noise ε and uniforms u ([B]):
 * "simple" — the target's own MSE at a uniform level; "elbo" — the one-sample estimate of the
 * ELBO's diffusion term. Consumes everything.
 */
export function trainingLoss(model: Model, process: DiffusionProcess, weighting: Weighting, params: Params, x0: Array, eps: Array, u: Array, table: Array | null, labels?: Array): Array {
  const { t, gamma, weight } = process.levelsFromUniform(u, table, weighting);
  const xt = qSample(x0.ref, gamma.ref, eps.ref);
  const pred = model.apply(params, xt.ref, t, gamma.ref, labels);
  if (weighting === "simple") {
    tree.dispose([weight, xt]);
    return simpleLoss(pred, model.target, x0, eps, gamma);
  }
  x0.dispose();
  return weightedEpsError(eps, toEps(pred, model.target, xt, gamma), weight);
}

/**
 * The cross-entropy −log p_φ(y | x_t, t) of a noise-aware classifier on x_t ~ q(x_t | x_0) at
 * uniformly drawn levels, per example. Consumes everything.
 */
export function classifierLoss(classifier: Classifier, process: DiffusionProcess, params: Params, x0: Array, eps: Array, u: Array, table: Array | null, labels: Array): Array {
  const { t, gamma, weight } = process.levelsFromUniform(u, table, "simple");
  weight.dispose();
  const xt = qSample(x0, gamma.ref, eps);
  return crossEntropy(classifier.logits(params, xt, t, gamma), labels, classifier.classes);
}

/**
 * The cross-entropy −log p_φ(y | x_0) of a classifier of clean data (t = 0, γ = −∞: no noise),
 * per example. Consumes everything.
 */
export function cleanClassifierLoss(classifier: Classifier, params: Params, x0: Array, labels: Array): Array {
  const B = x0.shape[0]!;
  return crossEntropy(classifier.logits(params, x0, np.zeros([B]), np.full([B], -Infinity)), labels, classifier.classes);
}

/** −log softmax(logits)_y per example: logits [B, K], labels [B] → [B]. Consumes both. */
function crossEntropy(logits: Array, labels: Array, classes: number): Array {
  return np.negative(np.sum(nn.logSoftmax(logits, -1).mul(nn.oneHot(labels, classes)), -1));
}

/** A training batch: data, noise, level uniforms, the γ table (empty in continuous time) and labels. */
export type Batch = { x0: Array; eps: Array; u: Array; table: Array; labels: Array };

/** The batch of x_0, ε, u and labels for a fixed schedule's `process` (its γ table added), or null for a learned schedule. */
export function batchOf(process: DiffusionProcess | null, x0: Array, eps: Array, u: Array, labels: Array): Batch {
  return { x0, eps, u, table: process?.gammaTable() ?? np.zeros([0]), labels };
}

/** What a run's steps minimise: its denoiser's loss (labels only for conditional models), with a learned schedule the VDM objective, or its classifier's loss. */
export function runObjective(config: RunConfig): Objective {
  if (isLearnedSchedule(config.schedule)) return learnedScheduleObjective(buildModel(config), config.schedule, config.timesteps, config.data.decoder ?? "gaussian");
  const process = buildProcess(config);
  const table = (b: Batch) => (process.continuous ? (b.table.dispose(), null) : b.table);
  if (config.task === "classifier") {
    const classifier = buildClassifier(config);
    if (config.clean) {
      // the batch's noise, levels and γ table are unused: the classifier sees x_0
      return meanObjective((params, b) => (tree.dispose([b.eps, b.u, b.table]), cleanClassifierLoss(classifier, params, b.x0, b.labels)));
    }
    return meanObjective((params, b) => classifierLoss(classifier, process, params, b.x0, b.eps, b.u, table(b), b.labels));
  }
  const model = buildModel(config);
  return meanObjective((params, b) => {
    const labels = model.classes > 0 ? b.labels : (b.labels.dispose(), undefined);
    return trainingLoss(model, process, config.loss, params, b.x0, b.eps, b.u, table(b), labels);
  });
}

/** One step: (params, adam, ema, batch, scalars) → new state, the batch's mean loss and the variance of its per-example estimates. */
export function trainStep(objective: Objective, adam: AdamConfig) {
  return (params: Params, opt: { m: Params; v: Params }, ema: Params, batch: Batch, lr: Array, correction1: Array, correction2: Array, emaDecay: Array) => {
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
  /** One step on `batch` (consumed); returns the batch's mean loss and the variance of its per-example estimates. */
  step(batch: Batch, scalars: ReturnType<typeof stepScalars>): StepResult;
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
    step(batch, s) {
      const out = step(state.params, state.adam, state.ema, batch, s.lr, s.correction1, s.correction2, s.emaDecay);
      const loss = (out.loss.dataSync() as Float32Array)[0]!;
      const variance = (out.variance.dataSync() as Float32Array)[0]!;
      realize(tree.leaves(out.ema)[0]!);
      state = { params: out.params, adam: out.adam, ema: out.ema };
      return { loss, variance };
    },
    state: () => state,
    close() {
      step.dispose();
      tree.dispose([state.params, state.adam, state.ema]);
    },
  };
};

/** Where training stands after a step (what `TrainOptions.onProgress` receives). */
export interface TrainProgress {
  /** steps completed, of `steps` in all; this invocation started after step `firstStep` */
  step: number;
  steps: number;
  firstStep: number;
  /** the step's batch mean loss and the batch variance of its per-example estimates */
  loss: number;
  variance: number;
}

/** Options of `train`: checkpointing and resuming, progress callbacks, cancellation, the backend. */
export interface TrainOptions {
  /**
   * Where the run's checkpoint goes (config.json + state.safetensors, rewritten atomically every
   * `config.checkpointEvery` steps, at the end and when stopped by `signal`). Without it nothing
   * is written.
   */
  checkpointDir?: string;
  /** continue the run saved in `checkpointDir` from its step (default false) */
  resume?: boolean;
  /** called after every step */
  onProgress?: (progress: TrainProgress) => void;
  /** called after each checkpoint is written (e.g. to draw a sample grid); the state is borrowed */
  onCheckpoint?: (state: TrainingState) => void;
  /** stops training after the current step; the result then has `completed: false` */
  signal?: AbortSignal;
  /** where the steps run (default: jax-js, `jaxStepper`; ONNX Runtime: `onnxStepper()`) */
  makeStepper?: StepperFactory;
}

/** What `train` returns: the final training state, whether all steps ran, and the speed. */
export interface TrainResult {
  state: TrainingState;
  /** false when `signal` stopped the run before `config.steps` */
  completed: boolean;
  /** steps per second over this invocation (excluding the first, compiling step) */
  stepsPerSecond: number;
}

/** Fresh state: parameters from the seed, EMA = parameters, zero moments. */
function initialState(config: RunConfig): { state: TrainingState; rng: Rng } {
  const rng = new Rng(config.seed);
  const params = initParams(config, rng);
  const ema = tree.map((p: Array) => p.ref.add(0), params);
  return { state: { params, ema, adam: adamInit(params), step: 0, rng: rng.state(), losses: new Float32Array(0), variances: new Float32Array(0) }, rng };
}

/**
 * Train `config` on the (unnormalised) training points `data`, from fresh parameters or, with
 * `resume`, from the checkpoint in `checkpointDir`. A resumed run equals an uninterrupted one bit
 * for bit. A non-finite loss stops training with a `NonFiniteLossError`, leaving the last good
 * checkpoint in place.
 *
 * @example
 * ```ts
 * const split = loadSplit("moons", 0);
 * const config = runConfigFor("moons", split, { steps: 2000 });
 * const { state } = train(config, split.train, { checkpointDir: "runs/moons", onProgress: (p) => console.log(p.step, p.loss) });
 * ```
 */
export function train(config: RunConfig, data: PointSet, { checkpointDir, resume = false, onProgress, onCheckpoint, signal, makeStepper = jaxStepper }: TrainOptions = {}): TrainResult {
  if (resume && !checkpointDir) throw new ConfigError("resuming a run needs the checkpoint directory it was saved in (checkpointDir)");
  // a fixed schedule's process gives the batches their γ table (a learned schedule's levels come from its parameters)
  const fixed = isLearnedSchedule(config.schedule) ? null : buildProcess(config);
  const continuous = config.timesteps === 0;
  const classes = labelClasses(config);
  const labelled = config.task === "classifier" || classes > 0;
  if (labelled && requireLabels(data, config.data.spec).some((y) => y < 0 || y >= classes)) throw new Error(`labels must lie in 0..${classes - 1}`);
  let state: TrainingState;
  let rng: Rng;
  if (resume) {
    const template = initialState(config).state;
    state = loadCheckpointState(checkpointDir!, template.params);
    tree.dispose([template.params, template.ema, template.adam.m, template.adam.v]);
    rng = Rng.fromState(state.rng);
  } else {
    ({ state, rng } = initialState(config));
  }
  const { batch: B, steps } = config;
  const { dim: D, mean, std } = config.data;
  if (data.dim !== D) throw new Error(`data have ${data.dim} dimensions, the model expects ${D}`);
  const shape = [B, ...dataShape(config)];
  const normalized = normalize(data.points, { mean, std });
  // (ε is drawn before u, as always: resumed runs continue the same random stream)
  const makeBatch = (x: Float32Array, labels: Int32Array) => batchOf(fixed, np.array(x).reshape(shape), rng.normal(shape), levelUniforms(rng, B, continuous), np.array(labels, { dtype: np.int32 }));
  const example = batchOf(fixed, np.zeros(shape), np.zeros(shape), np.zeros([B]), np.zeros([B], { dtype: np.int32 }));
  const stepper = makeStepper(runObjective(config), config.adam, { params: state.params, adam: state.adam, ema: state.ema }, example);
  const dropout = config.task === "classifier" ? 0 : (config.cfgDropout ?? 0);
  const losses = [...state.losses];
  const variances = [...state.variances];
  const firstStep = state.step;
  let lastSaved = state.step; // a resumed run starts from its saved checkpoint
  let timedFrom = 0; // the first step compiles; time the rest
  const current = (step: number): TrainingState => ({ ...stepper.state(), step, rng: rng.state(), losses: Float32Array.from(losses), variances: Float32Array.from(variances) });

  const save = (step: number) => {
    const saved = current(step);
    if (checkpointDir) {
      saveCheckpoint(checkpointDir, config, saved);
      lastSaved = step;
    }
    onCheckpoint?.(saved);
  };
  let done = state.step;
  try {
    for (let k = state.step; k < steps && !signal?.aborted; k++) {
      const u = rng.uniform([B]).dataSync() as Float32Array;
      const x = new Float32Array(B * D);
      const labels = new Int32Array(B);
      for (let b = 0; b < B; b++) {
        const r = Math.min(data.n - 1, Math.floor(u[b]! * data.n));
        x.set(normalized.subarray(r * D, (r + 1) * D), b * D);
        if (labelled) labels[b] = data.labels![r]!;
      }
      if (dropout > 0) {
        // classifier-free guidance: drop each label to "no label" (index `classes`) with probability p
        const drop = rng.uniform([B]).dataSync() as Float32Array;
        for (let b = 0; b < B; b++) if (drop[b]! < dropout) labels[b] = classes;
      }
      const { loss, variance } = stepper.step(makeBatch(x, labels), stepScalars(config.adam, k));
      if (!Number.isFinite(loss)) {
        throw new NonFiniteLossError(
          `loss is ${loss} at step ${k + 1}; stopped. ` +
            (lastSaved > 0 ? `The last good checkpoint (step ${lastSaved}) in ${checkpointDir} is kept.` : `No checkpoint had been written yet.`) +
            ` Try a lower learning rate.`,
        );
      }
      losses.push(loss);
      variances.push(variance);
      if (k === firstStep) timedFrom = performance.now();
      done = k + 1;
      onProgress?.({ step: done, steps, firstStep, loss, variance });
      if (done % config.checkpointEvery === 0 || done === steps) save(done);
    }
    if (done < steps && done > lastSaved) save(done); // stopped by the signal
    const last = current(done);
    state = { ...last, params: tree.ref(last.params), adam: tree.ref(last.adam), ema: tree.ref(last.ema) };
  } finally {
    stepper.close();
  }
  const timed = done - firstStep - 1;
  return { state, completed: done === steps, stepsPerSecond: timed > 0 ? timed / ((performance.now() - timedFrom) / 1000) : NaN };
}
