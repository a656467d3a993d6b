/** `--sampler` and its knobs, shared by the commands that sample: a flag per option of the samplers' table. */
import type { Normalization } from "../data/normalize.js";
import { samplerByName, samplerEntry, samplerTable } from "../sample/by-name.js";
import type { Init } from "../sample/init.js";
import { type SamplerOption, SamplerOptionError, type SamplerOptionsInput, samplerDefaults } from "../sample/options.js";
import { ODE_SIGMA_MAX } from "../sample/predict.js";
import type { Sampler } from "../sample/sampler.js";
import { asUsage, defineFlags, type FlagValues, num, UsageError } from "./args.js";
import type { ResolvedModel } from "./model.js";

/** `names` as a list in words: "a", "a and b", "a, b and c". */
const inWords = (names: readonly string[]) => (names.length < 2 ? names.join("") : `${names.slice(0, -1).join(", ")} and ${names.at(-1)}`);

/** The samplers that read option `option`, e.g. "ancestral and pc". */
const readers = (option: SamplerOption) => inWords(samplerTable.filter((e) => e.reads.includes(option)).map((e) => e.name));

/** The few-step samplers of the probability-flow ODE (their default number of levels is `samplerDefaults.steps`). */
const odeSamplers = samplerTable
  .filter((e) => e.ode)
  .map((e) => e.name)
  .join(", ");

/** `--sampler` and the knobs of every sampler. */
export const samplerFlags = defineFlags(
  "Sampler",
  {
    sampler: { default: samplerDefaults.sampler, value: "NAME", help: "the sampler (see below)" },
    "sample-steps": {
      value: "N",
      help: `the number of levels N (default: ${samplerDefaults.steps} for ${odeSamplers}; ${readers("variance")}: the whole chain in discrete time, 1000 in continuous time)`,
    },
    spacing: {
      value: "S",
      help: `where the levels lie: uniform (in t), log-snr (evenly in γ = −log SNR; the default of dpm++) or trailing (t_k = t_max·k/N)`,
    },
    "max-sigma": {
      value: "S",
      help: `caps the noisiest level at σ̃ = e^{γ/2} ≤ S (default: ${ODE_SIGMA_MAX} for ${odeSamplers}, none for ancestral and pc, and none with the exact oracle): beyond it a trained network's x̂_0 is too inaccurate to start a deterministic path`,
    },
    eta: {
      default: samplerDefaults.eta,
      value: "ETA",
      help: `${readers("eta")}: η (0: deterministic ODE step; 1: ancestral sampling on the same levels)`,
    },
    variance: { default: samplerDefaults.variance, value: "posterior|beta", help: `${readers("variance")}: the reverse steps' variance` },
    snr: { default: samplerDefaults.snr, value: "R", help: `${readers("snr")}: the corrector's signal-to-noise ratio r` },
    "corrector-steps": {
      default: samplerDefaults.correctorSteps,
      value: "C",
      help: `${readers("correctorSteps")}: Langevin corrector steps per level`,
    },
    sigma: {
      default: samplerDefaults.sigma,
      value: "S",
      help: `${readers("sigma")}: the level σ̃ (0 = clean data: the oracle only; a trained model needs σ̃ > 0)`,
    },
    "langevin-steps": { default: samplerDefaults.langevinSteps, value: "N", help: `${readers("langevinSteps")}: the number of steps` },
    "step-size": { default: samplerDefaults.stepSize, value: "ETA", help: `${readers("stepSize")}: the step size η` },
    "sigma-max": { default: samplerDefaults.sigmaFirst, value: "S", help: `${readers("sigmaFirst")}: the first (largest) σ̃` },
    "sigma-min": { default: samplerDefaults.sigmaLast, value: "S", help: `${readers("sigmaLast")}: the last σ̃` },
    levels: {
      default: samplerDefaults.levels,
      value: "L",
      help: `${readers("levels")}: the number of levels from --sigma-max to --sigma-min (geometric)`,
    },
    "steps-per-level": {
      default: samplerDefaults.stepsPerLevel,
      value: "N",
      help: `${readers("stepsPerLevel")}: Langevin steps per level`,
    },
    epsilon: { default: samplerDefaults.epsilon, value: "EPS", help: `${readers("epsilon")}: ε in the step size η_i = ε σ_i²/σ_L²` },
    denoise: { default: String(samplerDefaults.denoise), value: "true|false", help: `${readers("denoise")}: a final Tweedie step` },
    init: {
      value: "SPEC",
      help: `the start of ${readers("init")}: uniform:LOW:HIGH (data coordinates) or gaussian:STD (normalised coordinates) (default: gaussian with std the largest σ̃; langevin: gaussian:1)`,
    },
  },
  `Samplers (cost in network evaluations per sample, NFE, for N levels; a discrete-time model with T steps
uses N of its T steps):
${samplerTable.map((e) => `  ${e.name.padEnd(19)}${e.summary}`).join("\n")}`,
);

