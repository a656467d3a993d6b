/** `vdm train-autoencoder`: the autoencoder of latent diffusion, q(z|x) and p(x|z) for images, and its report. */
import { join } from "node:path";
import type { PointSet } from "../../data/index.js";
import { Rng } from "../../engine/index.js";
import { evaluateAutoencoder } from "../../eval/autoencoder.js";
import { writeFileAtomic } from "../../io/atomic.js";
import { autoencoderDefaults } from "../../models/autoencoder.js";
import { imageFigurePng } from "../../plot/figure.js";
import { lossChart } from "../../plot/lines.js";
import { chartPng } from "../../plot/render.js";
import { buildAutoencoder, dataShape, normalizationOf } from "../../train/build.js";
import type { RunConfig } from "../../train/config.js";
import { defaultSteps } from "../../train/defaults.js";
import { defineFlags, helpText, int, nonNegative, omit, optional, optionalInt, parseGiven, UsageError } from "../args.js";
import { trainedSummary } from "../facts.js";
import { firstOf, reportBatches } from "../images.js";
import { backendFlags } from "../model.js";
import { pictureFlags } from "../pictures.js";
import { imageReportFlags } from "../train-denoiser.js";
import { imageTrainFlags, trainFlags, trainFromFlags, trainRunFlags } from "../training.js";

/** A latent shape from --latent "HxWxC" (e.g. 7x7x4). */
function latentShape(raw: string, name: string): number[] {
  const parts = raw.split("x").map(Number);
  if (parts.length !== 3 || !parts.every((d) => Number.isSafeInteger(d) && d >= 1))
    throw new UsageError(`--${name} must be ROWSxCOLSxCHANNELS of positive integers (e.g. 7x7x4), got "${raw}"`);
  return parts;
}

/** Images per network call of the report. */
const REPORT_BATCH = 50;
/** Test images shown beside their reconstructions in recon.png. */
const SHOWN = 32;

/** `vdm train-autoencoder`'s own flags. */
const autoencoderFlags = defineFlags("Autoencoder", {
  data: { default: "fashion-mnist", value: "D", help: "a built-in image set (fashion-mnist)" },
  latent: {
    value: "HxWxC",
    help: `the latent shape: H and W the image's divided by a power of 2 (default: the image's / ${autoencoderDefaults.downsampling}, ${autoencoderDefaults.latentChannels} channels: 7x7x4)`,
    parse: optional(latentShape),
  },
  "kl-weight": {
    default: autoencoderDefaults.klWeight,
    value: "B",
    help: "β, the weight of KL(q(z|x) ‖ N(0, I)) in the loss −log p(x|z) + β KL (1: the VAE's ELBO)",
    parse: nonNegative,
  },
  base: { default: autoencoderDefaults.base, value: "C", help: "channels at full resolution (2·C below)", parse: int({ min: 1 }) },
  steps: {
    value: "N",
    help: `training steps (default: ${defaultSteps("fashion-mnist")} for fashion-mnist)`,
    parse: optionalInt({ min: 1 }),
  },
});

/** The flag tables `vdm train-autoencoder` parses, in the order its help lists them. */
export const flagTables = [
  autoencoderFlags,
  omit(trainFlags, "data", "timesteps", "schedule", "hidden", "layers", "fourier-features", "label-column"),
  trainRunFlags,
  omit(imageTrainFlags, "base", "multipliers", "attention"),
  omit(imageReportFlags, "elbo-samples", "sample-steps", "cfg-scale"),
  pictureFlags,
  backendFlags,
] as const;

/** One line for `vdm --help`. */
export const summary = "an autoencoder q(z|x), p(x|z) of images, the first stage of latent diffusion";

export const help = helpText(
  "vdm train-autoencoder --data fashion-mnist --out DIR [--latent HxWxC] [--kl-weight B] [--base C] [--steps N] [--resume | --force] [--no-report]",
  `Trains a convolutional autoencoder of images: the encoder q(z|x) = N(μ(x), diag σ²(x)) (conv3x3,
GroupNorm + SiLU ResBlocks, 2×2 average pooling down to the latent's size, then μ and log σ²), the
decoder x̂(z) mirrored with nearest upsampling, and a learned decoder log-variance γ; p(x|z) is the
discretised 8-bit decoder at x̂(z) and γ, as the pixel model's, so its terms are in the image's bits/dim.
The loss per image is −log p(x|z) + β KL(q(z|x) ‖ N(0, I)) with z = μ + σ ε (a VAE with a small β).
Checkpoints into DIR (config.json + state.safetensors) as vdm train does; then writes DIR/recon.png
(test images | their reconstructions x̂(μ(x))), DIR/loss.png and DIR/metrics.json: on the first
--eval-images test images, the reconstruction −log p(x|z) in bits/dim, the KL in nats, the VAE's
bound with the N(0, I) prior (β = 1) in bits/dim, the mean and standard deviation of μ(x) per
latent channel over those images (what a latent model normalises by) and the mean encoder σ; all
with the EMA weights.`,
  ...flagTables,
);

