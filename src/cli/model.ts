/** `--model`: a checkpoint directory, or `oracle` (the exact denoiser of a known density). */

import { availableParallelism } from "node:os";
import { knownMixture } from "../data/known.js";
import { knownDensityNames } from "../data/mixtures.js";
import { identityNormalization, type Normalization } from "../data/normalize.js";
import { mixtureParams, oracleModel } from "../densities/oracle.js";
import { DiffusionProcess } from "../diffusion/process.js";
import { readCheckpointConfig } from "../io/checkpoint.js";
import { type BackendName, backendNames, chooseBackend, onnxRuntimeFix, onnxRuntimeLoads } from "../onnx/available.js";
import { onnxLatentSampling } from "../onnx/latent.js";
import { onnxModel } from "../onnx/model.js";
import type { SessionOptions } from "../onnx/runtime.js";
import { spinModes } from "../onnx/spin.js";
import type { Denoiser } from "../sample/sampler.js";
import { getSchedule } from "../schedule/index.js";
import { dataShape, normalizationOf } from "../train/build.js";
import { type RunConfig, validateRunConfig } from "../train/config.js";
import { type LatentRun, loadLatentRun } from "../train/latent.js";
import { isHvaeRun, loadRun } from "../train/load.js";
import { modelDirectory, shippedModelNames } from "../train/shipped.js";
import { defineFlags, type FlagValues, int, oneOf, optionalInt, UsageError } from "./args.js";
import { kindOf } from "./runs.js";

export interface ResolvedModel {
  /** the model on the chosen backend */
  denoiser: Denoiser;
  /** the same model in jax-js (what differentiates the network, e.g. for the ODE likelihood) */
  jaxDenoiser: Denoiser;
  process: DiffusionProcess;
  normalization: Normalization;
  /** the data set the model describes */
  data: string;
  dim: number;
  /** one example's shape ([dim] for points, [rows, cols, channels] for images; a latent model's: the decoded images') */
  shape: number[];
  /** the run's config.data (absent for the oracle; a latent model's: its autoencoder's, the images') */
  dataConfig?: RunConfig["data"];
  /** a latent model (`vdm train --latent`): the samplers run on its latents, which its autoencoder decodes to images */
  latent?: LatentRun;
  seed: number;
  /** the schedule the model was trained on (by name) */
  scheduleName: string;
  /** set for the oracle: its mixture's number of components (its classes) */
  oracle?: { classes: number };
  /** a conditional model trained with label dropout, so that it serves classifier-free guidance */
  classifierFree?: boolean;
  /** a distilled run's own sampler (its config's `distill`): what sampling takes unless --sampler says otherwise, and the classifier-free guidance w folded into it */
  native?: { sampler: string; steps: number; spacing: string; guidance?: number };
}

/** What `--data` may be for `--model oracle`: a built-in set with a closed-form density, or a mixture file. */
export const oracleDataHelp = `<${knownDensityNames.join("|")}|FILE.json>`;

/** The mixture-file format, for help texts (see src/data/mixture-file.ts). */
export const mixtureFileHelp = `FILE.json is a Gaussian mixture of any dimension D: {"weights": [w_1, ...], "means": [[...D values], ...],
"stds": [[...D per-dimension standard deviations], ...]} or "covariances": [[[...D values] x D], ...] instead of "stds".`;

/** The oracle's noise schedule and number of steps when --schedule and --timesteps are not given. */
const ORACLE_SCHEDULE = "cosine";
const ORACLE_TIMESTEPS = 1000;

/** `--model` and `--data`, and what the oracle needs besides (a checkpoint carries its own). */
export const modelFlags = defineFlags(
  "Model",
  {
    model: {
      value: "DIR|oracle",
      help: `a checkpoint directory, a model shipped with the package (${shippedModelNames.join(", ")}), or oracle: the exact denoiser of a known density (required)`,
    },
    data: { value: "D", help: `the data set (default: the checkpoint's); with --model oracle required: ${oracleDataHelp}` },
    // no default in the table: a value given with a checkpoint (which has its own) is refused, not ignored
    schedule: { value: "S", help: `oracle only: the noise schedule (default: ${ORACLE_SCHEDULE})` },
    timesteps: {
      value: "T",
      help: `oracle only: the number of steps (0 = continuous time) (default: ${ORACLE_TIMESTEPS})`,
      parse: optionalInt({ min: 0 }),
    },
  },
  mixtureFileHelp,
);

