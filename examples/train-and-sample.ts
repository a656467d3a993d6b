/**
 * Train an MLP denoiser on the built-in moons set, then draw samples with DPM-Solver++ in 20
 * network evaluations and compare them with held-out data by energy distance.
 *
 *   node dist-examples/train-and-sample.js [steps = 2000] [checkpoint dir]
 */
import {
  DpmSolverSampler,
  drawSamples,
  evaluation,
  initEngine,
  loadSplit,
  normalizationOf,
  Rng,
  runConfigFor,
  shutdownEngine,
  train,
  trainedModel,
} from "vdm";

const steps = Number(process.argv[2] ?? 2000);
await initEngine();
const split = loadSplit("moons", 0, { train: 5000, test: 1000 });
const config = runConfigFor("moons", split, { steps });
const { state } = train(config, split.train, {
  ...(process.argv[3] ? { checkpointDir: process.argv[3] } : {}),
  onProgress: ({ step, loss }) => {
    if (step % 500 === 0 || step === steps) console.log(`step ${step}: loss ${loss.toFixed(4)}`);
  },
});
const { denoiser, process: diffusion } = trainedModel(config, state.ema);
const samples = drawSamples(denoiser, diffusion, {
  normalization: normalizationOf(config),
  shape: [2],
  n: 1000,
  rng: new Rng(1),
  sampler: new DpmSolverSampler(diffusion, { steps: 20 }),
});
console.log(JSON.stringify({ steps, energyDistance: evaluation.energyDistance(samples, split.test.points, 2) }));
await shutdownEngine();
