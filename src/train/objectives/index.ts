/**
 * The objectives of the network kinds, by the name a kind gives (`NetworkKind.objective`), and the
 * objective of a run: with a learned schedule the VDM objective, a classifier's cross-entropy, or
 * its network kind's denoising objective.
 */

import type { Model } from "../../diffusion/model.js";
import type { Params } from "../../engine/index.js";
import { ConfigError } from "../../errors.js";
import { getMaskingSchedule } from "../../masked/schedule.js";
import type { ObjectiveName } from "../../models/kind.js";
import { networkOf } from "../../models/kinds.js";
import { isLearnedSchedule } from "../../schedule/learned.js";
import { buildAutoencoder, buildClassifier, buildMaskedClassifier, buildMaskedDenoiser, buildModel, buildProcess } from "../build.js";
import type { RunConfig } from "../config.js";
import { autoencoderObjective } from "./autoencoder.js";
import { classifierObjective } from "./classifier.js";
import { diffusionObjective } from "./diffusion.js";
import { type EmbeddingParams, textObjective } from "./diffusion-lm.js";
import { distillationObjective } from "./distill.js";
import { hvaeObjective } from "./hvae.js";
import { learnedScheduleObjective } from "./learned.js";
import { maskedClassifierObjective, maskedObjective } from "./masked.js";
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
  // a hierarchical VAE: its own −ELBO, x scored by the run's data decoder
  hvae: (config) => {
    const net = networkOf(config.model);
    if (!net.kind.hvae) throw new ConfigError(`a ${config.model.kind} network is not a hierarchical VAE`);
    return hvaeObjective(net.kind.hvae(net.config), config.data.decoder ?? "gaussian");
  },
  // masked diffusion: the batch's x0 holds token ids, its eps one normal per token (the masking uniforms)
  masked: (config) => maskedObjective(buildMaskedDenoiser(config), getMaskingSchedule(config.schedule), config.timesteps),
  "masked-classifier": (config) => maskedClassifierObjective(buildMaskedClassifier(config), getMaskingSchedule(config.schedule)),
};

/**
 * What a run's steps minimise: a distilled run's distillation loss against `teacher` (its parameters,
 * borrowed for as long as the objective is used), with a learned schedule the VDM objective, a
 * classifier's loss (its kind's own if it declares one), or its network kind's objective.
 */
export function runObjective(config: RunConfig, teacher?: Params): Objective {
  if (config.distill) {
    if (!teacher)
      throw new ConfigError(`a distilled run trains against its teacher (${config.distill.teacher}): pass the teacher's parameters`);
    // guidance is folded into the first teacher only: a later round's teacher (a student) carries it already
    const { steps, guidance, teacherGuided } = config.distill;
    const fold = guidance && !teacherGuided ? { guidance } : {};
    return distillationObjective(buildModel(config), buildProcess(config), { params: teacher, ...fold }, steps);
  }
  if (isLearnedSchedule(config.schedule))
    return learnedScheduleObjective(buildModel(config), config.schedule, config.timesteps, config.data.decoder ?? "gaussian");
  const { kind } = networkOf(config.model);
  if (config.task === "classifier")
    return kind.classifierObjective
      ? objectives[kind.classifierObjective](config)
      : classifierObjective(buildClassifier(config), buildProcess(config), config.clean ?? false);
  return objectives[kind.objective](config);
}
