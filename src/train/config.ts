/**
 * A run's configuration — what `config.json` holds — as a zod schema: its TypeScript type
 * (`RunConfig`) and its validator (`validateRunConfig`), whose every problem is a `ConfigError`
 * naming the field, what it must be and the value found. The network's part is its kind's
 * (models/kinds.ts).
 */

import { z } from "zod";
import type { Target } from "../diffusion/parameterization.js";
import { targets } from "../diffusion/parameterization.js";
import { ConfigError } from "../errors.js";
import { count, expecting, list, MAX_DIM, MAX_WIDTH, number, oneOf, optionalText, positiveInt, text } from "../models/fields.js";
import { kindNames, type ModelSpec, networkKinds } from "../models/kinds.js";
import { isLearnedSchedule, learnedScheduleKinds, scheduleNames } from "../schedule/index.js";

const object = <S extends z.core.$ZodLooseShape>(shape: S) => z.object(shape, expecting("an object"));
const probability = number({ min: 0, max: 1, what: "a probability in [0, 1]" });
const seed = number({ min: 0, max: 2 ** 32 - 1, integer: true, what: "an integer in [0, 2^32)" });
const nonNegative = (what: string) => number({ min: 0, what });
const nonNegativeInt = number({ min: 0, integer: true, what: "a non-negative integer" });
const finite = number({ what: "a finite number" });

/** The data of a run and their normalisation x' = (x − mean)/std. */
const dataSchema = object({
  /** built-in name or file path */
  spec: text(),
  dim: count(MAX_DIM),
  /** x_normalised = (x − mean)/std, per dimension (or per channel: a divisor of dim entries) */
  mean: list("finite numbers", () => true),
  std: list("positive numbers", (x) => x > 0),
  train: nonNegativeInt,
  test: nonNegativeInt,
  /** the CSV column holding labels, if any */
  labelColumn: optionalText(),
  /** where an image set was read from */
  dataDir: optionalText(),
  /** one example's shape when not a flat vector (images: [rows, cols, channels]) */
  shape: list("positive integers", positiveInt(MAX_DIM), { maxLength: 8 }).optional(),
  /** the decoder p(x_0 | x_1): "discretized" for 8-bit images (default "gaussian") */
  decoder: oneOf(["gaussian", "discretized"]).optional(),
}).superRefine((data, ctx) => {
  const issue = (path: string, message: string, input: unknown) =>
    ctx.addIssue({ code: "custom", continue: false, path: [path], message, input });
  const { dim, mean, std, shape } = data;
  if (mean.length > dim) issue("mean", `must have at most ${dim} entries`, mean);
  else if (std.length !== mean.length) issue("std", `must have ${mean.length} entries`, std);
  else if (dim % mean.length !== 0) issue("mean", `must have one entry per dimension (${dim}) or a divisor of it`, mean);
  else if (shape && shape.reduce((a, b) => a * b, 1) !== dim) issue("shape", `must hold data.dim = ${dim} values`, shape);
});

/** Each kind's config under its name, as the model spec holds it. */
const kindSchemas: Record<string, z.ZodType> = Object.fromEntries(
  kindNames.map((name) => [name, z.object({ [name]: networkKinds[name]!.schema })]),
);

/** The network: a kind of the table and, under the kind's name, its config (that kind's schema). */
const modelSchema = z.looseObject({ kind: oneOf(kindNames) }, expecting("an object")).superRefine((model, ctx) => {
  const parsed = kindSchemas[model.kind].safeParse(model, { reportInput: true });
  for (const i of parsed.error?.issues ?? [])
    ctx.addIssue({ code: "custom", continue: false, path: i.path, message: i.message, input: i.input });
});

