/**
 * A training run the page watches: steps taken in chunks of ~150 ms between which the worker answers
 * other requests, progress events with the fresh losses and steps/s (the first call, which compiles,
 * untimed), pause and resume. The 2-D Train tab and the image training tab each keep one.
 */

import { io, onnx, training } from "vdm/browser";
import { type Array, tree } from "vdm/jax";
import { backendNow } from "./backend.js";
import type { Event, Reply, RunChannel } from "./protocol.js";

type Post = (m: Event | Reply) => void;
/** A run's state, as a run starts from it. */
export type Start = NonNullable<training.TrainingRunOptions["start"]>;

export class LiveRun {
  running = false;
  /** steps timed, their milliseconds, and of those the milliseconds spent waiting for ONNX Runtime Web */
  #timing = { steps: 0, ms: 0, onnxMs: 0 };
  #warm = false;

  constructor(
    readonly run: training.TrainingRun,
    readonly channel: RunChannel,
    readonly post: Post,
  ) {}

  /** Steps per second since the first call. */
  get stepsPerSecond(): number {
    return this.#timing.ms > 0 ? (1000 * this.#timing.steps) / this.#timing.ms : NaN;
  }

  /** Post a progress event with the losses of the steps since the last one. */
  progress(fresh: number[]): void {
    const { run } = this;
    this.post({
      event: "progress",
      channel: this.channel,
      step: run.step,
      steps: run.config.steps,
      losses: fresh,
      stepsPerSecond: this.stepsPerSecond,
      onnxShare: this.#timing.ms > 0 ? this.#timing.onnxMs / this.#timing.ms : NaN,
      backend: backendNow().backend,
      running: this.running,
      done: run.step >= run.config.steps,
    });
  }

  /** Train until paused or done; rejects with a non-finite loss. */
  async start(): Promise<void> {
    const { run } = this;
    this.running = true;
    while (this.running && run.step < run.config.steps) {
      const fresh: number[] = [];
      const chunkStart = performance.now();
      do {
        const t0 = performance.now();
        const before = onnx.onnxRuntimeWebCalls().ms;
        // as many steps as the stepper takes in one call (ONNX Runtime: several), not past the end
        const results = run.nextSteps(Math.min(run.chunk, run.config.steps - run.step));
        for (const { loss } of results) {
          if (!Number.isFinite(loss)) {
            this.running = false;
            throw new Error(`loss is ${loss} at step ${run.step + 1}; lower the learning rate`);
          }
          fresh.push(loss);
        }
        if (this.#warm) {
          const { steps, ms, onnxMs } = this.#timing;
          const waited = onnx.onnxRuntimeWebCalls().ms - before;
          this.#timing = { steps: steps + results.length, ms: ms + (performance.now() - t0), onnxMs: onnxMs + waited };
        }
        this.#warm = true;
      } while (this.running && run.step < run.config.steps && performance.now() - chunkStart < 150);
      if (run.step >= run.config.steps) this.running = false;
      this.progress(fresh);
      // let requests (pause, sampling, …) in between chunks
      await new Promise((r) => setTimeout(r, 0));
    }
    this.running = false;
  }

  /** Start training unless it already runs; a failure (a non-finite loss) is posted as the page's error. */
  launch(): { started: boolean } {
    if (this.running) return { started: false };
    this.start().catch((err) => this.post({ id: -1, error: String((err as Error).message ?? err) }));
    return { started: true };
  }

  /** The run as the CLI's two files: config.json's text and state.safetensors' bytes, at its step. */
  save(): { config: string; state: Uint8Array; step: number } {
    const { run } = this;
    return { config: `${JSON.stringify(run.config, null, 2)}\n`, state: io.encodeTrainingState(run.state()), step: run.step };
  }

  /** Stop after the current chunk. */
  pause(): void {
    this.running = false;
  }

  /** Stop, and hand back a copy of the run's state (to go on elsewhere): the run itself is closed. */
  detach(): Start {
    this.pause();
    const state = this.run.state();
    const copy = tree.map((p: Array) => p.ref.add(0), { params: state.params, adam: state.adam, ema: state.ema }) as Pick<
      Start,
      "params" | "adam" | "ema"
    >;
    this.close();
    return { ...state, ...copy };
  }

  /** Release the run's stepper. */
  close(): void {
    this.running = false;
    this.run.close();
  }
}

/**
 * A run from an uploaded config.json (`text`) and state.safetensors (`state`), named `source` in
 * errors; `refuse` says why this tab cannot take it (null: it can), and a refused run's arrays are
 * released before the error.
 */
export function restoreUploaded(
  text: string,
  state: Uint8Array,
  source: string,
  refuse: (loaded: training.LoadedRun) => string | null,
): training.LoadedRun {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`config.json is not JSON (${(err as Error).message})`);
  }
  const loaded = training.restoreRun(value, state, { source });
  const why = refuse(loaded);
  if (why) {
    tree.dispose(loaded.state ? [loaded.state.params, loaded.state.ema, loaded.state.adam] : loaded.denoiser.params);
    throw new Error(why);
  }
  return loaded;
}
