/** `--class K --guidance none|cfg|classifier --scale S [--classifier DIR]`: the denoiser to sample. */

import { oracleClassifier } from "../densities/oracle.js";
import { numpy as np, tree } from "../engine/jax.js";
import type { BatchDenoiser } from "../eval/run.js";
import { cfgModel, checkClass, classifierGuidedModel, conditionalModel, guidanceDefaults } from "../guidance/guided.js";
import type { Denoiser } from "../sample/sampler.js";
import { type LoadedClassifier, loadClassifier } from "../train/load.js";
import { asUsage, defineFlags, type FlagValues, intFlag, UsageError } from "./args.js";
import type { ResolvedModel } from "./model.js";

/** Conditional sampling: the class and how to steer towards it. */
export const guidanceFlags = defineFlags("Conditional sampling", {
  class: {
    value: "K|all",
    help: "sample class K (all: classes 0..K−1 in turn, sample i of class i mod K)",
    parse: (raw: string, name: string): number | "all" | undefined =>
      raw === "" ? undefined : raw === "all" ? raw : intFlag(name, raw, { min: 0 }),
  },
  guidance: {
    value: "none|cfg|classifier",
    help: "none: the conditional model itself; cfg: classifier-free, ε̃ = (1 + w)ε(x, y) − w ε(x, ∅); classifier: s̃ = s + γ ∇ log p_φ(y | x_t) (the oracle uses the exact classifier) (default: cfg for a model trained with label dropout (vdm train --conditional), else none)",
  },
  scale: {
    value: "W",
    help: `the guidance scale, w for cfg, γ for classifier (default: ${guidanceDefaults.cfgScale} for cfg, ${guidanceDefaults.classifierScale} for classifier)`,
    parse: (raw: string, name: string): number | undefined => (raw === "" ? undefined : scaleFlag(name, raw)),
  },
  classifier: { value: "DIR", help: "classifier guidance's classifier, from vdm train-classifier" },
});

type Flags = FlagValues<typeof guidanceFlags.specs>;

/** A guidance scale flag: a number >= 0, with a usage error naming the flag. */
export function scaleFlag(name: string, raw: string): number {
  const scale = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(scale) || scale < 0) throw new UsageError(`--${name} must be a number >= 0, got "${raw}"`);
  return scale;
}

/** The guidance the flags ask for: --guidance, else cfg for a model trained for it (label dropout), else none. */
export function guidanceKind(resolved: ResolvedModel, flags: Pick<Flags, "guidance">): string {
  return flags.guidance || (resolved.classifierFree ? "cfg" : "none");
}

/** The guidance scale the flags ask for: --scale, else guidanceDefaults' scales. */
export function guidanceScale(resolved: ResolvedModel, flags: Pick<Flags, "guidance" | "scale">): number {
  if (flags.scale !== undefined) return flags.scale;
  return guidanceKind(resolved, flags) === "cfg" ? guidanceDefaults.cfgScale : guidanceDefaults.classifierScale;
}

/**
 * Check the flags' guidance towards `classes` before any work (the guidance kind, the classes'
 * range, the classifier and its fit to the model): build the guided denoiser of each distinct class
 * once and release it.
 */
export function checkGuidance(
  resolved: ResolvedModel,
  flags: Pick<Flags, "guidance" | "classifier">,
  classes: Int32Array,
  scale: number,
): void {
  tree.dispose(guidedDenoiser(resolved, flags, Int32Array.from(new Set(classes)), scale).params);
}

/** The classifier checkpoint in `dir` that --`flag` names; a run that is no classifier (a denoiser's) is a usage mistake naming the flag. */
export function classifierFlag(flag: string, dir: string): LoadedClassifier {
  return asUsage(() => loadClassifier(dir), `--${flag} ${dir}`);
}

/** Network evaluations per sampler step under guidance `kind` (see guidanceKind): classifier-free guidance evaluates with and without the label. */
export function evaluationsPerStep(kind: string): number {
  return kind === "cfg" ? 2 : 1;
}

