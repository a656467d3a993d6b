/** The image-quality judge of the commands that sample image models (`eval --quality`, `nfe`, `guidance`). */
import { loadSplit } from "../data/index.js";
import { type FeatureClassifier, loadFeatureClassifier, type QualityReference, qualityReference } from "../eval/quality.js";
import type { BatchDenoiser } from "../eval/run.js";
import { checkGuidance, evaluationsPerStep, guidanceKind, guidanceScale, labelledDenoiser } from "./guidance.js";
import type { ResolvedModel } from "./model.js";

/**
 * The shipped Fashion-MNIST classifier and the reference statistics for n samples of `resolved`'s
 * data: the first 2n test images from `dataDir` (default: the run's data folder, else the default one).
 */
export function imageJudge(resolved: ResolvedModel, n: number, dataDir = ""): { net: FeatureClassifier; reference: QualityReference } {
  const net = loadFeatureClassifier();
  const test = loadSplit(resolved.data, resolved.seed, {
    train: 1,
    test: 2 * n,
    dataDir: dataDir || resolved.dataConfig?.dataDir || "",
  }).test;
  return { net, reference: qualityReference(net, test, n) };
}

/**
 * How n quality samples of `resolved` are drawn: a conditional model's labels are classes 0..K−1 in
 * turn (sample i of class i mod K), with the flags' guidance (guidanceKind, guidanceScale; checked
 * now, before any sampling) and its evaluations per sampler step; an unconditional model is sampled
 * as it is (guidance "none").
 */
export function qualityGuidance(
  resolved: ResolvedModel,
  flags: Parameters<typeof guidanceScale>[1] & Parameters<typeof checkGuidance>[1],
  n: number,
): { den: BatchDenoiser; labels?: Int32Array; kind: string; scale: number; evaluationsPerStep: number } {
  const classes = resolved.denoiser.model.classes;
  if (!classes) return { den: resolved.denoiser, kind: "none", scale: 0, evaluationsPerStep: 1 };
  const labels = Int32Array.from({ length: n }, (_, i) => i % classes);
  const kind = guidanceKind(resolved, flags);
  const scale = guidanceScale(resolved, flags);
  checkGuidance(resolved, flags, labels, scale);
  return { den: labelledDenoiser(resolved, flags, labels, scale), labels, kind, scale, evaluationsPerStep: evaluationsPerStep(kind) };
}
