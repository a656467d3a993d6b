/** `vdm eval`: bits/dim with the three ELBO terms and the energy distance on held-out data. */

import { loadSplit, subset } from "../../data/index.js";
import { knownMixture } from "../../data/known.js";
import type { PointSet } from "../../data/sets.js";
import { mixtureLogDensity, mixtureParams } from "../../densities/oracle.js";
import { Rng } from "../../engine/index.js";
import { numpy as np } from "../../engine/jax.js";
import { heldOutLatentBound } from "../../eval/latent.js";
import { meanAndStdError } from "../../eval/likelihood.js";
import { imageQuality } from "../../eval/quality.js";
import { drawSamples, evaluate, heldOutElbo, referenceSample } from "../../eval/run.js";
import { defineFlags, helpText, int, omit, parseGiven, refuseGiven, UsageError } from "../args.js";
import { guidanceFlags, type guidanceScale, type guidedDenoiser } from "../guidance.js";
import { evalHvae, namesHvaeRun } from "../hvae.js";
import { POINT_BATCH, reportBatches } from "../images.js";
import { latentBoundLine } from "../latent.js";
import { backendFlags, modelFlags, type ResolvedModel, resolveModel } from "../model.js";
import { type LikelihoodFlags, likelihoodFlags, odeFromFlags, odeJson, odeLine, odeRequest } from "../ode-likelihood.js";
import { imageJudge, qualityGuidance } from "../quality.js";
import { makeSampler, samplerFlags, withNativeSampler } from "../samplers.js";

/** −log p(x) of the oracle's own data density on `test` (nats and bits/dim, with standard errors). */
function exactNats(data: string, test: PointSet) {
  const logp = mixtureLogDensity(
    mixtureParams(knownMixture(data)),
    np.array(test.points).reshape([test.n, test.dim]),
    np.full([test.n], -Infinity),
  ).dataSync() as Float32Array;
  const { mean, se } = meanAndStdError(logp);
  return { nats: -mean, natsStdError: se, bpd: -mean / (test.dim * Math.LN2), bpdStdError: se / (test.dim * Math.LN2) };
}

/** `vdm eval`'s own flags. */
const evalFlags = defineFlags("Flags", {
  n: {
    default: "1000",
    value: "N",
    parse: int({ min: 2 }),
    help: "held-out points (image models: test images), the first N of the test set: the ELBO and the ODE likelihood are of these; 2-D models also draw N samples for the energy distance",
  },
});

/** What `vdm eval` of an image model takes besides. */
const imageFlags = defineFlags("Images", {
  "data-dir": { value: "DIR", help: "where the test images are (default: the run's)" },
  "elbo-samples": { default: "16", value: "K", help: "draws of t per test image", parse: int({ min: 1 }) },
  quality: { type: "boolean", help: "also measure the quality of --quality-n samples (see above)" },
  "quality-n": { default: "500", value: "N", help: "the number of samples --quality draws", parse: int({ min: 2 }) },
  "iw-samples": {
    default: "1",
    value: "K",
    help: "a latent model: draws of q(z|x) per image of its bound (see above)",
    parse: int({ min: 1 }),
  },
});

/** The flag tables `vdm eval` parses, in the order its help lists them. */
export const flagTables = [
  evalFlags,
  modelFlags,
  imageFlags,
  likelihoodFlags,
  samplerFlags,
  omit(guidanceFlags, "class"),
  backendFlags,
] as const;

/** One line for `vdm --help`. */
export const summary = "bits/dim, ELBO terms and energy distance on held-out data; --likelihood ode for the exact likelihood";

export const help = helpText(
  `vdm eval --model <DIR|oracle> [--data D] [--n N] [--likelihood elbo|ode] [--sampler NAME and its flags]
         images: [--quality [--guidance cfg --scale W]]`,
  `On held-out points of D (default: the checkpoint's data): −ELBO in nats and bits/dim with its
reconstruction, prior and diffusion terms, and the energy distance between n fresh samples and the
held-out points, next to the same distance between two independent data samples (noiseFloor).
Image models: bits/dim with the discretised 8-bit decoder and the three terms on the first n test
images (from --data-dir, default the run's), each with --elbo-samples draws of t. --quality also
draws --quality-n samples with the sampler below (a conditional model: classes 0..9 in turn, with
--guidance cfg --scale w if given) and reports the Fréchet distance between their features and
those of as many test images in the shipped Fashion-MNIST classifier (models/fashion-mnist-classifier),
its noise floor (two disjoint sets of test images), and the fraction of samples the classifier puts in
their requested class.
A latent model (vdm train --latent): the bound on −log p(x) in the image's bits/dim, with its
reconstruction, encoder and prior (the latent VDM's −ELBO) parts, each averaged over --iw-samples
draws z_k ~ q(z|x), and the importance-weighted bound −log (1/K) Σ_k p(x|z_k) p(z_k)/q(z_k|x).`,
  ...flagTables,
);

const varianceLine = (v: number) =>
  `variance of the one-draw diffusion-term estimate (one t, one ε): ${v.toPrecision(4)} nats² per example`;

