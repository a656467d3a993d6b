/** `--sampler` and its knobs, shared by the commands that sample. */
import type { DiffusionProcess } from "../diffusion/process.js";
import type { Normalization } from "../data/normalize.js";
import { AncestralSampler, type AncestralVariance } from "../sample/ancestral.js";
import type { Init } from "../sample/init.js";
import { AnnealedLangevinSampler, LangevinSampler } from "../sample/langevin.js";
import { PredictorCorrectorSampler } from "../sample/pc.js";
import type { Sampler } from "../sample/sampler.js";
import { geometricSigmas } from "../sample/score.js";
import { intFlag, UsageError } from "./args.js";

export const samplerNames = ["ancestral", "langevin", "annealed-langevin", "pc"] as const;

/** Flags and defaults of every sampler. */
export const samplerFlags = {
  sampler: "ancestral",
  variance: "posterior",
  "sample-steps": "1000",
  sigma: "0",
  "langevin-steps": "1000",
  "step-size": "0.1",
  "sigma-max": "20",
  "sigma-min": "1",
  levels: "10",
  "steps-per-level": "100",
  epsilon: "0.1",
  denoise: "true",
  init: "",
  snr: "0.01",
  "corrector-steps": "1",
};

export const samplerHelp = `Samplers (--sampler):
  ancestral          DDPM ancestral steps; --variance posterior|beta, --sample-steps N (continuous time)
  langevin           x ← x + (η/2)s + √η z at one level: --sigma σ̃ (0 = clean data), --langevin-steps, --step-size η
  annealed-langevin  NCSN: σ̃ from --sigma-max to --sigma-min over --levels, --steps-per-level, --epsilon ε
                     (η_i = ε σ_i²/σ_L²), --denoise true|false (final Tweedie step)
  pc                 predictor–corrector: ancestral predictor + Langevin corrector, --snr r, --corrector-steps
Langevin samplers start from --init uniform:LOW:HIGH (data coordinates) or gaussian:STD
(default: gaussian with the largest σ̃; langevin: uniform over the data's range).`;

type Flags = Record<keyof typeof samplerFlags, string>;

function num(name: string, raw: string, positive = true): number {
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
    return { kind: "uniform", low: z.mean.map((m, d) => (Number(a) - m) / z.std[d]!), high: z.mean.map((m, d) => (Number(b) - m) / z.std[d]!) };
  }
  throw new UsageError(`--init must be uniform:LOW:HIGH (LOW < HIGH) or gaussian:STD, got "${raw}"`);
}

export function makeSampler(flags: Flags, process: DiffusionProcess, z: Normalization): Sampler {
  const variance = flags.variance;
  if (variance !== "posterior" && variance !== "beta") throw new UsageError(`--variance must be posterior or beta, got "${variance}"`);
  switch (flags.sampler) {
    case "ancestral":
      return new AncestralSampler(process, variance as AncestralVariance, intFlag("sample-steps", flags["sample-steps"], { min: 1 }));
    case "langevin":
      return new LangevinSampler(process, {
        sigma: num("sigma", flags.sigma, false),
        steps: intFlag("langevin-steps", flags["langevin-steps"], { min: 1 }),
        stepSize: num("step-size", flags["step-size"]),
        init: parseInit(flags.init, { kind: "gaussian", std: 1 }, z),
      });
    case "annealed-langevin": {
      const sigmaMax = num("sigma-max", flags["sigma-max"]);
      if (flags.denoise !== "true" && flags.denoise !== "false") throw new UsageError(`--denoise must be true or false, got "${flags.denoise}"`);
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
        continuousSteps: intFlag("sample-steps", flags["sample-steps"], { min: 1 }),
      });
    default:
      throw new UsageError(`unknown sampler "${flags.sampler}" (known: ${samplerNames.join(", ")})`);
  }
}