export async function run(argv: string[]): Promise<void> {
  const { values: flags, given, raw } = parseGiven(argv, ...flagTables);
  if (flags.help) return void console.log(help);
  const trained = await trainFromFlags({ values: flags, raw }, given, "autoencoder", () => ({
    architecture: "autoencoder",
    unet: { base: flags.base },
    autoencoder: { ...(flags.latent ? { latent: flags.latent } : {}), klWeight: flags["kl-weight"] },
  }));
  if (!trained) return;
  const { config, dir, split, state, facts } = trained;
  const ae = buildAutoencoder(config);
  const what = `an autoencoder of ${config.data.spec} to ${ae.latentShape.join("×")} latents (β = ${ae.klWeight})`;
  if (flags["no-report"]) {
    if (flags.json) return void console.log(JSON.stringify({ data: config.data.spec, ...facts }));
    console.log(`trained ${what}: ${trainedSummary(facts, trained.firstStep, trained.seconds)}`);
    return void console.log(`wrote ${dir} (no report: --no-report)`);
  }
  const test = firstOf(split.test, flags["eval-images"]);
  const started = performance.now();
  const evaluation = evaluateAutoencoder(ae, state.ema, test, {
    normalization: normalizationOf(config),
    decoder: config.data.decoder ?? "discretized",
    rng: new Rng(config.seed + 1),
    reconstructions: SHOWN,
    ...reportBatches("eval (test reconstructions)", test.n, flags.quiet, REPORT_BATCH),
  });
  const evalSeconds = (performance.now() - started) / 1000;
  const written = ["recon.png", "loss.png", "metrics.json"].map((f) => join(dir, f));
  writeFileAtomic(written[0]!, reconstructionFigure(config, test, evaluation.reconstructions, flags.zoom));
  writeFileAtomic(written[1]!, chartPng(lossChart(state.losses)));
  const { reconstructions: _, ...figures } = evaluation;
  const metrics = {
    data: config.data.spec,
    model: config.model,
    latentShape: ae.latentShape,
    klWeight: ae.klWeight,
    batch: config.batch,
    testImages: test.n,
    ...figures,
    evalSeconds,
    ...facts,
    written,
  };
  writeFileAtomic(written[2]!, `${JSON.stringify(metrics, null, 2)}\n`);
  if (flags.json) return void console.log(JSON.stringify(metrics));
  const { reconstruction, kl, bound, latent } = evaluation;
  console.log(`trained ${what}: ${trainedSummary(facts, trained.firstStep, trained.seconds)}`);
  console.log(
    `test (${test.n} images): reconstruction ${reconstruction.bpd.toFixed(3)} bits/dim, KL ${kl.nats.toFixed(1)} nats, bound with N(0, I) ${bound.bpd.toFixed(3)} bits/dim`,
  );
  const digits = (v: number[]) => v.map((x) => x.toPrecision(3)).join(", ");
  console.log(`latent μ per channel: mean ${digits(latent.mean)}; std ${digits(latent.std)}; encoder σ ${digits(latent.encoderStd)}`);
  console.log(`wrote ${written.join(", ")}`);
}

/** recon.png: the first test images beside their reconstructions (data space), 8 a row. */
function reconstructionFigure(config: RunConfig, test: PointSet, recon: Float32Array, zoom: number): Uint8Array {
  const shape = dataShape(config);
  const n = recon.length / test.dim;
  const panels = [
    { title: "test images", pixels: test.points.subarray(0, n * test.dim), shape, n, cols: 8 },
    { title: "reconstructions x̂(μ(x))", pixels: recon, shape, n, cols: 8 },
  ];
  return imageFigurePng({ title: `${config.data.spec} autoencoder after ${config.steps} steps: test | reconstructions`, panels, zoom });
}