export function run(argv: string[]): void {
  const { values: flags, given } = parseGiven(argv, ...flagTables);
  if (flags.help) return void console.log(help);
  if (namesHvaeRun(flags.model)) return void evalHvae(flags, given);
  if (flags.likelihood === "elbo")
    refuseGiven(given, ["rtol", "atol", "ode-steps", "divergence"], "the ODE solver's flags apply with --likelihood ode only");
  const resolved = resolveModel(flags);
  const guidance = Object.keys(omit(guidanceFlags, "class").specs);
  if (!resolved.latent) refuseGiven(given, ["iw-samples"], "a latent model's bound only (vdm train --latent)");
  else if (flags.likelihood === "ode")
    throw new UsageError("--likelihood ode: a latent model reports its latent bound (--iw-samples), not the ODE likelihood");
  if (resolved.shape.length === 3) {
    // without --quality nothing is sampled: the sampler's and the guidance's flags would do nothing (--max-sigma also ends the ODE's path)
    if (!flags.quality)
      refuseGiven(
        given,
        [
          "quality-n",
          ...guidance,
          ...Object.keys(samplerFlags.specs).filter((name) => !(flags.likelihood === "ode" && name === "max-sigma")),
        ],
        "these apply to the samples of --quality only",
      );
    return void evalImages(resolved, withNativeSampler(flags, given, resolved));
  }
  if (flags.quality) throw new UsageError("--quality measures image models (2-D models report the energy distance already)");
  refuseGiven(
    given,
    ["data-dir", "elbo-samples", "quality-n", ...guidance],
    "image models only (a 2-D model's ELBO and samples are of its own held-out points, unconditional)",
  );
  const seed = flags.seed;
  const { n } = flags;
  // a distilled run samples on its own sampler unless --sampler says otherwise
  const sampler = makeSampler(withNativeSampler(flags, given, resolved), resolved);
  const ode = odeRequest(resolved, flags);
  // the held-out split of the run's own seed (its first n points); --seed drives the samples
  const split = loadSplit(resolved.data, resolved.seed);
  if (split.test.dim !== resolved.dim)
    throw new Error(`data "${resolved.data}" have ${split.test.dim} dimensions, the model ${resolved.dim}`);
  const test = subset(
    split.test,
    Array.from({ length: Math.min(n, split.test.n) }, (_, i) => i),
  );
  const reference = referenceSample(resolved.data, split.train, n, resolved.seed);
  const ev = evaluate(resolved.denoiser, resolved.process, test, {
    reference,
    normalization: resolved.normalization,
    rng: new Rng(seed + 1),
    n,
    sampler,
    batches: {
      elbo: reportBatches("eval (held-out ELBO)", test.n, false, POINT_BATCH),
      samples: reportBatches("eval (samples)", n, false, POINT_BATCH),
    },
  });
  const likelihood = ode ? odeFromFlags(resolved, ode, test, new Rng(seed + 3), false) : undefined;
  const exact = resolved.oracle ? exactNats(resolved.data, test) : undefined;
  const out = {
    n: test.n,
    samples: n,
    bpd: ev.bpd,
    nats: ev.nats,
    natsStdError: ev.stdError,
    terms: ev.terms,
    ...(ev.diffusionVariance !== undefined ? { diffusionVariance: ev.diffusionVariance } : {}),
    energyDistance: ev.energyDistance,
    noiseFloor: ev.noiseFloor,
    sampler: sampler.name,
    nfe: sampler.nfe,
    ...(likelihood ? { ode: odeJson(likelihood) } : {}),
    ...(exact ? { exact } : {}),
  };
  if (flags.json) return void console.log(JSON.stringify(out));
  console.log(
    `${resolved.data}: ${ev.bpd.toFixed(4)} bits/dim on ${test.n} held-out points = ${ev.nats.toFixed(4)} ± ${ev.stdError.toFixed(4)} nats (reconstruction ${ev.terms.reconstruction.toFixed(4)}, prior ${ev.terms.prior.toFixed(5)}, diffusion ${ev.terms.diffusion.toFixed(4)})`,
  );
  if (ev.diffusionVariance !== undefined) console.log(varianceLine(ev.diffusionVariance));
  if (likelihood) console.log(odeLine(likelihood));
  if (exact)
    console.log(
      `exact −log p(x) of the data density: ${exact.bpd.toFixed(4)} ± ${exact.bpdStdError.toFixed(4)} bits/dim = ${exact.nats.toFixed(4)} nats`,
    );
  console.log(
    `energy distance ${ev.energyDistance.toExponential(3)} between ${n} samples and the held-out points (noise floor ${ev.noiseFloor.toExponential(3)}; ${sampler.name}, ${sampler.nfe} NFE)`,
  );
}

type QualityFlags = Parameters<typeof makeSampler>[0] &
  Parameters<typeof guidanceScale>[1] &
  Parameters<typeof guidedDenoiser>[1] &
  Record<"quality-n" | "seed", number> & { "data-dir": string };

