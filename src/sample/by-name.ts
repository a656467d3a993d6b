/**
 * The samplers that walk a ladder of N levels, chosen by name: one table for every front end that
 * offers them by name (the CLI's `--sampler`, the playground's menu). Langevin, annealed Langevin
 * and predictor–corrector take options of their own and are built directly.
 */
import type { DiffusionProcess } from "../diffusion/process.js";
import { AncestralSampler, type AncestralVariance } from "./ancestral.js";
import { DdimSampler } from "./ddim.js";
import { DpmSolverSampler } from "./dpm-solver.js";
import { EulerSampler } from "./euler.js";
import { HeunSampler } from "./heun.js";
import type { LevelOptions } from "./predict.js";
import type { Sampler } from "./sampler.js";

/** The names {@link levelSampler} builds. */
export const levelSamplerNames = ["dpm++2m", "dpm++3m", "ddim", "euler", "heun", "ancestral"] as const;

/** One of {@link levelSamplerNames}. */
export type LevelSamplerName = (typeof levelSamplerNames)[number];

/** The levels (N, spacing, σ̃ cap) and the knobs of the one sampler that has them: DDIM's η, ancestral's variance. */
export interface LevelSamplerOptions extends LevelOptions {
  /** ddim only: η (default 0) */
  eta?: number;
  /** ancestral only: the reverse steps' variance (default "posterior") */
  variance?: AncestralVariance;
}

/** Whether `name` is one of {@link levelSamplerNames}. */
export function isLevelSamplerName(name: string): name is LevelSamplerName {
  return (levelSamplerNames as readonly string[]).includes(name);
}

/**
 * The sampler called `name` on `process`'s levels: DPM-Solver++ 2M/3M, DDIM, Euler, Heun (on the
 * probability-flow ODE) or ancestral (DDPM), each with its own defaults where `options` is silent.
 *
 * @example
 * ```ts
 * const sampler = levelSampler("dpm++2m", process, { steps: 20 });
 * ```
 */
export function levelSampler(name: LevelSamplerName, process: DiffusionProcess, options: LevelSamplerOptions = {}): Sampler {
  switch (name) {
    case "dpm++2m":
    case "dpm++3m":
      return new DpmSolverSampler(process, { ...options, order: name === "dpm++2m" ? 2 : 3 });
    case "ddim":
      return new DdimSampler(process, options);
    case "euler":
      return new EulerSampler(process, options);
    case "heun":
      return new HeunSampler(process, options);
    case "ancestral":
      return new AncestralSampler(process, options);
  }
}