/** The denoiser that samples class `classes[b]` for sample b of `resolved` with the flags' guidance at `scale` (see guidanceScale). */
export function guidedDenoiser(
  resolved: ResolvedModel,
  flags: Pick<Flags, "guidance" | "classifier">,
  classes: Int32Array,
  scale: number,
): Denoiser {
  const { model, params } = resolved.denoiser;
  const kind = guidanceKind(resolved, flags);
  const labels = () => np.array(classes, { dtype: np.int32 });
  const check = (known: number) => classes.forEach((label) => asUsage(() => checkClass(label, known), `--class ${label}`));
  switch (kind) {
    case "none":
      check(model.classes);
      return { model: conditionalModel(model), params: { net: tree.ref(params), labels: labels() } };
    case "cfg":
      check(model.classes);
      if (resolved.native?.guidance !== undefined)
        throw new UsageError(
          `--guidance cfg: the distilled model carries classifier-free guidance w = ${resolved.native.guidance} already (vdm distill --cfg-scale); it samples with --guidance none`,
        );
      return { model: cfgModel(model), params: { net: tree.ref(params), labels: labels(), scale: np.array([scale]) } };
    case "classifier": {
      if (resolved.oracle) {
        if (flags.classifier)
          throw new UsageError(
            `--classifier ${flags.classifier}: the oracle guides with its exact classifier (the mixture's component posterior); a trained classifier guides a trained model`,
          );
        check(resolved.oracle.classes);
        return {
          model: classifierGuidedModel(model, oracleClassifier(resolved.oracle.classes)),
          params: { net: tree.ref(params), classifier: tree.ref(params), labels: labels(), scale: np.array([scale]) },
        };
      }
      if (!flags.classifier) throw new UsageError("--guidance classifier needs --classifier DIR (a checkpoint from vdm train-classifier)");
      if (resolved.latent)
        throw new UsageError(
          "--guidance classifier: a latent model samples latents, which a classifier of images cannot guide; use --guidance cfg",
        );
      const c = classifierFlag("classifier", flags.classifier);
      if (c.config.clean)
        throw new UsageError(
          `--classifier ${flags.classifier}: the classifier was trained on clean data only; classifier guidance needs a noise-aware one (vdm train-classifier without --net cnn)`,
        );
      if (c.config.data.dim !== resolved.dim)
        throw new UsageError(
          `--classifier ${flags.classifier}: the classifier sees ${c.config.data.dim}-D data, the model ${resolved.dim}-D`,
        );
      if (
        c.config.data.mean.some(
          (m, d) =>
            Math.abs(m - resolved.normalization.mean[d]!) > 1e-6 * (1 + Math.abs(m)) ||
            Math.abs(c.config.data.std[d]! - resolved.normalization.std[d]!) > 1e-6 * c.config.data.std[d]!,
        )
      ) {
        throw new UsageError(
          `--classifier ${flags.classifier}: the classifier was trained with a different data normalisation than the model`,
        );
      }
      if (c.config.schedule !== resolved.scheduleName)
        throw new UsageError(
          `--classifier ${flags.classifier}: the classifier was trained on the ${c.config.schedule} schedule, the model on ${resolved.scheduleName}`,
        );
      classes.forEach((label) => {
        if (label >= c.classifier.classes)
          throw new UsageError(
            `--class ${label}: class ${label} is out of range: the classifier knows classes 0..${c.classifier.classes - 1}`,
          );
      });
      return {
        model: classifierGuidedModel(model, c.classifier),
        params: { net: tree.ref(params), classifier: c.params, labels: labels(), scale: np.array([scale]) },
      };
    }
    default:
      throw new UsageError(`--guidance must be none, cfg or classifier, got "${kind}"`);
  }
}

/** The denoiser of samples start..start+m−1 of `labels` with the flags' guidance at `scale` (guidedDenoiser); without labels the model itself. */
export function labelledDenoiser(
  resolved: ResolvedModel,
  flags: Pick<Flags, "guidance" | "classifier">,
  labels: Int32Array | undefined,
  scale: number,
): BatchDenoiser {
  return labels ? (start, m) => guidedDenoiser(resolved, flags, labels.slice(start, start + m), scale) : resolved.denoiser;
}
