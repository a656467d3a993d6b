/**
 * The options of every sampler chosen by name, as one schema: what each knob means, the values it
 * takes and its default (the defaults the CLI's flags show). `samplerOptions` validates a raw
 * object against it, naming the field, the expected value and the value given.
 */
import { z } from "zod";
import { type Spacing, spacings } from "../diffusion/process.js";
import { ConfigError } from "../errors.js";
import type { AncestralVariance } from "./ancestral.js";
import type { Init } from "./init.js";

/**
 * What a sampler chosen by name does when its options are silent: DPM-Solver++ 2M (`sampler`) on 20 levels
 * (`steps`, the ODE samplers' N) evenly in log-SNR, the measured best of the few-step samplers (README,
 * "Sampling"); and the knobs of the others.
 */
export const samplerDefaults = {
  sampler: "dpm++2m",
  steps: 20,
  eta: 0,
  variance: "posterior",
  snr: 0.01,
  correctorSteps: 1,
  sigma: 0,
  langevinSteps: 1000,
  stepSize: 0.1,
  sigmaFirst: 20,
  sigmaLast: 1,
  levels: 10,
  stepsPerLevel: 100,
  epsilon: 0.1,
  denoise: true,
} as const;

/** A check's expected value in words: the zod error message of every field. */
const expected = (words: string) => ({ error: words });
const positive = z.number(expected("a positive number")).positive(expected("a positive number"));
const nonNegative = z.number(expected("a non-negative number")).nonnegative(expected("a non-negative number"));
const integer = (min: number) =>
  z
    .number(expected(`an integer >= ${min}`))
    .int(expected(`an integer >= ${min}`))
    .min(min, expected(`an integer >= ${min}`));

/** Where Langevin chains start, in the model's (normalised) coordinates. */
const initSchema = z.union(
  [
    z.object({ kind: z.literal("gaussian"), std: positive }),
    z.object({ kind: z.literal("uniform"), low: z.array(z.number()), high: z.array(z.number()) }),
  ],
  expected("{ kind: 'gaussian', std } or { kind: 'uniform', low, high }"),
);

/** Every knob of the samplers chosen by name; each sampler reads some of them (`SamplerEntry.reads`). */
export const samplerOptionsSchema = z.object({
  /** the number of levels N (default: 20 for the ODE samplers; the whole chain, or 1000 in continuous time, for ancestral and pc) */
  steps: integer(1).optional(),
  /** where the N levels lie (default: the sampler's own: "log-snr" for DPM-Solver++, "uniform" for the others) */
  spacing: z.enum(spacings, expected(`one of ${spacings.join(", ")}`)).optional(),
  /** σ̃ = e^{γ/2} of the noisiest level at most, Infinity for none (default: 80 for the ODE samplers, none for ancestral and pc) */
  sigmaMax: z.union([positive, z.literal(Infinity)], expected("a positive number")).optional(),
  /** ddim: η (0: the deterministic ODE step; 1: ancestral sampling on the same levels) */
  eta: nonNegative.default(samplerDefaults.eta),
  /** ancestral and pc: the reverse steps' variance, the posterior's β̃_i or the forward step's β_i */
  variance: z.enum(["posterior", "beta"], expected("posterior or beta")).default(samplerDefaults.variance),
  /** pc: the corrector's signal-to-noise ratio r */
  snr: positive.default(samplerDefaults.snr),
  /** pc: Langevin corrections per level */
  correctorSteps: integer(0).default(samplerDefaults.correctorSteps),
  /** langevin: the noise level σ̃ whose score is followed (0: the clean data's) */
  sigma: nonNegative.default(samplerDefaults.sigma),
  /** langevin: the number of steps */
  langevinSteps: integer(1).default(samplerDefaults.langevinSteps),
  /** langevin: the step size η */
  stepSize: positive.default(samplerDefaults.stepSize),
  /** annealed-langevin: the first (largest) σ̃ of the geometric ladder */
  sigmaFirst: positive.default(samplerDefaults.sigmaFirst),
  /** annealed-langevin: the last σ̃ */
  sigmaLast: positive.default(samplerDefaults.sigmaLast),
  /** annealed-langevin: the number of levels L from sigmaFirst to sigmaLast */
  levels: integer(1).default(samplerDefaults.levels),
  /** annealed-langevin: Langevin steps per level */
  stepsPerLevel: integer(1).default(samplerDefaults.stepsPerLevel),
  /** annealed-langevin: ε in the step size η_i = ε σ_i²/σ_L² */
  epsilon: positive.default(samplerDefaults.epsilon),
  /** annealed-langevin: a final Tweedie step x + σ_L² s(x, σ_L) */
  denoise: z.boolean(expected("true or false")).default(samplerDefaults.denoise),
  /** the Langevin samplers' start (default: N(0, I) for langevin, N(0, sigmaFirst² I) for annealed-langevin) */
  init: initSchema.optional(),
});