type Flags = FlagValues<typeof samplerFlags.specs>;

/** The flag of each sampler option read from a number (or, for --denoise, true|false); --init is parsed on its own. */
const optionFlags = {
  steps: "sample-steps",
  sigmaMax: "max-sigma",
  eta: "eta",
  snr: "snr",
  correctorSteps: "corrector-steps",
  sigma: "sigma",
  langevinSteps: "langevin-steps",
  stepSize: "step-size",
  sigmaFirst: "sigma-max",
  sigmaLast: "sigma-min",
  levels: "levels",
  stepsPerLevel: "steps-per-level",
  epsilon: "epsilon",
} as const satisfies Partial<Record<SamplerOption, keyof Flags>>;

/** A number flag's value for the schema: unset → undefined; a number; anything else as given (the schema names it). */
const numberOf = (raw: string): number | string | undefined =>
  raw === "" ? undefined : raw.trim() !== "" && Number.isFinite(Number(raw)) ? Number(raw) : raw;

/** --init in data coordinates, mapped into the model's normalised coordinates. */
function parseInit(raw: string, z: Normalization): Init | undefined {
  if (raw === "") return undefined;
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

/** --max-sigma: the given cap; none (Infinity) for the exact oracle; otherwise undefined (the sampler's default). */
export function maxSigmaFlag(raw: string, resolved: Pick<ResolvedModel, "oracle">): number | undefined {
  return raw === "" ? (resolved.oracle ? Infinity : undefined) : num("max-sigma", raw);
}

/**
 * The sampler options the flags give (raw values where a flag is not a number, for the schema to name).
 * The exact oracle's predictions hold at every level, so its ODE samplers start from the top of the
 * range unless --max-sigma says otherwise.
 */
export function samplerOptionsOf(flags: Flags, resolved: Pick<ResolvedModel, "normalization" | "oracle">): SamplerOptionsInput {
  const numbers = Object.fromEntries(Object.entries(optionFlags).map(([option, flag]) => [option, numberOf(flags[flag])]));
  const denoise = flags.denoise === "true" ? true : flags.denoise === "false" ? false : flags.denoise;
  const given = {
    ...numbers,
    sigmaMax: flags["max-sigma"] === "" && resolved.oracle ? Infinity : numbers.sigmaMax,
    spacing: flags.spacing || undefined,
    variance: flags.variance,
    denoise,
    init: parseInit(flags.init, resolved.normalization),
  };
  return Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)) as SamplerOptionsInput;
}

/**
 * The flags with a distilled run's own sampler (`resolved.native`) filled in where --sampler is not
 * `given`: its sampler, and its steps and spacing unless given.
 */
export function withNativeSampler<F extends Pick<Flags, "sampler" | "sample-steps" | "spacing">>(
  flags: F,
  given: ReadonlySet<string>,
  resolved: Pick<ResolvedModel, "native">,
): F {
  const { native } = resolved;
  if (!native || given.has("sampler")) return flags;
  return {
    ...flags,
    sampler: native.sampler,
    "sample-steps": given.has("sample-steps") ? flags["sample-steps"] : String(native.steps),
    spacing: given.has("spacing") ? flags.spacing : native.spacing,
  } as F;
}

/** The sampler the flags ask for, for `resolved`'s process and normalisation (a bad value names its flag). */
export function makeSampler(flags: Flags, resolved: Pick<ResolvedModel, "process" | "normalization" | "oracle">): Sampler {
  const { process } = resolved;
  const options = samplerOptionsOf(flags, resolved);
  const entry = asUsage(() => samplerEntry(flags.sampler));
  const steps = options.steps ?? (entry.ode ? samplerDefaults.steps : undefined);
  if (typeof steps === "number" && process.T > 0 && steps > process.T)
    throw new UsageError(`--sample-steps ${steps} exceeds the model's T = ${process.T} steps`);
  // a trained model's score at σ̃ = 0 divides its ε̂ by σ = 0; the oracle's score is exact there
  if (entry.name === "langevin" && options.sigma === 0 && !resolved.oracle)
    throw new UsageError(
      "--sigma 0 asks a trained model for the clean data's score, which it does not have (ε̂/σ with σ = 0): give --sigma > 0, e.g. 0.05",
    );
  try {
    return samplerByName(entry.name, process, options);
  } catch (e) {
    if (!(e instanceof SamplerOptionError)) throw e;
    const flag = e.option in optionFlags ? optionFlags[e.option as keyof typeof optionFlags] : e.option;
    throw new UsageError(`--${flag} must be ${e.expected}, got "${flags[flag as keyof Flags] ?? e.got}"`);
  }
}
