/**
 * Classifier-free guidance with the shipped class-conditional Fashion-MNIST model: n images of
 * one class at guidance scale w, sampled with DPM-Solver++ (20 steps, two network evaluations per
 * step), then classified by the shipped Fashion-MNIST classifier.
 *
 *   node dist-examples/guided-sampling.js [class = 1 (trouser)] [w = 3] [n = 8]
 */
import {
  cfgModel,
  DpmSolverSampler,
  drawSamples,
  evaluation,
  initEngine,
  loadRun,
  modelDirectory,
  normalize,
  Rng,
  shutdownEngine,
} from "vdm";
import { numpy as np } from "vdm/jax";

const [label, scale, n] = [Number(process.argv[2] ?? 1), Number(process.argv[3] ?? 3), Number(process.argv[4] ?? 8)];
await initEngine();
const run = loadRun(modelDirectory("fashion-mnist"));
const shape = run.config.data.shape!;
const guided = {
  model: cfgModel(run.denoiser.model),
  params: { net: run.denoiser.params, labels: np.full([n], label, { dtype: np.int32 }), scale: np.array([scale]) },
};
const sampler = new DpmSolverSampler(run.process, { steps: 20 });
const pixels = drawSamples(guided, run.process, { normalization: run.normalization, shape, n, rng: new Rng(7), sampler }); // 0..255
const classifier = evaluation.loadFeatureClassifier();
const x = np.array(normalize(pixels, classifier.normalization)).reshape([n, ...shape]);
const predicted = Array.from(np.argmax(evaluation.imageLogits(classifier, x), -1).dataSync() as Int32Array);
console.log(JSON.stringify({ class: label, scale, predicted, accuracy: predicted.filter((p) => p === label).length / n }));
await shutdownEngine();