/** Which runtime evaluates the network. */
export const backendFlags = defineFlags("Backend", {
  backend: {
    default: "auto",
    value: backendNames.join("|"),
    help: "auto runs the network in ONNX Runtime when the optional package onnxruntime-node loads, else in jax-js, and says which on stderr; onnx exports it to ONNX and runs it in ONNX Runtime (3–5× faster here); jax runs it in jax-js",
    parse: oneOf(...backendNames),
  },
  // measured on 2 cores (npm run bench): 2 threads took 0.6–0.85× the time of 1 for U-Net steps,
  // forward passes and sampling, and the same for the small 2-D step
  "onnx-threads": {
    default: String(availableParallelism()),
    value: "N",
    help: "ONNX Runtime's intra-op threads (the default is this machine's core count)",
    parse: int({ min: 1 }),
  },
  "onnx-spin": {
    default: "auto",
    value: "auto|on|off",
    help: "whether idle ONNX Runtime threads spin while they wait for work: auto spins while this process's cores have room for its threads and sleeps while other jobs need them, measured every 10 s (spinning is faster on a quiet machine, and halves the speed on a busy one)",
    parse: oneOf(...(Object.keys(spinModes) as (keyof typeof spinModes)[])),
  },
});

type BackendFlags = FlagValues<typeof backendFlags.specs>;

export interface Backend {
  onnx: boolean;
  /** ONNX Runtime's session options: intra-op threads and spinning */
  session: SessionOptions;
}

let announced = false;

/** The loud notice for "auto" falling back to jax-js: what the user loses, why, and how to fix it. */
function slowEngineWarning(): string {
  const rule = "!".repeat(78);
  return [
    rule,
    "! vdm: ONNX Runtime is not available, so this runs on jax-js: training and sampling are 3–5× slower.",
    `! Why: ${onnxRuntimeLoads().detail}`,
    `! Fix: ${onnxRuntimeFix}`,
    "! (--backend jax chooses jax-js on purpose, without this notice.)",
    rule,
  ].join("\n");
}

/** The backend the flags ask for; "auto" says once on stderr which it picked and why. */
export function parseBackend(flags: Partial<BackendFlags>): Backend {
  const { backend, "onnx-threads": threads } = backendFlags.specs;
  const name = flags.backend ?? (backend.default as BackendName);
  const choice = chooseBackend(name);
  if (name === "auto" && !announced) {
    announced = true;
    console.error(choice.onnx ? `backend: ${choice.reason}` : slowEngineWarning());
  }
  return {
    onnx: choice.onnx,
    session: { threads: flags["onnx-threads"] ?? Number(threads.default), spin: spinModes[flags["onnx-spin"] ?? "auto"] },
  };
}

const onnxDenoiser = (denoiser: Denoiser, backend: Backend) => ({
  model: onnxModel(denoiser.model, denoiser.params, backend.session),
  params: denoiser.params,
});

/** `denoiser` with its network on `backend` (for as long as the process runs). */
export function onBackend(denoiser: Denoiser, backend: Backend): Denoiser {
  return backend.onnx ? onnxDenoiser(denoiser, backend) : denoiser;
}

/** f(denoiser on `backend`), releasing the backend's sessions afterwards. */
export function withBackend<T>(denoiser: Denoiser, backend: Backend, f: (den: Denoiser) => T): T {
  if (!backend.onnx) return f(denoiser);
  const den = onnxDenoiser(denoiser, backend);
  try {
    return f(den);
  } finally {
    den.model.close();
  }
}

type ModelFlags = FlagValues<typeof modelFlags.specs> & Partial<BackendFlags>;

export function resolveModel(flags: ModelFlags): ResolvedModel {
  const resolved = resolveJaxModel(flags);
  const backend = parseBackend(flags);
  // a latent model's decoder runs on the backend too (for as long as the process runs), its autoencoder and normalisation kept
  const latent =
    resolved.latent && (backend.onnx ? { ...resolved.latent, ...onnxLatentSampling(resolved.latent, backend.session) } : resolved.latent);
  return { ...resolved, ...(latent ? { latent } : {}), jaxDenoiser: resolved.denoiser, denoiser: onBackend(resolved.denoiser, backend) };
}

