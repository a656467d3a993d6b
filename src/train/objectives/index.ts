/**
 * The objectives of the network kinds, by the name a kind gives (`NetworkKind.objective`), and the
 * objective of a run: with a learned schedule the VDM objective, a classifier's cross-entropy, or
 * its network kind's denoising objective.
 */

import type { Model } from "../../diffusion/model.js";
import type { ObjectiveName } from "../../models/kind.js";
import { networkOf } from "../../models/kinds.js";
import { isLearnedSchedule } from "../../schedule/learned.js";
import { buildAutoencoder, buildClassifier, buildModel, buildProcess } from "../build.js";
import type { RunConfig } from "../config.js";
import { autoencoderObjective } from "./autoencoder.js";
import { classifierObjective } from "./classifier.js";
import { diffusionObjective } from "./diffusion.js";
import { type EmbeddingParams, textObjective } from "./diffusion-lm.js";
import { learnedScheduleObjective } from "./learned.js";
import type { Objective } from "./objective.js";

/** A network kind's objective for a run on a fixed schedule (its network, process and loss weighting read from the config). */
export type RunObjective = (config: RunConfig) => Objective;

/** The objectives of the network kinds, by name (`NetworkKind.objective`). */
export const objectives: Record<ObjectiveName, RunObjective> = {
  diffusion: (config) => diffusionObjective(buildModel(config), buildProcess(config), config.loss),
  // Diffusion-LM: the batch's x0 holds token ids, embedded by the parameters' own E
  "diffusion-lm": (config) => textObjective(buildModel(config) as Model<EmbeddingParams>, buildProcess(config)),
  // an autoencoder's β-weighted −ELBO, its reconstruction scored by the run's data decoder
  autoencoder: (config) => autoencoderObjective(buildAutoencoder(config), config.data.decoder ?? "gaussian"),
};

/** What a run's steps minimise: with a learned schedule the VDM objective, a classifier's loss, or its network kind's objective. */
export function runObjective(config: RunConfig): Objective {
  if (isLearnedSchedule(config.schedule))
    return learnedScheduleObjective(buildModel(config), config.schedule, config.timesteps, config.data.decoder ?? "gaussian");
  if (config.task === "classifier") return classifierObjective(buildClassifier(config), buildProcess(config), config.clean ?? false);
  return objectives[networkOf(config.model).kind.objective](config);
}
