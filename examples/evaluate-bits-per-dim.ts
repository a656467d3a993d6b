/**
 * Test bits/dim of the Fashion-MNIST model shipped with the package (or of any run directory):
 * the ELBO's three terms on n test images with the discretised 8-bit decoder.
 *
 *   node dist-examples/evaluate-bits-per-dim.js [n = 100] [model = fashion-mnist]
 */
import { heldOutElbo, initEngine, loadRun, loadSplit, modelDirectory, Rng, shutdownEngine } from "vdm";

const n = Number(process.argv[2] ?? 100);
await initEngine();
const run = loadRun(modelDirectory(process.argv[3] ?? "fashion-mnist"));
// Debian's dataset-fashion-mnist when installed, else the images bundled with the package
const test = loadSplit(run.config.data.spec, run.config.seed, { train: 1, test: n }).test;
const elbo = heldOutElbo(run.denoiser, run.process, test, {
  normalization: run.normalization,
  rng: new Rng(1),
  decoder: run.config.data.decoder ?? "discretized",
  samples: 4,
  batch: 25,
});
console.log(JSON.stringify({ images: test.n, bitsPerDim: elbo.bpd, stdErrorNats: elbo.stdError, terms: elbo.terms }));
await shutdownEngine();
