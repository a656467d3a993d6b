// Ships a trained Fashion-MNIST run as the package's built-in model "fashion-mnist": its config
// (without the training machine's data folder) and EMA weights in models/fashion-mnist, with
// TRAINING.md saying how it was made. Run after `npm run build`:
//   node scripts/ship-fashion-mnist.mjs RUN_DIR "the training command"
import { execSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { initEngine, shutdownEngine } from "../dist/engine/index.js";
import { saveWeights } from "../dist/io/checkpoint.js";
import { loadRun } from "../dist/train/load.js";
import { shippedModelsDir } from "../dist/train/shipped.js";

const [runDir, command] = process.argv.slice(2);
if (!runDir || !command) {
  console.error('usage: node scripts/ship-fashion-mnist.mjs RUN_DIR "the training command"');
  process.exit(2);
}
await initEngine("wasm");
const run = loadRun(runDir);
const metrics = JSON.parse(readFileSync(join(runDir, "metrics.json"), "utf8"));
const { dataDir: _machineSpecific, ...data } = run.config.data;
const out = join(shippedModelsDir, "fashion-mnist");
const commit = execSync("git rev-parse --short HEAD", { encoding: "utf8" }).trim();
// the whole EMA tree (a learned schedule's parameters sit beside the network's)
saveWeights(out, { ...run.config, data }, run.state.ema, { step: String(run.state.step), commit });
const minutes = (s) => `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
writeFileSync(
  join(out, "TRAINING.md"),
  `# The built-in model "fashion-mnist"

A class-conditional U-Net (${run.config.model.kind === "unet" ? `base ${run.config.model.unet.base}, multipliers ${run.config.model.unet.multipliers.join(",")}` : ""}) trained by this library; EMA parameters only.

- command: \`${command}\`
- data: the full Fashion-MNIST training set (60,000 images, Debian's dataset-fashion-mnist)
- steps: ${run.state.step} of batch ${run.config.batch}
- training time: ${minutes(metrics.trainSeconds)} on two cores (${metrics.stepsPerSecond.toFixed(2)} steps/s)
- commit: ${commit}
- test bits/dim in the run's report (${metrics.testImages} test images): ${metrics.bpd.toFixed(4)}
`,
);
console.log(`wrote ${out}`);
await shutdownEngine();
