/**
 * Sample quality of images through a classifier's features (the FID recipe with a feature network
 * trained by this library instead of Inception): the penultimate activations f(x) [N, F] of a small
 * CNN trained on clean Fashion-MNIST images (models/cnn.ts; the checkpoint shipped in
 * models/fashion-mnist-classifier, retrained by scripts/train-fashion-mnist-classifier.mjs), then
 *
 *   frechet    = FD(f(generated), f(reference[0, n)))          (eval/frechet.ts)
 *   noiseFloor = FD(f(reference[n, 2n)), f(reference[0, n)))   two disjoint data samples of the same size
 *   accuracy   = (1/n) Σ_i [argmax logits(generated_i) = requested label_i]   (when labels are given)
 *
 * Images are 8-bit pixel values [N, H, W, C] (what `drawSamples` returns for image runs: the
 * model's [−1, 1] denormalised to 0..255), clipped to [0, 255] — the range real images lie in — and
 * normalised as the classifier was trained. The library never prints; nothing here draws samples.
 */

import { join } from "node:path";
import { type PointSet, subset } from "../data/index.js";
import { type Normalization, normalize } from "../data/normalize.js";
import { type Array, jit, numpy as np, tree } from "../engine/jax.js";
import { CheckpointError, DataError, ShapeError } from "../errors.js";
import { type CnnParams, cnnFeatures, cnnHead, cnnKind } from "../models/cnn.js";
import { configOf } from "../models/kinds.js";
import { dataShape } from "../train/build.js";
import type { RunConfig } from "../train/config.js";
import { loadClassifier } from "../train/load.js";
import { shippedModelsDir } from "../train/shipped.js";
import { frechetDistance, frechetNoiseFloor } from "./frechet.js";

/** The Fashion-MNIST feature classifier shipped with the package. */
export const shippedFeatureClassifier = join(shippedModelsDir, "fashion-mnist-classifier");

/** A clean-image CNN classifier loaded for feature extraction. */
export interface FeatureClassifier {
  config: RunConfig;
  /** EMA parameters, owned by this object (`tree.dispose(net.params)` releases them) */
  params: CnnParams;
  /** pixels → model coordinates, as in training */
  normalization: Normalization;
  /** one image's shape [H, W, C] */
  shape: number[];
  /** F: features per image */
  features: number;
  classes: number;
}

/** Load a CNN checkpoint from `vdm train-classifier --net cnn` (default: the shipped one); EMA parameters. */
export function loadFeatureClassifier(dir: string = shippedFeatureClassifier): FeatureClassifier {
  const c = loadClassifier(dir);
  const cnn = configOf(c.config.model, cnnKind);
  if (!cnn || !c.config.clean) {
    tree.dispose(c.params);
    throw new CheckpointError(
      `checkpoint ${dir} is not a clean-image CNN classifier (a classifier run with a "cnn" model of clean images)`,
    );
  }
  return {
    config: c.config,
    params: c.params as CnnParams,
    normalization: c.normalization,
    shape: dataShape(c.config),
    features: cnn.hidden,
    classes: cnn.outputs,
  };
}

/** Penultimate activations f(x) [N, F] of images x [N, H, W, C] in model coordinates. Consumes x; borrows net. */
export function imageFeatures(net: FeatureClassifier, x: Array): Array {
  return cnnFeatures({ stages: tree.ref(net.params.stages), features: tree.ref(net.params.features) }, x);
}

/** Logits [N, classes] of images x [N, H, W, C] in model coordinates. Consumes x; borrows net. */
export function imageLogits(net: FeatureClassifier, x: Array): Array {
  return cnnHead(tree.ref(net.params.output), imageFeatures(net, x));
}

/** (params, x) → [f(x), argmax logits(x)], jitted once per loaded classifier. */
const compiled = new WeakMap<FeatureClassifier, (params: CnnParams, x: Array) => [Array, Array]>();

function describeStep(net: FeatureClassifier) {
  let step = compiled.get(net);
  if (!step) {
    step = jit((params: CnnParams, x: Array): [Array, Array] => {
      const f = cnnFeatures(params, x);
      return [f.ref, np.argmax(cnnHead(params.output, f), -1)];
    }) as unknown as (params: CnnParams, x: Array) => [Array, Array];
    compiled.set(net, step);
  }
  return step;
}

/**
 * Features [n, F] (float64) and predicted classes [n] of n images given as pixels [n, H, W, C]
 * (0..255, clipped to that range), `batch` images per network call. Reads pixels; borrows net.
 */
