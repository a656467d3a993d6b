/** `--sampler` and its knobs, shared by the commands that sample. */
import type { Normalization } from "../data/normalize.js";
import { type Spacing, spacings } from "../diffusion/process.js";
import type { AncestralVariance } from "../sample/ancestral.js";
import { isLevelSamplerName, levelSampler, levelSamplerNames } from "../sample/by-name.js";
import type { Init } from "../sample/init.js";
import { AnnealedLangevinSampler, LangevinSampler } from "../sample/langevin.js";
import { PredictorCorrectorSampler } from "../sample/pc.js";
import { ODE_SIGMA_MAX } from "../sample/predict.js";
import type { Sampler } from "../sample/sampler.js";
import { geometricSigmas } from "../sample/score.js";
import { defineFlags, type FlagValues, intFlag, UsageError } from "./args.js";
import type { ResolvedModel } from "./model.js";

export const samplerNames = [...levelSamplerNames, "pc", "langevin", "annealed-langevin"] as const;

/** The few-step samplers of the probability-flow ODE (their default number of levels is DEFAULT_FAST_STEPS). */
const fastSamplers = ["dpm++2m", "dpm++3m", "ddim", "euler", "heun"];

/** What `--sampler` and `--sample-steps` default to (see the README's "Sampling" for the measurements behind them). */
export const DEFAULT_SAMPLER = "dpm++2m";
export const DEFAULT_FAST_STEPS = 20;

/** `--sampler` and the knobs of every sampler. */
export const samplerFlags = defineFlags(
  "Sampler",
  {
    sampler: { default: DEFAULT_SAMPLER, value: "NAME", help: "the sampler (see below)" },
    "sample-steps": {
      value: "N",
      help: `the number of levels N (default: ${DEFAULT_FAST_STEPS} for ${fastSamplers.join(", ")}; ancestral and pc: the whole chain in discrete time, 1000 in continuous time)`,
    },
    spacing: {
      value: "S",
      help: "where the levels lie: uniform (in t), log-snr (evenly in γ = −log SNR; the default of dpm++) or trailing (t_k = t_max·k/N)",
    },
    "max-sigma": {
      value: "S",
      help: `caps the noisiest level at σ̃ = e^{γ/2} ≤ S (default: ${ODE_SIGMA_MAX} for ${fastSamplers.join(", ")}, none for ancestral and pc, and none with the exact oracle): beyond it a trained network's x̂_0 is too inaccurate to start a deterministic path`,
    },
    eta: { default: "0", value: "ETA", help: "ddim: η (0: deterministic ODE step; 1: ancestral sampling on the same levels)" },
    variance: { default: "posterior", value: "posterior|beta", help: "ancestral and pc: the reverse steps' variance" },
    snr: { default: "0.01", value: "R", help: "pc: the corrector's signal-to-noise ratio r" },
    "corrector-steps": { default: "1", value: "C", help: "pc: Langevin corrector steps per level" },
    sigma: { default: "0", value: "S", help: "langevin: the level σ̃ (0 = clean data: the oracle only; a trained model needs σ̃ > 0)" },
    "langevin-steps": { default: "1000", value: "N", help: "langevin: the number of steps" },
    "step-size": { default: "0.1", value: "ETA", help: "langevin: the step size η" },
    "sigma-max": { default: "20", value: "S", help: "annealed-langevin: the first (largest) σ̃" },
    "sigma-min": { default: "1", value: "S", help: "annealed-langevin: the last σ̃" },
    levels: { default: "10", value: "L", help: "annealed-langevin: the number of levels from --sigma-max to --sigma-min (geometric)" },
    "steps-per-level": { default: "100", value: "N", help: "annealed-langevin: Langevin steps per level" },
    epsilon: { default: "0.1", value: "EPS", help: "annealed-langevin: ε in the step size η_i = ε σ_i²/σ_L²" },
    denoise: { default: "true", value: "true|false", help: "annealed-langevin: a final Tweedie step" },
    init: {
      value: "SPEC",
      help: "the Langevin samplers' start: uniform:LOW:HIGH (data coordinates) or gaussian:STD (normalised coordinates) (default: gaussian with std the largest σ̃; langevin: gaussian:1)",
    },
  },
  `Samplers (cost in network evaluations per sample, NFE, for N levels; a discrete-time model with T steps
uses N of its T steps):
  dpm++2m            DPM-Solver++ multistep, order 2: NFE = N
  dpm++3m            DPM-Solver++ multistep, order 3: NFE = N
  ddim               DDIM: NFE = N
  euler              Euler on the probability-flow ODE in x/α against σ̃ = e^{γ/2} (Karras et al.): NFE = N
  heun               Heun (2nd order) on the same ODE: NFE = 2N − 1; needs a moderate σ̃_max (poor on cosine)
  ancestral          DDPM ancestral steps: NFE = N
  pc                 predictor–corrector: ancestral predictor + Langevin corrector: NFE = N(1 + C)
  langevin           x ← x + (η/2)s + √η z at one level
  annealed-langevin  NCSN: Langevin at each level from --sigma-max down to --sigma-min`,
);

type Flags = FlagValues<typeof samplerFlags.specs>;