/** What --quality asks for, checked before any work: n samples from a sampler, with a conditional model's classes 0..K−1 in turn and its guidance (qualityGuidance). */
function qualityRequest(resolved: ResolvedModel, flags: QualityFlags) {
  const n = flags["quality-n"];
  return { n, sampler: makeSampler(flags, resolved), ...qualityGuidance(resolved, flags, n) };
}

/**
 * Sample quality of an image model as `request` asks (see qualityRequest) against 2n test images
 * in the shipped classifier's features: Fréchet distance, its noise floor, and the class accuracy.
 */
function imageQualityFromFlags(
  resolved: ResolvedModel,
  flags: QualityFlags,
  { n, sampler, den, labels, kind, scale, evaluationsPerStep }: ReturnType<typeof qualityRequest>,
) {
  const { net, reference } = imageJudge(resolved, n, flags["data-dir"]);
  const x = drawSamples(den, resolved.process, {
    normalization: resolved.normalization,
    shape: resolved.shape,
    latent: resolved.latent,
    n,
    rng: new Rng(flags.seed + 5),
    sampler,
    ...reportBatches("quality samples", n, false),
  });
  const { predicted: _perSample, ...q } = imageQuality(net, x, reference, { labels });
  return { ...q, sampler: sampler.name, nfe: sampler.nfe * evaluationsPerStep, ...(labels ? { guidance: kind, scale } : {}) };
}

function evalImages(
  resolved: ResolvedModel,
  flags: LikelihoodFlags & QualityFlags & { n: number; "elbo-samples": number; "iw-samples": number; quality: boolean; json: boolean },
): void {
  const data = resolved.dataConfig!;
  const { n, seed } = flags; // n >= 2: a standard error needs two images
  const samples = flags["elbo-samples"];
  const ode = odeRequest(resolved, flags);
  const qualityWanted = flags.quality ? qualityRequest(resolved, flags) : undefined;
  const test = loadSplit(resolved.data, resolved.seed, { train: 1, test: n, dataDir: flags["data-dir"] || data.dataDir || "" }).test;
  if (test.dim !== resolved.dim) throw new Error(`data "${resolved.data}" have ${test.dim} pixels per image, the model ${resolved.dim}`);
  console.error(
    `eval: the ${resolved.latent ? `latent bound of ${test.n} test images (--n), ${flags["iw-samples"]} draws of q(z|x) each (--iw-samples)` : "ELBO"}${resolved.latent ? "" : ` of ${test.n} test images (--n)`} with ${samples} draws of t each (--elbo-samples)${ode ? ", then their probability-flow ODE likelihood" : ""}${qualityWanted ? `, then ${qualityWanted.n} samples for their quality (--quality-n)` : ""}; progress below`,
  );
  const started = performance.now();
  const batches = reportBatches("eval (test bits/dim)", test.n, false);
  const [rng, iwSamples] = [new Rng(seed + 1), flags["iw-samples"]];
  const bound =
    resolved.latent &&
    heldOutLatentBound(resolved.denoiser, resolved.process, resolved.latent, test, { rng, elboSamples: samples, iwSamples, ...batches });
  const elbo = bound
    ? { bpd: bound.bpd, latentBound: bound }
    : heldOutElbo(resolved.denoiser, resolved.process, test, {
        normalization: resolved.normalization,
        rng,
        decoder: data.decoder ?? "discretized",
        samples,
        ...batches,
      });
  const likelihood = ode ? odeFromFlags(resolved, ode, test, new Rng(seed + 3), true) : undefined;
  const quality = qualityWanted ? imageQualityFromFlags(resolved, flags, qualityWanted) : undefined;
  const out = {
    n: test.n,
    ...elbo,
    testImages: test.n,
    ...(likelihood ? { ode: odeJson(likelihood) } : {}),
    ...(quality ? { quality } : {}),
    seconds: (performance.now() - started) / 1000,
  };
  if (flags.json) return void console.log(JSON.stringify(out));
  if ("latentBound" in elbo) console.log(latentBoundLine(resolved.data, test.n, elbo.latentBound));
  else
    console.log(
      `${resolved.data}: ${elbo.bpd.toFixed(4)} bits/dim on ${test.n} test images = ${elbo.nats.toFixed(1)} ± ${elbo.stdError.toFixed(1)} nats (reconstruction ${elbo.terms.reconstruction.toFixed(2)}, prior ${elbo.terms.prior.toFixed(3)}, diffusion ${elbo.terms.diffusion.toFixed(1)})`,
    );
  if ("diffusionVariance" in elbo && elbo.diffusionVariance !== undefined) console.log(varianceLine(elbo.diffusionVariance));
  if (likelihood) console.log(odeLine(likelihood));
  if (quality) {
    console.log(
      `sample quality (${quality.n} samples, ${quality.sampler}, ${quality.nfe} NFE${quality.guidance ? `, guidance ${quality.guidance} at ${quality.scale}` : ""}): Fréchet distance ${quality.frechet.toFixed(2)} (noise floor ${quality.noiseFloor.toFixed(2)})${quality.accuracy === undefined ? "" : `, class accuracy ${(100 * quality.accuracy).toFixed(1)} %`}`,
    );
  }
}
