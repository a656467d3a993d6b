/**
 * A training run the page watches: steps taken in chunks of ~150 ms between which the worker answers
 * other requests, progress events with the fresh losses and steps/s (the first call, which compiles,
 * untimed), pause and resume. The 2-D Train tab and the image training tab each keep one.
 */

import { onnx, type training } from "vdm/browser";
import { type Array, tree } from "vdm/jax";
import { backendNow } from "./backend.js";
import type { Event, RunChannel } from "./protocol.js";

type Post = (e: Event) => void;
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
