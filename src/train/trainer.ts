/**
 * The training loop: one jitted step (loss, gradients, AdamW, EMA), batches drawn from a seeded
 * stream, checkpoints every `checkpointEvery` steps, and a stop with a clear error on a
 * non-finite loss that leaves the last good checkpoint in place. Resuming restores parameters,
 * optimizer moments, EMA, loss history and the RNG key, so a resumed run equals an
 * uninterrupted one.
 */
import { realize, Rng } from "../engine/index.js";
import { jit, nn, numpy as np, tree, valueAndGrad, type Array, type JsTree } from "../engine/jax.js";
import { qSample } from "../diffusion/forward.js";
import { simpleLoss, weightedEpsError } from "../diffusion/losses.js";
import type { Model } from "../diffusion/model.js";
import { toEps } from "../diffusion/parameterization.js";
import type { DiffusionProcess, Weighting } from "../diffusion/process.js";
import { requireLabels, type PointSet } from "../data/index.js";
import { tracingFor } from "../engine/tracing.js";
import { normalize } from "../data/normalize.js";
import { loadCheckpointState, saveCheckpoint, type TrainingState } from "../io/checkpoint.js";
import type { Classifier } from "../models/mlp.js";
import { adamInit, adamUpdate, emaUpdate, stepScalars, type AdamConfig, type AdamState } from "./adam.js";
import { buildClassifier, buildModel, buildProcess, dataShape, initParams, labelClasses, type RunConfig } from "./config.js";
import { Progress } from "./progress.js";

type Params = JsTree<Array>;

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

/** The batch of x_0, ε, u and labels for `process` (its γ table added). */
export function batchOf(process: DiffusionProcess, x0: Array, eps: Array, u: Array, labels: Array): Batch {
  return { x0, eps, u, table: process.gammaTable() ?? np.zeros([0]), labels };
}

/** The per-example loss of a run: its denoiser's (labels only for conditional models) or its classifier's. */
export function runLoss(config: RunConfig, process: DiffusionProcess) {
  const table = (b: Batch) => (process.continuous ? (b.table.dispose(), null) : b.table);
  if (config.task === "classifier") {
    const classifier = buildClassifier(config);
    if (config.clean) {
      // the batch's noise, levels and γ table are unused: the classifier sees x_0
      return (params: Params, b: Batch) => (tree.dispose([b.eps, b.u, b.table]), cleanClassifierLoss(classifier, params, b.x0, b.labels));
    }
    return (params: Params, b: Batch) => classifierLoss(classifier, process, params, b.x0, b.eps, b.u, table(b), b.labels);
  }
  const model = buildModel(config);
  return (params: Params, b: Batch) => {
    const labels = model.classes > 0 ? b.labels : (b.labels.dispose(), undefined);
    return trainingLoss(model, process, config.loss, params, b.x0, b.eps, b.u, table(b), labels);
  };
}

/** One step: (params, adam, ema, batch, scalars) → new state and the batch's mean loss. */
export function trainStep(perExample: (params: Params, batch: Batch) => Array, adam: AdamConfig) {
  const loss = (params: Params, batch: Batch) => np.mean(perExample(params, batch));
  return (params: Params, opt: { m: Params; v: Params }, ema: Params, batch: Batch, lr: Array, correction1: Array, correction2: Array, emaDecay: Array) => {
    const [value, grads] = tracingFor({ grad: true }, () => valueAndGrad(loss)(tree.ref(params), batch));
    const next = adamUpdate(params, grads, opt, adam, { lr, correction1, correction2 });
    return { params: next.params, adam: next.state, ema: emaUpdate(ema, next.params, emaDecay), loss: value };
  };
}

/** `trainStep`, jitted. */
export function makeTrainStep(perExample: (params: Params, batch: Batch) => Array, adam: AdamConfig) {
  return jit(trainStep(perExample, adam));
}

/** What a training step updates. */
export type StepState = { params: Params; adam: AdamState; ema: Params };

/** Runs training steps on a state it holds: in jax-js (`jaxStepper`) or elsewhere (onnx/train.ts). */
export interface Stepper {
  /** One step on `batch` (consumed); returns the batch's mean loss. */
  step(batch: Batch, scalars: ReturnType<typeof stepScalars>): number;
  /** The current state, owned by the stepper (valid until the next step or `close`). */
  state(): StepState;
  /** Release the stepper and its state. */
  close(): void;
}

/** Makes a stepper for a run's per-example loss, starting from `initial` (taken over). */
export type StepperFactory = (perExample: (params: Params, batch: Batch) => Array, adam: AdamConfig, initial: StepState, example: Batch) => Stepper;

