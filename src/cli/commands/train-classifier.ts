/** `vdm train-classifier`: a noise-aware classifier p_φ(y | x_t, t) for classifier guidance. */
import { join } from "node:path";
import { classCount } from "../../data/index.js";
import { Rng } from "../../engine/index.js";
import { accuracyOverTime } from "../../eval/classifier.js";
import { writeFileAtomic } from "../../io/atomic.js";
import { architectures } from "../../models/kinds.js";
import { buildClassifier, buildProcess, labelClasses, normalizationOf } from "../../train/build.js";
import { runDefaults } from "../../train/defaults.js";
import { defineFlags, helpText, int, oneOf, optional, parseGiven } from "../args.js";
import { trainedSummary } from "../facts.js";
import { backendFlags } from "../model.js";
import { imageTrainFlags, trainFlags, trainFromFlags, trainRunFlags } from "../training.js";

/** `vdm train-classifier`'s own flags. */
const classifierFlags = defineFlags("Classifier", {
  net: {
    value: architectures("classifier").join("|"),
    help: "the network (default: mlp for points, the U-Net's encoder for images); cnn: see above",
    parse: optional(oneOf(...architectures("classifier"))),
  },
  steps: { default: runDefaults.classifierSteps, value: "N", help: "training steps", parse: int({ min: 1 }) },
});

/** The flag tables `vdm train-classifier` parses, in the order its help lists them. */
export const flagTables = [classifierFlags, trainFlags, trainRunFlags, imageTrainFlags, backendFlags] as const;

/** One line for `vdm --help`. */
export const summary = "a noise-aware classifier p(y | x_t, t) for classifier guidance";

export const help = helpText(
  `vdm train-classifier --data D --out DIR [--net ${architectures("classifier").join("|")}] [--steps N] [--schedule S] [--timesteps T] [--resume | --force] [--no-report]`,
  `Trains a classifier of the data's labels on noised points x_t ~ q(x_t | x_0) at uniform t,
with the same schedule as the diffusion model it will guide: an MLP for points, the U-Net's encoder
for images. Writes DIR/config.json, DIR/state.safetensors and DIR/metrics.json with the held-out
accuracy at t = 0, ¼, ½, ¾ and 1 (--no-report: the training facts only).

--net cnn (images) trains a small CNN on clean images instead (no noise, γ = −∞; not for guidance):
conv3x3 + SiLU + 2×2 average pooling per stage with --base × --multipliers channels, then a dense
layer of --hidden features and the logits. It is the feature network of the sample-quality metrics
(Fréchet distance); its accuracy is measured on all test images.`,
  ...flagTables,
);

export async function run(argv: string[]): Promise<void> {
  const { values: flags, given, raw } = parseGiven(argv, ...flagTables);
  if (flags.help) return void console.log(help);
  const trained = await trainFromFlags({ values: flags, raw }, given, "classifier", (trainSet) => ({
    classifierClasses: classCount(trainSet, flags.data),
    ...(flags.net ? { architecture: flags.net } : {}),
  }));
  if (!trained) return;
  const { config, dir, split, state, facts } = trained;
  const kind = config.clean ? "clean-data" : "noise-aware";
  const summary = `trained a ${labelClasses(config)}-class ${kind} classifier on ${config.data.spec}: ${trainedSummary(facts, trained.firstStep, trained.seconds)}`;
  if (flags["no-report"]) {
    if (flags.json) return void console.log(JSON.stringify({ data: config.data.spec, ...facts }));
    console.log(summary);
    return void console.log(`wrote ${dir} (no report: --no-report)`);
  }
  const process = buildProcess(config);
  // a clean classifier is judged on clean data only; images go 500 per network call
  const times = (config.clean ? [0] : [0, 0.25, 0.5, 0.75, 1]).map((f) => f * process.schedule.tMax);
  const batch = config.data.shape ? 500 : split.test.n;
  const accuracy = accuracyOverTime(
    buildClassifier(config),
    state.ema,
    process,
    normalizationOf(config),
    split.test,
    times,
    new Rng(config.seed + 1),
    batch,
  );
  const metrics = { data: config.data.spec, classes: labelClasses(config), heldOut: split.test.n, times, accuracy, ...facts };
  writeFileAtomic(join(dir, "metrics.json"), `${JSON.stringify(metrics, null, 2)}\n`);
  if (flags.json) return void console.log(JSON.stringify(metrics));
  console.log(summary);
  console.log(
    `held-out accuracy (${metrics.heldOut} examples) at t = ${times.map((t) => t.toFixed(2)).join(", ")}: ${accuracy.map((a) => a.toFixed(3)).join(", ")}`,
  );
  console.log(`wrote ${dir}`);
}
