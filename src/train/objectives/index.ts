/**
 * The objectives of the network kinds, by the name a kind gives (`NetworkKind.objective`), and the
 * objective of a run: with a learned schedule the VDM objective, a classifier's cross-entropy, or
 * its network kind's denoising objective.
 */

import type { Model } from "../../diffusion/model.js";
import type { DiffusionProcess, Weighting } from "../../diffusion/process.js";
import type { ObjectiveName } from "../../models/kind.js";
import { networkOf } from "../../models/kinds.js";
import { isLearnedSchedule } from "../../schedule/learned.js";
import { buildClassifier, buildModel, buildProcess } from "../build.js";
import type { RunConfig } from "../config.js";
import { classifierObjective } from "./classifier.js";
import { diffusionObjective } from "./diffusion.js";
import { type EmbeddingParams, textObjective } from "./diffusion-lm.js";
import { learnedScheduleObjective } from "./learned.js";
import type { Objective } from "./objective.js";

/** A denoiser's objective on a fixed schedule's process, with the run's loss weighting. */
export type DenoiserObjective = (model: Model, process: DiffusionProcess, weighting: Weighting) => Objective;

/** The denoising objectives, by name. */
export const objectives: Record<ObjectiveName, DenoiserObjective> = {
  diffusion: diffusionObjective,
  // Diffusion-LM: the batch's x0 holds token ids, embedded by the parameters' own E
  "diffusion-lm": (model, process) => textObjective(model as Model<EmbeddingParams>, process),
};

/** What a run's steps minimise: with a learned schedule the VDM objective, a classifier's loss, or its network kind's objective. */
export function runObjective(config: RunConfig): Objective {
  if (isLearnedSchedule(config.schedule))
    return learnedScheduleObjective(buildModel(config), config.schedule, config.timesteps, config.data.decoder ?? "gaussian");
  const process = buildProcess(config);
  if (config.task === "classifier") return classifierObjective(buildClassifier(config), process, config.clean ?? false);
  return objectives[networkOf(config.model).kind.objective](buildModel(config), process, config.loss);
}
