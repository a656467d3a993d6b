/**
 * The samplers chosen by name: one table for every front end that offers them (the CLI's `--sampler`
 * and its help, `vdm nfe`, the playground's menu). Each entry declares once its name, a title, a one-line
 * summary (with its cost in network evaluations, NFE, for N levels), the options it reads and how it is
 * built from a process and those options. Adding a sampler: its file, and one entry here.
 */
import type { DiffusionProcess } from "../diffusion/process.js";
import { ConfigError } from "../errors.js";
import { AncestralSampler } from "./ancestral.js";
import { DdimSampler } from "./ddim.js";
import { DpmSolverSampler } from "./dpm-solver.js";
import { EulerSampler } from "./euler.js";
import { HeunSampler } from "./heun.js";
import { IpndmSampler } from "./ipndm.js";
import { AnnealedLangevinSampler, LangevinSampler } from "./langevin.js";
import {
  type SamplerOption,
  type SamplerOptions,
  type SamplerOptionsInput,
  samplerDefaults,
  samplerOptions,
  samplerOptionsSchema,
} from "./options.js";
import { PredictorCorrectorSampler } from "./pc.js";
import type { Sampler } from "./sampler.js";
import { geometricSigmas } from "./score.js";
import { UniPcSampler } from "./unipc.js";

/** One sampler chosen by name. */
export interface SamplerEntry {
  /** what `--sampler` and the menus call it */
  readonly name: string;
  /** a short label for a menu */
  readonly title: string;
  /** one line: what it does and its NFE for N levels */
  readonly summary: string;
  /** the options of `SamplerOptions` it reads */
  readonly reads: readonly SamplerOption[];
  /** whether it walks the probability-flow ODE on few levels (default N = `samplerDefaults.steps`, σ̃ capped at 80) */
  readonly ode?: boolean;
  /** the sampler on `process` with `options` (defaults filled in) */
  build(process: DiffusionProcess, options: SamplerOptions): Sampler;
}

/** What the ODE samplers read: their levels. */
const levels = ["steps", "spacing", "sigmaMax"] as const;

/** The levels of an ODE sampler: N defaults to `samplerDefaults.steps`. */
const odeLevels = (o: SamplerOptions) => ({ steps: o.steps ?? samplerDefaults.steps, spacing: o.spacing, sigmaMax: o.sigmaMax });

