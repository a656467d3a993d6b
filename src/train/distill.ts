/**
 * Progressive distillation's runs (Salimans & Ho 2022): each round is an ordinary run of the trainer
 * whose config's `distill` names its teacher (a run directory) and its own number of DDIM steps N; it
 * starts from the teacher's EMA parameters and trains on `distillationObjective` (objectives/distill.ts)
 * against them. Rounds halve N: the teacher of round N is the student of round 2N.
 */

import type { Params } from "../engine/index.js";
import { tree } from "../engine/jax.js";
import { ConfigError } from "../errors.js";
import { networkOf } from "../models/kinds.js";
import { isLearnedSchedule } from "../schedule/learned.js";
import { type RunConfig, validateRunConfig } from "./config.js";
import { loadRun } from "./load.js";
import { distilledSpacing } from "./objectives/distill.js";

/**
 * The defaults of `vdm distill`: the teacher sampled in 64 DDIM steps, halved round by round down to
 * 4, 1,000 training steps a round, and an EMA decay of 0.99 (a half-life of 69 steps: the default
 * 0.999 would still hold 37 % of the teacher's weights after 1,000 steps).
 */
export const distillDefaults = { fromSteps: 64, toSteps: 4, stepsPerRound: 1000, emaDecay: 0.99 } as const;

/** What a round of distillation may set; the rest is its teacher's config. */
export interface DistillOptions {
  /** training steps of the round (default `distillDefaults.stepsPerRound`) */
  trainSteps?: number;
  /** the learning rate (default: the teacher's) */
  lr?: number;
  /** the EMA decay (default `distillDefaults.emaDecay`) */
  emaDecay?: number;
  /** classifier-free guidance w folded into a conditional teacher's predictions (default: none, or the w a guided student teacher carries) */
  guidance?: number;
}

/** Refuses a teacher that progressive distillation cannot take: a denoiser on a fixed schedule, of data (not latents). */
function checkTeacher(teacher: RunConfig, source: string): void {
  if (teacher.task === "classifier" || networkOf(teacher.model).kind.objective !== "diffusion")
    throw new ConfigError(
      `${source}: a ${teacher.model.kind} ${teacher.task ?? "network"} is not a denoiser of a diffusion process: it cannot be distilled`,
    );
  if (isLearnedSchedule(teacher.schedule))
    throw new ConfigError(
      `${source}: a learned schedule (${teacher.schedule}) cannot be distilled yet: its levels move with its parameters`,
    );
  if (teacher.latent)
    throw new ConfigError(`${source}: a latent run cannot be distilled yet (its student would need its autoencoder's copy)`);
}

/**
 * The config of the student of `steps` DDIM steps distilled from the run in `teacherDir` (config
 * `teacher`): the teacher's, with `options`, a warm-up of at most 1/20 of the steps, a cosine decay
 * (if the teacher had one) over the round's steps, checkpoints every tenth of them (at least 100
 * steps apart), and `distill` naming the teacher, the steps and the sampler (DDIM, trailing levels).
 */
export function distillationConfig(teacher: RunConfig, teacherDir: string, steps: number, options: DistillOptions = {}): RunConfig {
  checkTeacher(teacher, teacherDir);
  const trainSteps = options.trainSteps ?? distillDefaults.stepsPerRound;
  const { distill: _, ...rest } = teacher;
  const { decay, ...adam } = teacher.adam;
  // a teacher that is itself a guided student carries its w: its students carry the same, folded in no further
  const carried = teacher.distill?.guidance;
  const guidance = options.guidance ?? carried ?? 0;
  if (carried !== undefined && guidance !== carried)
    throw new ConfigError(
      `${teacherDir}: the teacher carries classifier-free guidance w = ${carried} already; its students carry the same (asked for w = ${guidance})`,
    );
  if (guidance > 0 && teacher.cfgDropout === undefined)
    throw new ConfigError(
      `${teacherDir}: guidance w = ${guidance} needs a conditional teacher trained with label dropout (vdm train --conditional)`,
    );
  const guided = guidance > 0 ? { guidance, ...(carried !== undefined ? { teacherGuided: true as const } : {}) } : {};
  return validateRunConfig(
    {
      ...rest,
      steps: trainSteps,
      adam: {
        ...adam,
        lr: options.lr ?? adam.lr,
        emaDecay: options.emaDecay ?? distillDefaults.emaDecay,
        warmup: Math.min(adam.warmup, Math.ceil(trainSteps / 20)),
        ...(decay ? { decay: { ...decay, steps: trainSteps } } : {}),
      },
      checkpointEvery: Math.max(100, Math.ceil(trainSteps / 10)),
      distill: { teacher: teacherDir, steps, sampler: "ddim", spacing: distilledSpacing, ...guided },
    },
    "distillation options",
  );
}

/**
 * The EMA parameters of a distilled run's teacher (`config.distill.teacher`, a checkpoint or exported
 * weights), checked to be the same network on the same process as the student's; the caller disposes them.
 */
export function loadTeacher(config: RunConfig): Params {
  if (!config.distill) throw new ConfigError("this run is not a distilled one (its config has no distill field)");
  const dir = config.distill.teacher;
  const run = loadRun(dir);
  const same = (c: RunConfig) => JSON.stringify([c.model, c.target, c.schedule, c.timesteps, c.data.dim]);
  if (same(run.config) !== same(config)) {
    tree.dispose(run.denoiser.params);
    throw new ConfigError(`${dir}: the teacher's network, target, schedule or timesteps differ from its student's`);
  }
  if (run.state) tree.dispose([run.state.params, run.state.adam]);
  return run.denoiser.params;
}