const adamSchema = object({
  lr: number({ min: 0, above: true, what: "a positive number" }),
  beta1: number({ min: 0, max: 1, below: true, what: "a number in [0, 1)" }),
  beta2: number({ min: 0, max: 1, below: true, what: "a number in [0, 1)" }),
  eps: nonNegative("a non-negative number"),
  weightDecay: nonNegative("a non-negative number"),
  /** max global gradient norm (0 = no clipping) */
  clipNorm: nonNegative("a non-negative number (0 = no clipping)"),
  /** linear learning-rate warm-up over this many steps */
  warmup: nonNegativeInt,
  /**
   * cosine decay after the warm-up: lr·(f + (1 − f)·½(1 + cos(π k/steps))) at step k, then lr·f
   * from `steps` on (absent: constant)
   */
  decay: object({
    kind: oneOf(["cosine"]),
    steps: count(),
    final: number({ min: 0, max: 1, what: "a fraction in [0, 1]" }),
  }).optional(),
  emaDecay: number({ min: 0, max: 1, what: "a number in [0, 1]" }),
});

/** A learned schedule's starting point: its endpoints and (for "learned") the monotone network's hidden units. */
const learnedInitSchema = object({ gammaMin: finite, gammaMax: finite, hidden: count(MAX_WIDTH) }).superRefine((init, ctx) => {
  if (!(init.gammaMin < init.gammaMax))
    ctx.addIssue({
      code: "custom",
      continue: false,
      path: ["gammaMax"],
      message: `must exceed gammaMin = ${init.gammaMin}`,
      input: init.gammaMax,
    });
});

/**
 * A latent run's autoencoder: the VDM models z ~ q(z|x) of the autoencoder whose config and EMA
 * weights the run holds under DIR/autoencoder/ (train/latent.ts); the run's data are those latents.
 */
const latentSchema = object({
  /** where the autoencoder was read from when the run was made (a record; the run reads its own copy) */
  autoencoder: text(),
  /** one latent's shape [rows, cols, channels]: the run's data.shape */
  shape: list("positive integers", positiveInt(MAX_DIM), { length: 3 }),
});

/**
 * A distilled run (progressive distillation, train/objectives/distill.ts): a student of `steps`
 * deterministic DDIM steps trained to land where two of its teacher's land; `vdm sample` samples it
 * with this sampler on these levels unless told otherwise.
 */
const distillSchema = object({
  /** the teacher's run directory, read when the student trains or resumes (the same network) */
  teacher: text(),
  /** the student's own number of steps N (its teacher's: 2N) */
  steps: count(MAX_DIM),
  /** the sampler it is distilled for: DDIM with η = 0 */
  sampler: oneOf(["ddim"]),
  /** where its N levels lie: t_k = t_min + (t_max − t_min)·k/N (capped at σ̃_max) */
  spacing: oneOf(["trailing"]),
  /** classifier-free guidance w the student's predictions carry, folded into its first teacher's (absent: none) */
  guidance: nonNegative("a non-negative number").optional(),
  /** true when the teacher is itself a student carrying `guidance` (a later round): its predictions are taken as they are */
  teacherGuided: z.literal(true).optional(),
});

/**
 * A run's full configuration, as stored in its config.json: data and normalisation, model,
 * prediction target, loss weighting, schedule, timesteps (0 = continuous), optimiser and steps.
 */
