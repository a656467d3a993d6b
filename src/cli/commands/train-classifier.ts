/** `vdm train-classifier`: a noise-aware classifier p_φ(y | x_t, t) for classifier guidance. */
import { join } from "node:path";
import { Rng } from "../../engine/index.js";
import { accuracyOverTime } from "../../eval/classifier.js";
import { writeFileAtomic } from "../../io/atomic.js";
import { buildClassifier, labelClasses, normalizationOf } from "../../train/config.js";
import { formatSeconds } from "../../train/progress.js";
import { classCount } from "../../data/index.js";
import { parse } from "../args.js";
import { trainFlags, trainFromFlags } from "./train.js";

export const help = `vdm train-classifier --data D --out DIR [--steps N] [--schedule S] [--timesteps T]
          [--batch B] [--lr LR] [--hidden H] [--layers L] [--label-column COL] [--seed S] [--resume] [--json]

Trains an MLP classifier of the data's labels on noised points x_t ~ q(x_t | x_0) at uniform t,
with the same schedule as the diffusion model it will guide (defaults: cosine, T = 1000, 2,000
steps). Writes DIR/config.json, DIR/state.safetensors and DIR/metrics.json with the held-out
accuracy at t = 0, ¼, ½, ¾ and 1.`;

export function run(argv: string[]): void {
  const flags = parse(argv, { ...trainFlags }, ["resume", "quiet"]);
  if (flags.help) return void console.log(help);
  const { config, dir, split, state, process, stepsPerSecond, trainSeconds } = trainFromFlags(
    { ...flags, steps: flags.steps || "2000" },
    (trainSet) => ({ classifierClasses: classCount(trainSet, flags.data) }),
  );
  const times = [0, 0.25, 0.5, 0.75, 1].map((f) => f * process.schedule.tMax);
  const accuracy = accuracyOverTime(buildClassifier(config), state.ema, process, normalizationOf(config), split.test, times, new Rng(config.seed + 1));
  const metrics = { data: config.data.spec, steps: config.steps, classes: labelClasses(config), times, accuracy, stepsPerSecond, trainSeconds };
  writeFileAtomic(join(dir, "metrics.json"), JSON.stringify(metrics, null, 2) + "\n");
  if (flags.json) return void console.log(JSON.stringify(metrics));
  console.log(`trained a ${metrics.classes}-class noise-aware classifier on ${config.data.spec}: ${config.steps} steps in ${formatSeconds(trainSeconds)}`);
  console.log(`held-out accuracy at t = ${times.map((t) => t.toFixed(2)).join(", ")}: ${accuracy.map((a) => a.toFixed(3)).join(", ")}`);
  console.log(`wrote ${dir}`);
}
