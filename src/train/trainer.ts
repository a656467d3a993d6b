/**
 * The training loop: one jitted step (loss, gradients, AdamW, EMA), batches drawn from a seeded
 * stream, checkpoints every `checkpointEvery` steps, and a stop with a clear error on a
 * non-finite loss that leaves the last good checkpoint in place. Resuming restores parameters,
 * optimizer moments, EMA, loss history and the RNG key, so a resumed run equals an
 * uninterrupted one. The step itself and the batch stream are in `step.ts` (no file system).
 */

import type { PointSet } from "../data/sets.js";
import type { Params } from "../engine/index.js";
import { tree } from "../engine/jax.js";
import { ConfigError } from "../errors.js";
import { loadCheckpointState, saveCheckpoint } from "../io/checkpoint.js";
import type { TrainingState } from "../io/state.js";
import type { RunConfig } from "./config.js";
import { initialState, jaxStepper, NonFiniteLossError, type StepperFactory, TrainingRun } from "./step.js";

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
   * is written (the default).
   */
  checkpointDir?: string;
  /** continue the run saved in `checkpointDir` from its step (default false) */
  resume?: boolean;
  /** called after every step (default: none) */
  onProgress?: (progress: TrainProgress) => void;
  /** called after each checkpoint is written (e.g. to draw a sample grid); the state is borrowed (default: none) */
  onCheckpoint?: (state: TrainingState) => void;
  /** stops training after the current step (or the few the stepper takes at once); the result then has `completed: false` (default: none, run every step) */
  signal?: AbortSignal;
  /** where the steps run (default: jax-js, `jaxStepper`; ONNX Runtime: `onnxStepper()`) */
  makeStepper?: StepperFactory;
  /** a distilled run's (`config.distill`) teacher parameters, borrowed: the frozen teacher, and a fresh run's start (default: none) */
  teacher?: Params;
}

/** What `train` returns: the final training state, whether all steps ran, and the speed. */
export interface TrainResult {
  state: TrainingState;
  /** false when `signal` stopped the run before `config.steps` */
  completed: boolean;
  /** steps per second over this invocation (excluding the first, compiling step) */
  stepsPerSecond: number;
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
export function train(config: RunConfig, data: PointSet, options: TrainOptions = {}): TrainResult {
  const loop = trainingLoop(config, data, options);
  for (;;) {
    const next = loop.next();
    if (next.done) return next.value;
  }
}

/** How long `trainAsync` trains at most before it hands control back to the event loop (ms). */
const YIELD_EVERY_MS = 50;

/**
 * `train`, handing control back to the event loop between the stepper's calls (at most every
 * 50 ms), so that timers, I/O and signal handlers run while it trains: a Ctrl-C handler that
 * aborts `signal` then stops the run after the current step(s), with a checkpoint written.
 */
export async function trainAsync(config: RunConfig, data: PointSet, options: TrainOptions = {}): Promise<TrainResult> {
  const loop = trainingLoop(config, data, options);
  const pause = globalThis.setImmediate ?? ((f: () => void) => setTimeout(f, 0));
  let ranFrom = performance.now();
  for (;;) {
    const next = loop.next();
    if (next.done) return next.value;
    if (performance.now() - ranFrom >= YIELD_EVERY_MS) {
      await new Promise<void>((resolve) => pause(resolve));
      ranFrom = performance.now();
    }
  }
}

/** The loop of `train`, yielding after each call of the stepper (`train` runs it through, `trainAsync` pauses at the yields). */
function* trainingLoop(
  config: RunConfig,
  data: PointSet,
  { checkpointDir, resume = false, onProgress, onCheckpoint, signal, makeStepper = jaxStepper, teacher }: TrainOptions,
): Generator<void, TrainResult> {
  if (resume && !checkpointDir) throw new ConfigError("resuming a run needs the checkpoint directory it was saved in (checkpointDir)");
  let start: TrainingState | undefined;
  if (resume) {
    const template = initialState(config).state;
    start = loadCheckpointState(checkpointDir!, template.params);
    tree.dispose([template.params, template.ema, template.adam.m, template.adam.v]);
  }
  const run = new TrainingRun(config, data, { ...(start ? { start } : {}), ...(teacher ? { teacher } : {}), makeStepper });
  const { steps } = config;
  const firstStep = run.step;
  let lastSaved = run.step; // a resumed run starts from its saved checkpoint
  let timedFrom = 0; // the first step compiles; time the rest

  const save = (step: number) => {
    const saved = run.state();
    if (checkpointDir) {
      saveCheckpoint(checkpointDir, config, saved);
      lastSaved = step;
    }
    onCheckpoint?.(saved);
  };
  let done = run.step;
  let state: TrainingState;
  try {
    while (run.step < steps && !signal?.aborted) {
      // as many steps as the stepper takes at once, up to the next checkpoint (and the first step alone: it compiles)
      const k = run.step;
      const toCheckpoint = config.checkpointEvery - (k % config.checkpointEvery);
      const count = k === firstStep ? 1 : Math.min(run.chunk, steps - k, toCheckpoint);
      for (const [j, { loss, variance }] of run.nextSteps(count).entries()) {
        if (!Number.isFinite(loss)) {
          throw new NonFiniteLossError(
            `loss is ${loss} at step ${k + j + 1}; stopped. ` +
              (lastSaved > 0
                ? `The last good checkpoint (step ${lastSaved}) in ${checkpointDir} is kept.`
                : `No checkpoint had been written yet.`) +
              ` Try a lower learning rate.`,
          );
        }
        if (k + j === firstStep) timedFrom = performance.now();
        done = k + j + 1;
        onProgress?.({ step: done, steps, firstStep, loss, variance });
      }
      if (done % config.checkpointEvery === 0 || done === steps) save(done);
      yield;
    }
    if (done < steps && done > lastSaved) save(done); // stopped by the signal
    const last = run.state();
    state = { ...last, params: tree.ref(last.params), adam: tree.ref(last.adam), ema: tree.ref(last.ema) };
  } finally {
    run.close();
  }
  const timed = done - firstStep - 1;
  return { state, completed: done === steps, stepsPerSecond: timed > 0 ? timed / ((performance.now() - timedFrom) / 1000) : NaN };
}