export const runConfigSchema = z
  .object(
    {
      format: z.literal("vdm-run-1", { error: `must be "vdm-run-1" (an unknown format)` }),
      /** what is trained: a denoiser (default) or a noise-aware classifier p_φ(y | x_t, t) */
      task: oneOf(["denoiser", "classifier"]).optional(),
      /**
       * a classifier of clean data x_0 only (γ = −∞ in training and use; not noise-aware): the CNN,
       * the feature network of the sample-quality metrics
       */
      clean: z.boolean(expecting("true or false")).optional(),
      /** probability of dropping a label to "no label" while training a conditional denoiser */
      cfgDropout: probability.optional(),
      data: dataSchema,
      model: modelSchema,
      target: oneOf(targets as readonly Target[] as [Target, ...Target[]]),
      loss: oneOf(["simple", "elbo"]),
      /** a fixed schedule's name, or "learned" / "learned-linear" (trained with the denoiser) */
      schedule: oneOf([...scheduleNames, ...learnedScheduleKinds] as string[] as [string, ...string[]]),
      /**
       * a learned schedule's starting point; the network is then conditioned on γ, normalised by
       * these initial endpoints (gammaConditioned), and the run's parameters are { denoiser, schedule }
       */
      learnedSchedule: learnedInitSchema.optional(),
      /** 0 = continuous time */
      timesteps: number({ min: 0, max: MAX_DIM, integer: true, what: `a non-negative integer (0 = continuous time; at most ${MAX_DIM})` }),
      batch: count(MAX_DIM),
      steps: count(),
      seed,
      adam: adamSchema,
      checkpointEvery: count(),
      /** a latent diffusion run: the autoencoder whose latents are the data (absent: the data themselves) */
      latent: latentSchema.optional(),
      /** a distilled run: its teacher and its own sampler (absent: trained on the data's denoising loss) */
      distill: distillSchema.optional(),
    },
    expecting("a JSON object"),
  )
  .superRefine((c, ctx) => {
    if (isLearnedSchedule(c.schedule) && !c.learnedSchedule)
      ctx.addIssue({ code: "custom", continue: false, path: ["learnedSchedule"], message: "is missing (an object)", input: undefined });
    if (c.latent && c.latent.shape.join(",") !== (c.data.shape ?? []).join(","))
      ctx.addIssue({ code: "custom", continue: false, path: ["latent", "shape"], message: "must equal data.shape", input: c.latent.shape });
    const path = `model.${c.model.kind}`;
    const kind = networkKinds[c.model.kind]!;
    kind.check?.(
      c.model[c.model.kind],
      { dim: c.data.dim, task: c.task ?? "denoiser", path, schedule: c.schedule },
      (field, message, input) => ctx.addIssue({ code: "custom", continue: false, path: field.split("."), message, input }),
    );
  });

/**
 * A run's full configuration, as stored in its config.json (see `runConfigSchema`); its network is
 * a `ModelSpec` of the kinds' table.
 */
export type RunConfig = Omit<z.infer<typeof runConfigSchema>, "model"> & { model: ModelSpec };

/** A value in a config error: numbers as JavaScript writes them, short strings and flat lists as JSON, else a description. */
function shownValue(v: unknown): string {
  if (v === undefined) return "nothing";
  if (globalThis.Array.isArray(v))
    return v.length <= 8 && v.every((x) => typeof x === "number") ? `[${v.join(", ")}]` : `an array of ${v.length}`;
  if (typeof v === "object" && v !== null) return "an object";
  const s = typeof v === "string" ? JSON.stringify(v) : String(v);
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}

/** A zod issue's path as a dotted field name: `model.mlp.dim`, `data.std[1]`. */
function fieldName(path: readonly PropertyKey[]): string {
  return path.map((k, i) => (typeof k === "number" ? `[${k}]` : `${i > 0 ? "." : ""}${String(k)}`)).join("");
}

/**
 * A run's config (what `config.json` holds, parsed) checked field by field against `RunConfig`:
 * the first problem is a `ConfigError` naming `source`, the field (a dotted path) and what is
 * wrong, with the value found. Fields it does not know are left alone. Returns `value`, typed.
 *
 * @example
 * ```ts
 * const config = validateRunConfig(JSON.parse(readFileSync("runs/moons/config.json", "utf8")));
 * ```
 */
export function validateRunConfig(value: unknown, source = "run config"): RunConfig {
  const parsed = runConfigSchema.safeParse(value, { reportInput: true });
  if (parsed.success) return value as RunConfig;
  const issue = parsed.error.issues[0]!;
  const field = fieldName(issue.path);
  throw new ConfigError(`${source}: ${field ? `field "${field}"` : "the config"} ${issue.message}, got ${shownValue(issue.input)}`);
}
