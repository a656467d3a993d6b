/**
 * What training leaves in a run's metrics.json: the steps done, the training time across
 * invocations (a resumed run adds to the earlier ones), the speed and the final loss; and what a
 * report says of the held-out ELBO.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { DiffusionProcess } from "../diffusion/process.js";
import { writeFileAtomic } from "../io/atomic.js";
import { formatSeconds } from "./progress.js";

/** The mean of the last k values of `a` (0 when empty). */
export function meanOfLast(a: ArrayLike<number>, k: number): number {
  let sum = 0;
  const from = Math.max(0, a.length - k);
  for (let i = from; i < a.length; i++) sum += a[i]!;
  return sum / Math.max(1, a.length - from);
}

/**
 * What a report's metrics.json says of a held-out −ELBO (borrowed, as `process`): bits/dim, nats ±
 * their standard error, the three terms, the one-draw diffusion-term variance where it was estimated,
 * and γ at the reconstruction and prior latents.
 */
export function elboFacts<
  E extends { bpd: number; nats: number; stdError: number; terms: unknown; diffusionVariance?: number | undefined },
>(elbo: E, process: DiffusionProcess) {
  return {
    bpd: elbo.bpd,
    nats: elbo.nats,
    natsStdError: elbo.stdError,
    terms: elbo.terms as E["terms"],
    ...(elbo.diffusionVariance !== undefined ? { diffusionVariance: elbo.diffusionVariance } : {}),
    gamma: { reconstruction: process.reconstructionLevel().gamma, prior: process.priorLevel().gamma },
  };
}

/**
 * What is known of a run once it has trained, as metrics.json holds it: the steps done, the
 * training time over all invocations, this invocation's speed (absent when too few steps ran to
 * measure it) and the mean loss of the last 100 steps.
 */
export interface TrainingFacts {
  steps: number;
  trainSeconds: number;
  stepsPerSecond?: number;
  finalLoss: number;
}

/** What a resumed run's metrics.json says of its earlier invocations: the training seconds and the last measured speed (nothing when absent). */
export function earlierFacts(dir: string): Partial<Pick<TrainingFacts, "trainSeconds" | "stepsPerSecond">> {
  try {
    const m = JSON.parse(readFileSync(join(dir, "metrics.json"), "utf8")) as Record<string, unknown>;
    const number = (v: unknown) => (typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : undefined);
    const [trainSeconds, stepsPerSecond] = [number(m.trainSeconds), number(m.stepsPerSecond)];
    return { ...(trainSeconds !== undefined ? { trainSeconds } : {}), ...(stepsPerSecond !== undefined ? { stepsPerSecond } : {}) };
  } catch {
    return {};
  }
}

/**
 * The facts of a run at `state.step` (with its losses) after an invocation that started at
 * `firstStep` and trained for `seconds` at `stepsPerSecond` (NaN: unmeasured), following the
 * `earlier` ones: the seconds add up; an invocation that ran no step adds none and keeps the
 * earlier speed.
 */
export function trainingFacts(
  state: { step: number; losses: ArrayLike<number> },
  firstStep: number,
  seconds: number,
  stepsPerSecond: number,
  earlier: ReturnType<typeof earlierFacts>,
): TrainingFacts {
  const ran = state.step > firstStep;
  const rate = ran ? stepsPerSecond : (earlier.stepsPerSecond ?? NaN);
  return {
    steps: state.step,
    trainSeconds: (earlier.trainSeconds ?? 0) + (ran ? seconds : 0),
    ...(Number.isFinite(rate) ? { stepsPerSecond: rate } : {}),
    finalLoss: meanOfLast(state.losses, 100),
  };
}

/** Write DIR/metrics.json with the training facts only (until a report replaces it), and `data` naming the data set. */
export function writeTrainingFacts(dir: string, data: string, facts: TrainingFacts): void {
  writeFileAtomic(join(dir, "metrics.json"), `${JSON.stringify({ data, ...facts }, null, 2)}\n`);
}

/**
 * "4000 steps in 12s (612.3 steps/s)"; for a resumed run "steps 3000 to 6000 in 5s (612.3
 * steps/s), 12s of training in all", or "4000 steps, trained earlier in 12s" when none ran now;
 * without a rate when none was measured.
 */
export function trainedSummary(facts: TrainingFacts, firstStep: number, seconds: number, digits = 1): string {
  if (facts.steps === firstStep) return `${facts.steps} steps, trained earlier in ${formatSeconds(facts.trainSeconds)}`;
  const rate = facts.stepsPerSecond === undefined ? "" : ` (${facts.stepsPerSecond.toFixed(digits)} steps/s)`;
  if (firstStep === 0) return `${facts.steps} steps in ${formatSeconds(seconds)}${rate}`;
  return `steps ${firstStep} to ${facts.steps} in ${formatSeconds(seconds)}${rate}, ${formatSeconds(facts.trainSeconds)} of training in all`;
}