/** The samplers' options as given (every field optional). */
export type SamplerOptionsInput = z.input<typeof samplerOptionsSchema>;

/** Every knob of the samplers chosen by name, checked and with the defaults filled in (`samplerOptions`); each sampler reads some of them. */
export interface SamplerOptions {
  /** the number of levels N (default: 20, `samplerDefaults.steps`, for the ODE samplers; the whole chain, or 1000 in continuous time, for ancestral and pc) */
  steps?: number;
  /** where the N levels lie (default: the sampler's own, "log-snr" for DPM-Solver++, "uniform" for the others) */
  spacing?: Spacing;
  /** σ̃ = e^{γ/2} of the noisiest level at most, Infinity for none (default: 80 for the ODE samplers, none for ancestral and pc) */
  sigmaMax?: number;
  /** ddim: η, 0 the deterministic ODE step, 1 ancestral sampling on the same levels (default 0) */
  eta: number;
  /** ancestral and pc: the reverse steps' variance, the posterior's β̃_i or the forward step's β_i (default "posterior") */
  variance: AncestralVariance;
  /** pc: the corrector's signal-to-noise ratio r (default 0.01) */
  snr: number;
  /** pc: Langevin corrections per level (default 1) */
  correctorSteps: number;
  /** langevin: the noise level σ̃ whose score is followed, 0 the clean data's (default 0) */
  sigma: number;
  /** langevin: the number of steps (default 1000) */
  langevinSteps: number;
  /** langevin: the step size η (default 0.1) */
  stepSize: number;
  /** annealed-langevin: the first (largest) σ̃ of the geometric ladder (default 20) */
  sigmaFirst: number;
  /** annealed-langevin: the last σ̃ (default 1) */
  sigmaLast: number;
  /** annealed-langevin: the number of levels L from sigmaFirst to sigmaLast (default 10) */
  levels: number;
  /** annealed-langevin: Langevin steps per level (default 100) */
  stepsPerLevel: number;
  /** annealed-langevin: ε in the step size η_i = ε σ_i²/σ_L² (default 0.1) */
  epsilon: number;
  /** annealed-langevin: a final Tweedie step x + σ_L² s(x, σ_L) (default true) */
  denoise: boolean;
  /** the Langevin samplers' start, in the model's coordinates (default: N(0, I) for langevin, N(0, sigmaFirst² I) for annealed-langevin) */
  init?: Init;
}

/** Whether A and B are the same type. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

// the schema gives exactly SamplerOptions (the interface only carries each field's documentation)
true satisfies Same<z.output<typeof samplerOptionsSchema>, SamplerOptions>;

/** One knob's name. */
export type SamplerOption = keyof SamplerOptions;

/** A sampler option the schema refuses: which one, what it takes, and the value given. */
export class SamplerOptionError extends ConfigError {
  constructor(
    readonly option: string,
    readonly expected: string,
    readonly got: unknown,
  ) {
    super(`sampler option ${option} must be ${expected}, got ${typeof got === "string" ? `"${got}"` : String(got)}`);
  }
}

/**
 * `input` checked against `samplerOptionsSchema`, with its defaults filled in; an unknown field or a
 * value out of range throws `SamplerOptionError` naming the first such field (an unknown field: a `ConfigError`).
 */
export function samplerOptions(input: SamplerOptionsInput = {}): SamplerOptions {
  const result = samplerOptionsSchema.strict().safeParse(input, { reportInput: true });
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  if (issue.code === "unrecognized_keys") {
    const known = Object.keys(samplerOptionsSchema.shape);
    throw new ConfigError(`unknown sampler option "${issue.keys[0]}" (known: ${known.join(", ")})`, {
      unknown: { name: issue.keys[0]!, known },
    });
  }
  const option = issue.path.map(String).join(".");
  throw new SamplerOptionError(option, issue.message, issue.input);
}