/** The samplers chosen by name, in the order the CLI and the menus list them. */
export const samplerTable: readonly SamplerEntry[] = [
  {
    name: "dpm++2m",
    title: "DPM-Solver++ 2M",
    summary: "DPM-Solver++ multistep, order 2: NFE = N",
    reads: levels,
    ode: true,
    build: (process, o) => new DpmSolverSampler(process, { ...odeLevels(o), order: 2 }),
  },
  {
    name: "dpm++3m",
    title: "DPM-Solver++ 3M",
    summary: "DPM-Solver++ multistep, order 3: NFE = N",
    reads: levels,
    ode: true,
    build: (process, o) => new DpmSolverSampler(process, { ...odeLevels(o), order: 3 }),
  },
  {
    name: "unipc",
    title: "UniPC-2",
    summary: "UniPC-2 (bh2): DPM-Solver++ 2M corrected by UniC with the next evaluation, order 3: NFE = N",
    reads: levels,
    ode: true,
    build: (process, o) => new UniPcSampler(process, odeLevels(o)),
  },
  {
    name: "ipndm",
    title: "iPNDM",
    summary: "iPNDM: Adams–Bashforth of orders 1–4 on ε̂ in x/α against σ̃ = e^{γ/2}: NFE = N",
    reads: levels,
    ode: true,
    build: (process, o) => new IpndmSampler(process, odeLevels(o)),
  },
  {
    name: "ddim",
    title: "DDIM",
    summary: "DDIM: NFE = N",
    reads: [...levels, "eta"],
    ode: true,
    build: (process, o) => new DdimSampler(process, { ...odeLevels(o), eta: o.eta }),
  },
  {
    name: "euler",
    title: "Euler",
    summary: "Euler on the probability-flow ODE in x/α against σ̃ = e^{γ/2} (Karras et al.): NFE = N",
    reads: levels,
    ode: true,
    build: (process, o) => new EulerSampler(process, odeLevels(o)),
  },
  {
    name: "heun",
    title: "Heun",
    summary: "Heun (2nd order) on the same ODE: NFE = 2N − 1; needs a moderate σ̃_max (poor on cosine)",
    reads: levels,
    ode: true,
    build: (process, o) => new HeunSampler(process, odeLevels(o)),
  },
  {
    name: "ancestral",
    title: "ancestral",
    summary: "DDPM ancestral steps: NFE = N",
    reads: [...levels, "variance"],
    build: (process, o) =>
      new AncestralSampler(process, { steps: o.steps, spacing: o.spacing, sigmaMax: o.sigmaMax, variance: o.variance }),
  },
  {
    name: "pc",
    title: "predictor–corrector",
    summary: "predictor–corrector: ancestral predictor + Langevin corrector: NFE = N(1 + C)",
    reads: ["steps", "variance", "snr", "correctorSteps"],
    build: (process, o) =>
      new PredictorCorrectorSampler(process, { snr: o.snr, correctorSteps: o.correctorSteps, variance: o.variance, steps: o.steps }),
  },
  {
    name: "langevin",
    title: "Langevin",
    summary: "x ← x + (η/2)s + √η z at one level",
    reads: ["sigma", "langevinSteps", "stepSize", "init"],
    build: (process, o) =>
      new LangevinSampler(process, {
        sigma: o.sigma,
        steps: o.langevinSteps,
        stepSize: o.stepSize,
        init: o.init ?? { kind: "gaussian", std: 1 },
      }),
  },
  {
    name: "annealed-langevin",
    title: "annealed Langevin",
    summary: "NCSN: Langevin at each level of a geometric ladder of σ̃, largest first",
    reads: ["sigmaFirst", "sigmaLast", "levels", "stepsPerLevel", "epsilon", "denoise", "init"],
    build: (process, o) =>
      new AnnealedLangevinSampler(process, {
        sigmas: geometricSigmas(o.sigmaFirst, o.sigmaLast, o.levels),
        stepsPerLevel: o.stepsPerLevel,
        epsilon: o.epsilon,
        init: o.init ?? { kind: "gaussian", std: o.sigmaFirst },
        denoise: o.denoise,
      }),
  },
];

/** The names of `samplerTable`, in its order. */
export const samplerNames: readonly string[] = samplerTable.map((entry) => entry.name);

/** Whether `name` is one of `samplerNames`. */
export function isSamplerName(name: string): boolean {
  return samplerNames.includes(name);
}

/** The entry of sampler `name`; an unknown name throws a ConfigError listing the known ones. */
export function samplerEntry(name: string): SamplerEntry {
  const entry = samplerTable.find((e) => e.name === name);
  if (!entry)
    throw new ConfigError(`unknown sampler "${name}" (known: ${samplerNames.join(", ")})`, { unknown: { name, known: samplerNames } });
  return entry;
}

/**
 * The sampler called `name` on `process`, with the options it reads (its entry's `reads`; the others
 * are ignored) checked against `samplerOptionsSchema` and each default filled in where they are silent.
 * An unknown name or option throws a ConfigError.
 *
 * @example
 * ```ts
 * const sampler = samplerByName("ddim", process, { steps: 50, eta: 0.5 });
 * ```
 */
export function samplerByName(name: string, process: DiffusionProcess, options: SamplerOptionsInput = {}): Sampler {
  const entry = samplerEntry(name);
  const known = Object.keys(samplerOptionsSchema.shape);
  const read = Object.entries(options).filter(([key]) => entry.reads.includes(key as SamplerOption) || !known.includes(key));
  return entry.build(process, samplerOptions(Object.fromEntries(read)));
}

/**
 * What the CLI samples with by default (`vdm sample` with no sampler flags): `samplerDefaults.sampler`,
 * DPM-Solver++ 2M, on `samplerDefaults.steps` = 20 levels evenly in log-SNR with σ̃ ≤ 80.
 */
export function defaultSampler(process: DiffusionProcess): Sampler {
  return samplerByName(samplerDefaults.sampler, process);
}