/** A number flag: positive (or, with positive = false, non-negative), with a usage error naming it. */
export function num(name: string, raw: string, positive = true): number {
  const v = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(v) || (positive ? v <= 0 : v < 0)) {
    throw new UsageError(`--${name} must be a ${positive ? "positive" : "non-negative"} number, got "${raw}"`);
  }
  return v;
}

/** --init in data coordinates, mapped into the model's normalised coordinates. */
function parseInit(raw: string, fallback: Init, z: Normalization): Init {
  if (raw === "") return fallback;
  const [kind, a, b] = raw.split(":");
  if (kind === "gaussian" && a !== undefined && b === undefined) return { kind: "gaussian", std: num("init", a) };
  if (kind === "uniform" && a !== undefined && b !== undefined && Number(a) < Number(b)) {
    return {
      kind: "uniform",
      low: z.mean.map((m, d) => (Number(a) - m) / z.std[d]!),
      high: z.mean.map((m, d) => (Number(b) - m) / z.std[d]!),
    };
  }
  throw new UsageError(`--init must be uniform:LOW:HIGH (LOW < HIGH) or gaussian:STD, got "${raw}"`);
}

/** --max-sigma: the given cap; none for the exact oracle; otherwise undefined (the sampler's default). */
export function maxSigmaFlag(raw: string, resolved: Pick<ResolvedModel, "oracle">): number | undefined {
  return raw === "" ? (resolved.oracle ? Infinity : undefined) : num("max-sigma", raw);
}

/**
 * The sampler the flags ask for, for `resolved`'s process and normalisation. The exact oracle's
 * predictions hold at every level, so its ODE samplers start from the top of the range unless
 * --max-sigma says otherwise.
 */
export function makeSampler(flags: Flags, resolved: Pick<ResolvedModel, "process" | "normalization" | "oracle">): Sampler {
  const { process, normalization: z } = resolved;
  const variance = flags.variance;
  if (variance !== "posterior" && variance !== "beta") throw new UsageError(`--variance must be posterior or beta, got "${variance}"`);
  if (flags.spacing !== "" && !(spacings as readonly string[]).includes(flags.spacing))
    throw new UsageError(`--spacing must be one of ${spacings.join(", ")}, got "${flags.spacing}"`);
  const fast = fastSamplers.includes(flags.sampler);
  const stepsRaw = flags["sample-steps"] || (fast ? String(DEFAULT_FAST_STEPS) : "");
  const steps = stepsRaw === "" ? undefined : intFlag("sample-steps", stepsRaw, { min: 1 });
  if (steps !== undefined && process.T > 0 && steps > process.T)
    throw new UsageError(`--sample-steps ${steps} exceeds the model's T = ${process.T} steps`);
  const sigmaMax = maxSigmaFlag(flags["max-sigma"], resolved);
  const levels = { steps, spacing: (flags.spacing || undefined) as Spacing | undefined, sigmaMax };
  if (isLevelSamplerName(flags.sampler)) {
    return levelSampler(flags.sampler, process, {
      ...levels,
      variance: variance as AncestralVariance,
      ...(flags.sampler === "ddim" ? { eta: num("eta", flags.eta, false) } : {}),
    });
  }
  switch (flags.sampler) {
    case "langevin": {
      const sigma = num("sigma", flags.sigma, false);
      // a trained model's score at σ̃ = 0 divides its ε̂ by σ = 0; the oracle's score is exact there
      if (sigma === 0 && !resolved.oracle)
        throw new UsageError(
          "--sigma 0 asks a trained model for the clean data's score, which it does not have (ε̂/σ with σ = 0): give --sigma > 0, e.g. 0.05",
        );
      return new LangevinSampler(process, {
        sigma,
        steps: intFlag("langevin-steps", flags["langevin-steps"], { min: 1 }),
        stepSize: num("step-size", flags["step-size"]),
        init: parseInit(flags.init, { kind: "gaussian", std: 1 }, z),
      });
    }
    case "annealed-langevin": {
      const sigmaMax = num("sigma-max", flags["sigma-max"]);
      if (flags.denoise !== "true" && flags.denoise !== "false")
        throw new UsageError(`--denoise must be true or false, got "${flags.denoise}"`);
      return new AnnealedLangevinSampler(process, {
        sigmas: geometricSigmas(sigmaMax, num("sigma-min", flags["sigma-min"]), intFlag("levels", flags.levels, { min: 1 })),
        stepsPerLevel: intFlag("steps-per-level", flags["steps-per-level"], { min: 1 }),
        epsilon: num("epsilon", flags.epsilon),
        init: parseInit(flags.init, { kind: "gaussian", std: sigmaMax }, z),
        denoise: flags.denoise === "true",
      });
    }
    case "pc":
      return new PredictorCorrectorSampler(process, {
        snr: num("snr", flags.snr),
        correctorSteps: intFlag("corrector-steps", flags["corrector-steps"], { min: 0 }),
        variance: variance as AncestralVariance,
        steps,
      });
    default:
      throw new UsageError(`unknown sampler "${flags.sampler}" (known: ${samplerNames.join(", ")})`);
  }
}