/** The jitted step in jax-js. */
export const jaxStepper: StepperFactory = (perExample, adam, initial, example) => {
  tree.dispose(example);
  const step = makeTrainStep(perExample, adam);
  let state = initial;
  return {
    step(batch, s) {
      const out = step(state.params, state.adam, state.ema, batch, s.lr, s.correction1, s.correction2, s.emaDecay);
      const loss = (out.loss.dataSync() as Float32Array)[0]!;
      realize(tree.leaves(out.ema)[0]!);
      state = { params: out.params, adam: out.adam, ema: out.ema };
      return loss;
    },
    state: () => state,
    close() {
      step.dispose();
      tree.dispose([state.params, state.adam, state.ema]);
    },
  };
};

export interface TrainOptions {
  resume?: boolean;
  quiet?: boolean;
  /** called after each checkpoint is written (e.g. to draw a sample grid); the state is borrowed */
  onCheckpoint?: (state: TrainingState, process: DiffusionProcess) => void;
  /** where the steps run (default: jax-js) */
  makeStepper?: StepperFactory;
}

export interface TrainResult {
  state: TrainingState;
  process: DiffusionProcess;
  /** steps per second over this invocation (excluding the first, compiling step) */
  stepsPerSecond: number;
}

/** Fresh state: parameters from the seed, EMA = parameters, zero moments. */
function initialState(config: RunConfig): { state: TrainingState; rng: Rng } {
  const rng = new Rng(config.seed);
  const params = initParams(config, rng);
  const ema = tree.map((p: Array) => p.ref.add(0), params);
  return { state: { params, ema, adam: adamInit(params), step: 0, rng: rng.state(), losses: new Float32Array(0) }, rng };
}

/** Train `config` on the (unnormalised) training points, checkpointing into `dir`. */
export function train(config: RunConfig, dir: string, data: PointSet, { resume = false, quiet = false, onCheckpoint, makeStepper = jaxStepper }: TrainOptions = {}): TrainResult {
  const diffusion = buildProcess(config);
  const classes = labelClasses(config);
  const labelled = config.task === "classifier" || classes > 0;
  if (labelled && requireLabels(data, config.data.spec).some((y) => y < 0 || y >= classes)) throw new Error(`labels must lie in 0..${classes - 1}`);
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
  const shape = [B, ...dataShape(config)];
  const normalized = normalize(data.points, { mean, std });
  // (ε is drawn before u, as always: resumed runs continue the same random stream)
  const makeBatch = (x: Float32Array, labels: Int32Array) => batchOf(diffusion, np.array(x).reshape(shape), rng.normal(shape), diffusion.uniforms(rng, B), np.array(labels, { dtype: np.int32 }));
  const example = batchOf(diffusion, np.zeros(shape), np.zeros(shape), np.zeros([B]), np.zeros([B], { dtype: np.int32 }));
  const stepper = makeStepper(runLoss(config, diffusion), config.adam, { params: state.params, adam: state.adam, ema: state.ema }, example);
  const dropout = config.task === "classifier" ? 0 : (config.cfgDropout ?? 0);
  const losses = [...state.losses];
  const progress = new Progress("train", steps, state.step, process.stderr, quiet);
  const firstStep = state.step;
  let lastSaved = state.step; // a resumed run starts from its saved checkpoint
  let timedFrom = 0; // the first step compiles; time the rest
  const current = (step: number): TrainingState => ({ ...stepper.state(), step, rng: rng.state(), losses: Float32Array.from(losses) });

  try {
    for (let k = state.step; k < steps; k++) {
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
      const loss = stepper.step(makeBatch(x, labels), stepScalars(config.adam, k));
      if (!Number.isFinite(loss)) {
        throw new NonFiniteLossError(
          `loss is ${loss} at step ${k + 1}; stopped. ` +
            (lastSaved > 0 ? `The last good checkpoint (step ${lastSaved}) in ${dir} is kept.` : `No checkpoint had been written yet.`) +
            ` Try a lower --lr.`,
        );
      }
      losses.push(loss);
      if (k === firstStep) timedFrom = performance.now();
      progress.update(k + 1, loss);
      if ((k + 1) % config.checkpointEvery === 0 || k + 1 === steps) {
        const saved = current(k + 1);
        saveCheckpoint(dir, config, saved);
        lastSaved = k + 1;
        onCheckpoint?.(saved, diffusion);
      }
    }
    const last = current(steps);
    state = { ...last, params: tree.ref(last.params), adam: tree.ref(last.adam), ema: tree.ref(last.ema) };
  } finally {
    stepper.close();
  }
  const timed = steps - firstStep - 1;
  return { state, process: diffusion, stepsPerSecond: timed > 0 ? timed / ((performance.now() - timedFrom) / 1000) : NaN };
}