/**
 * Refuse, as a usage error, a checkpoint that --model cannot take: a Diffusion-LM (text) run, which
 * has commands of its own, a classifier, which goes to --classifier/--judge, an autoencoder, or a
 * hierarchical VAE, which `vdm eval` measures.
 */
function checkDenoiserRun(dir: string): void {
  const config = readCheckpointConfig(dir, validateRunConfig);
  if (isHvaeRun(config))
    throw new UsageError(
      `${dir} is a hierarchical VAE (vdm train --net hvae), not a diffusion model: vdm eval --model ${dir} measures it; its ancestral samples are in ${dir}/samples.png`,
    );
  const kind = kindOf(config);
  if (kind === "classifier")
    throw new UsageError(
      `${dir} is a classifier (vdm train-classifier), not a diffusion model: give it to --classifier DIR (classifier guidance) or --judge DIR (vdm guidance)`,
    );
  if (kind === "text")
    throw new UsageError(
      `${dir} is a Diffusion-LM (text) run; this command works on 2-D and image models. For a text run: vdm sample --model ${dir} (sentences) or vdm eval-text --model ${dir}`,
    );
  if (kind === "autoencoder")
    throw new UsageError(
      `${dir} is an autoencoder (vdm train-autoencoder), not a diffusion model: a latent model trains on it (vdm train --latent ${dir})`,
    );
}

function resolveJaxModel(flags: ModelFlags): Omit<ResolvedModel, "jaxDenoiser"> {
  if (flags.model === "")
    throw new UsageError(
      `--model is required: a checkpoint directory, a model shipped with the package (${shippedModelNames[0]}) or "oracle"`,
    );
  if (flags.model === "oracle") {
    if (!flags.data)
      throw new UsageError(`--model oracle needs --data ${oracleDataHelp} (a data set with a known density, or a Gaussian mixture file)`);
    const mixture = knownMixture(flags.data);
    const dim = mixture.means[0]!.length;
    return {
      // the score target is exact at every level, the clean data (σ = 0) included; the labels are the components
      denoiser: { model: oracleModel("score", mixture.weights.length), params: mixtureParams(mixture) },
      process: new DiffusionProcess(getSchedule(flags.schedule || ORACLE_SCHEDULE), flags.timesteps ?? ORACLE_TIMESTEPS),
      normalization: identityNormalization(dim),
      data: flags.data,
      dim,
      shape: [dim],
      seed: 0,
      scheduleName: flags.schedule || ORACLE_SCHEDULE,
      oracle: { classes: mixture.weights.length },
    };
  }
  const dir = modelDirectory(flags.model);
  checkDenoiserRun(dir);
  const run = loadRun(dir);
  const { config } = run;
  for (const [name, own] of [
    ["schedule", config.schedule],
    ["timesteps", String(config.timesteps)],
  ] as const) {
    if (flags[name] !== undefined && flags[name] !== "")
      throw new UsageError(`--${name} is for --model oracle; the checkpoint ${flags.model} has its own (--${name} ${own})`);
  }
  const latent = loadLatentRun(dir, config);
  // a latent model describes its autoencoder's images: their shape, normalisation and folder
  const images = latent
    ? {
        ...latent.autoencoder.config,
        data: { ...latent.autoencoder.config.data, dataDir: config.data.dataDir ?? latent.autoencoder.config.data.dataDir },
      }
    : config;
  return {
    denoiser: run.denoiser,
    process: run.process,
    normalization: latent ? normalizationOf(images) : run.normalization,
    data: flags.data || config.data.spec,
    dim: images.data.dim,
    shape: dataShape(images),
    dataConfig: images.data,
    ...(latent ? { latent } : {}),
    seed: config.seed,
    scheduleName: config.schedule,
    // a student distilled with guidance folded in predicts the guided x̂_0 at its label already: by default sampled as it is
    classifierFree: (config.cfgDropout ?? 0) > 0 && config.distill?.guidance === undefined,
    ...(config.distill
      ? {
          native: {
            sampler: config.distill.sampler,
            steps: config.distill.steps,
            spacing: config.distill.spacing,
            ...(config.distill.guidance !== undefined ? { guidance: config.distill.guidance } : {}),
          },
        }
      : {}),
  };
}