export function describeImages(
  net: FeatureClassifier,
  pixels: Float32Array,
  { batch = 250 } = {},
): { features: Float64Array; classes: Int32Array } {
  const dim = net.shape.reduce((a, b) => a * b, 1);
  const n = pixels.length / dim;
  if (!Number.isInteger(n) || n < 1) throw new ShapeError(`expected images of ${net.shape.join("×")} pixels, got ${pixels.length} values`);
  const x = normalize(
    pixels.map((v) => Math.min(255, Math.max(0, v))),
    net.normalization,
  );
  const F = net.features;
  const features = new Float64Array(n * F);
  const classes = new Int32Array(n);
  const step = describeStep(net);
  for (let start = 0; start < n; start += batch) {
    const m = Math.min(batch, n - start);
    const [f, y] = step(tree.ref(net.params), np.array(x.subarray(start * dim, (start + m) * dim)).reshape([m, ...net.shape]));
    features.set(f.dataSync() as Float32Array, start * F);
    classes.set(y.dataSync() as Int32Array, start);
  }
  return { features, classes };
}

/** Reference features for `imageQuality` at sample size n. */
export interface QualityReference {
  /** the sample size the statistics are for */
  n: number;
  /** features [2n, F] of reference images 0..2n−1: rows [0, n) are compared with samples, rows [n, 2n) give the floor */
  features: Float64Array;
  /** FD between rows [n, 2n) and [0, n) */
  noiseFloor: number;
  /** the classifier's accuracy on those 2n reference images (when they have labels) */
  accuracy?: number;
}

/** How `qualityReference` and `imageQuality` run the feature classifier. */
export interface QualityOptions {
  /** images per network call (default 250) */
  batch?: number;
}

/** Options of `imageQuality`: the classes the samples were drawn for, and batching. */
export interface ImageQualityOptions extends QualityOptions {
  /** the class each sample was drawn for (conditional sampling), [n]; with them the result has `accuracy` (default: none) */
  labels?: Int32Array;
}

/**
 * The reference side of `imageQuality` for n samples: features of the first 2n images of
 * `reference` (pixels, e.g. the test set; at least 2n images) and the noise floor. Computed once,
 * it serves any number of sample sets of size n. Reads reference; borrows net.
 */
export function qualityReference(net: FeatureClassifier, reference: PointSet, n: number, options: QualityOptions = {}): QualityReference {
  if (reference.shape?.join() !== net.shape.join())
    throw new DataError(
      `reference images are ${reference.shape?.join("×") ?? `${reference.dim}-D points`}, the classifier sees ${net.shape.join("×")}`,
    );
  if (!Number.isInteger(n) || n < 2 || 2 * n > reference.n) {
    throw new DataError(
      `the sample-quality reference for ${n} samples needs 2·${n} reference images (samples are compared with the first ${n}, the noise floor with the next ${n}), got ${reference.n}`,
    );
  }
  const both = subset(
    reference,
    Int32Array.from({ length: 2 * n }, (_, i) => i),
  );
  const { features, classes } = describeImages(net, both.points, options);
  const labels = both.labels;
  return {
    n,
    features,
    noiseFloor: frechetNoiseFloor(features, net.features, n),
    ...(labels ? { accuracy: classes.reduce((h, y, i) => h + (y === labels[i] ? 1 : 0), 0) / (2 * n) } : {}),
  };
}

/** The result of `imageQuality`: Fréchet distance of the samples' features, its noise floor, and class statistics. */
export interface ImageQuality {
  /** FD between the samples' features and the reference's first n */
  frechet: number;
  /** FD between two disjoint reference samples of the same size: what a perfect model would score */
  noiseFloor: number;
  /** fraction of samples the classifier assigns to the label they were requested with (when labels were given) */
  accuracy?: number;
  /** the classifier's class for each sample */
  predicted: Int32Array;
  n: number;
}

/**
 * Sample quality of n generated images (pixels [n, H, W, C], as `drawSamples` returns them)
 * against `reference` (from `qualityReference` at the same n); `options.labels` [n] are the classes the
 * samples were drawn for (conditional sampling), if any. Reads its arguments; borrows net.
 */
export function imageQuality(
  net: FeatureClassifier,
  generated: Float32Array,
  reference: QualityReference,
  options: ImageQualityOptions = {},
): ImageQuality {
  const { labels, batch } = options;
  const { features, classes } = describeImages(net, generated, { batch });
  const n = classes.length;
  if (n !== reference.n) throw new ShapeError(`${n} generated images against a reference made for ${reference.n}`);
  if (labels && labels.length !== n) throw new ShapeError(`${labels.length} labels for ${n} generated images`);
  const F = net.features;
  return {
    frechet: frechetDistance(features, reference.features.subarray(0, n * F), F),
    noiseFloor: reference.noiseFloor,
    ...(labels ? { accuracy: classes.reduce((h, y, i) => h + (y === labels[i] ? 1 : 0), 0) / n } : {}),
    predicted: classes,
    n,
  };
}
