/** The image-quality judge of the commands that sample image models (`eval --quality`, `nfe`, `guidance`). */
import { loadSplit } from "../data/index.js";
import { type FeatureClassifier, loadFeatureClassifier, type QualityReference, qualityReference } from "../eval/quality.js";
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
