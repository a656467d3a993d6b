// The Markovian HVAE on a 2-D set for T = 1, 2, 4, 8 levels (MLP encoders/decoders, hidden 64):
// train on the −ELBO, then print a JSON table of held-out bits/dim ± standard error (data space),
// each level's consistency term in nats, and seconds of training.
// Run after `npm run build`: node scripts/hvae-2d.mjs [DATA=moons] [STEPS=3000] [BATCH=256] [DRAWS=16] [LEVELS=1,2,4,8]
import { loadSplit } from "../dist/data/index.js";
import { fitNormalization, normalize } from "../dist/data/normalize.js";
import { initEngine, Rng } from "../dist/engine/index.js";
import { tree } from "../dist/engine/jax.js";
import { hvaeHeldOut } from "../dist/eval/hvae.js";
import { trainHvae } from "../dist/train/hvae.js";

const [data = "moons", steps = "3000", batch = "256", draws = "16", levels = "1,2,4,8"] = process.argv.slice(2);
await initEngine();
const split = loadSplit(data, 0);
const z = fitNormalization(split.train);
const points = normalize(split.train.points, z);
const rows = [];
for (const T of levels.split(",").map(Number)) {
  const start = performance.now();
  const config = { dim: split.train.dim, levels: T, hidden: 64 };
  const { params, losses } = trainHvae({ config, points, steps: Number(steps), batch: Number(batch), seed: 0 });
  const seconds = (performance.now() - start) / 1000;
  const tail = losses.slice(-100).reduce((s, v) => s + v, 0) / Math.min(100, losses.length);
  const held = hvaeHeldOut(params, split.test.points, z, Number(draws), new Rng(1));
  tree.dispose(params);
  rows.push({
    T,
    bpd: held.bpd,
    bpdStdError: held.bpdStdError,
    trainLossNats: tail,
    reconstructionNats: held.summary.terms.reconstruction,
    priorNats: held.summary.terms.prior,
    consistencyNats: held.summary.consistency.map((c) => c.nats),
    seconds,
  });
  console.error(JSON.stringify(rows.at(-1)));
}
console.log(JSON.stringify({ data, steps: Number(steps), batch: Number(batch), draws: Number(draws), rows }, null, 2));
