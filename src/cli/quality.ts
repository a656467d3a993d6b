/** The image-quality judge of the commands that sample image models (`eval --quality`, `nfe`, `guidance`). */
import { loadSplit } from "../data/index.js";
import { type FeatureClassifier, loadFeatureClassifier, type QualityReference, qualityReference } from "../eval/quality.js";
import type { BatchDenoiser } from "../eval/run.js";
import { guidedDenoiser } from "./guidance.js";
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

/** The labels of n samples of a conditional model, classes 0..K−1 in turn (sample i of class i mod K); none for an unconditional one. */
export function classesInTurn(resolved: ResolvedModel, n: number): Int32Array | undefined {
  const classes = resolved.denoiser.model.classes;
  return classes ? Int32Array.from({ length: n }, (_, i) => i % classes) : undefined;
}

/** The denoiser of samples start..start+m−1 of `labels` with the flags' guidance at `scale` (guidedDenoiser); without labels the model itself. */
export function labelledDenoiser(
  resolved: ResolvedModel,
  flags: Parameters<typeof guidedDenoiser>[1],
  labels: Int32Array | undefined,
  scale: number,
): BatchDenoiser {
  return labels ? (start, m) => guidedDenoiser(resolved, flags, labels.slice(start, start + m), scale) : resolved.denoiser;
}
