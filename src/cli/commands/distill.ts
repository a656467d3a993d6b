/**
 * `vdm distill`: progressive distillation (Salimans & Ho 2022) of a trained denoiser into one that
 * samples in a few DDIM steps: rounds N → N/2 → … → --to-steps, each an ordinary run of the trainer
 * (checkpoints, --resume) in OUT/round-N/, and the last round's student in OUT itself.
 */

import { existsSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import type { PointSet } from "../../data/sets.js";
import type { DiffusionProcess } from "../../diffusion/process.js";
import { Rng } from "../../engine/index.js";
import { tree } from "../../engine/jax.js";
import { energyDistance } from "../../eval/energy.js";
import { imageQuality } from "../../eval/quality.js";
import { drawSamples, referenceSample } from "../../eval/run.js";
import { writeFileAtomic } from "../../io/atomic.js";
import { readCheckpointConfig, saveWeights } from "../../io/checkpoint.js";
import { onnxStepper } from "../../onnx/train.js";
import { DdimSampler } from "../../sample/ddim.js";
import type { Denoiser } from "../../sample/sampler.js";
import { normalizationOf, trainedModel } from "../../train/build.js";
import { type RunConfig, validateRunConfig } from "../../train/config.js";
import { distillationConfig, distillDefaults, loadTeacher } from "../../train/distill.js";
import { loadRun } from "../../train/load.js";
import { distilledSpacing } from "../../train/objectives/distill.js";
import { modelDirectory } from "../../train/shipped.js";
import { trainAsync } from "../../train/trainer.js";
import {
  asUsage,
  defineFlags,
  helpText,
  Interrupted,
  int,
  nonNegative,
  optional,
  optionalInt,
  parseGiven,
  positive,
  UsageError,
} from "../args.js";
import { reportBatches } from "../images.js";
import { backendFlags, parseBackend, type ResolvedModel, resolveModel } from "../model.js";
import { Progress } from "../progress.js";
import { imageJudge, qualityGuidance } from "../quality.js";
import { checkOutDir, stopOnCtrlC } from "../runs.js";
import { runSplit } from "../training.js";

/** How many samples each round's quality figure draws when --n is not given. */
const ROUND_N = { points: 2000, images: 500 };

const distillFlags = defineFlags("Flags", {
  model: { value: "DIR", help: "the teacher: a trained denoiser's run directory (required)" },
  out: { value: "DIR", help: "where the rounds (DIR/round-N/) and the final student (DIR itself) go (required)" },
  "from-steps": {
    default: distillDefaults.fromSteps,
    value: "N",
    help: "the teacher's DDIM steps: the first student takes N/2",
    parse: int({ min: 2 }),
  },
  "to-steps": { default: distillDefaults.toSteps, value: "N", help: "the last student's DDIM steps", parse: int({ min: 1 }) },
  "steps-per-round": {
    default: distillDefaults.stepsPerRound,
    value: "K",
    help: "training steps of each round",
    parse: int({ min: 1 }),
  },
  lr: { value: "LR", help: "the learning rate (default: the teacher's)", parse: optional(positive) },
  "ema-decay": { default: distillDefaults.emaDecay, value: "D", help: "the students' EMA decay", parse: positive },
  "cfg-scale": {
    value: "W",
    help: "a conditional teacher: classifier-free guidance w folded into its predictions (default: none, labels pass through)",
    parse: optional(nonNegative),
  },
  n: {
    value: "N",
    help: `samples per round for its quality figure (default: ${ROUND_N.points} for 2-D data, ${ROUND_N.images} for images)`,
    parse: optionalInt({ min: 2 }),
  },
  resume: { type: "boolean", help: "continue the distillation in --out: finished rounds are kept, the one in progress resumes" },
  force: { type: "boolean", help: "replace the distillation in --out" },
  quiet: { type: "boolean", help: "no progress bars" },
});

/** The flag tables `vdm distill` parses, in the order its help lists them. */
export const flagTables = [distillFlags, backendFlags] as const;

/** One line for `vdm --help`. */
export const summary = "progressive distillation: a denoiser that samples in a few DDIM steps";

export const help = helpText(
  `vdm distill --model RUN --out DIR [--from-steps ${distillDefaults.fromSteps}] [--to-steps ${distillDefaults.toSteps}] [--steps-per-round K] [--resume | --force]`,
  `Progressive distillation (Salimans & Ho 2022): the teacher's deterministic DDIM sampler on N = --from-steps
levels t_k = t_min + (t_max − t_min)·k/N ("trailing") is halved round by round. Each round trains a
student, started from its teacher's weights, to take in one DDIM step from z_t (t on the student's grid)
the two steps its teacher takes: its x̂_0(z_t) regresses x̃ = (z_t'' − (σ_t''/σ_t)·z_t)/(α_t'' − (σ_t''/σ_t)·α_t),
with the paper's truncated-SNR weight max(α_t²/σ_t², 1). Round N is a run in DIR/round-N/ (its teacher
the round before, the first's RUN); DIR holds the last student, which vdm sample --model DIR samples
with DDIM on its own N levels unless told otherwise. After every round it prints the student's steps,
its loss and a quality figure of --n samples: for 2-D data the energy distance to the held-out points
beside the noise floor and beside the teacher's own DDIM at the same steps; for images the Fréchet
distance to as many test images in the shipped Fashion-MNIST classifier's features beside its noise
floor, and, for a conditional student (classes 0..K−1 in turn, sampled as vdm sample samples it), the
classifier's class accuracy. DIR/metrics.json holds them.`,
  ...flagTables,
);

/** The rounds' student steps: from/2, from/4, …, to (from = to·2^k). */
function roundSteps(from: number, to: number): number[] {
  const steps: number[] = [];
  for (let n = from / 2; n >= to && Number.isInteger(n); n /= 2) steps.push(n);
  if (steps.at(-1) !== to)
    throw new UsageError(`--from-steps ${from} must be --to-steps ${to} times a power of two (at least 2), e.g. ${to * 2 ** 4}`);
  return steps;
}

/**
 * Energy distance of n DDIM samples (N trailing levels) to the held-out points, drawn from seed + 11 as
 * `vdm nfe` draws them (the seed itself made the data: samples from its stream would be correlated with
 * them). Borrows the denoiser.
 */
function ddimEnergy(den: Denoiser, process: DiffusionProcess, config: RunConfig, test: PointSet, steps: number, n: number, seed: number) {
  const sampler = new DdimSampler(process, { steps, spacing: distilledSpacing });
  const x = drawSamples(den, process, {
    shape: [config.data.dim],
    n,
    normalization: normalizationOf(config),
    rng: new Rng(seed + 11),
    sampler,
  });
  return energyDistance(x, test.points, config.data.dim);
}

/**
 * An image student's quality: n samples on its own N DDIM levels (a conditional student classes
 * 0..K−1 in turn, with the guidance vdm sample gives it by default: none when it carries its own),
 * drawn from seed + 11 as vdm nfe draws them; the Fréchet distance to the judge's test images in the
 * shipped classifier's features, its noise floor, and the class accuracy.
 */
function studentImageQuality(student: ResolvedModel, judge: ReturnType<typeof imageJudge>, n: number, seed: number, quiet: boolean) {
  const { den, labels } = qualityGuidance(student, { guidance: "", classifier: "", scale: undefined }, n);
  const x = drawSamples(den, student.process, {
    normalization: student.normalization,
    shape: student.shape,
    n,
    rng: new Rng(seed + 11),
    sampler: new DdimSampler(student.process, { steps: student.native!.steps, spacing: distilledSpacing }),
    ...reportBatches("round's samples", n, quiet),
  });
  const { frechet, noiseFloor, accuracy } = imageQuality(judge.net, x, judge.reference, labels ? { labels } : {});
  return { frechet, noiseFloor, ...(accuracy !== undefined ? { accuracy } : {}) };
}

export async function run(argv: string[]): Promise<void> {
  const { values: flags, given } = parseGiven(argv, ...flagTables);
  if (flags.help) return void console.log(help);
  if (!flags.model) throw new UsageError("--model RUN is required: the trained denoiser to distill");
  if (!flags.out) throw new UsageError("--out DIR is required (where the rounds and the final student go)");
  if (flags.resume && flags.force)
    throw new UsageError("--resume continues the distillation in --out and --force replaces it: give one of them");
  const out = flags.out;
  checkOutDir(out);
  const rounds = roundSteps(flags["from-steps"], flags["to-steps"]);
  const roundDir = (steps: number) => join(out, `round-${steps}`);
  const started = existsSync(join(out, "config.json")) || rounds.some((s) => existsSync(roundDir(s)));
  if (flags.resume && !existsSync(join(roundDir(rounds[0]!), "config.json")))
    throw new UsageError(`--resume: ${out} holds no distillation to continue (no ${roundDir(rounds[0]!)}/config.json)`);
  if (!flags.resume && started && !flags.force)
    throw new UsageError(`${out} already holds a distillation; --resume continues it, --force replaces it, or choose another --out`);
  const teacherDir = resolve(asUsage(() => modelDirectory(flags.model)));
  const teacher = loadRun(teacherDir);
  const image = (teacher.config.data.shape ?? []).length === 3;
  if (flags.force && !flags.resume) {
    for (const s of rounds) rmSync(roundDir(s), { recursive: true, force: true });
    for (const name of ["config.json", "state.safetensors", "metrics.json"]) rmSync(join(out, name), { force: true });
  }
  const split = runSplit(teacher.config);
  const backend = parseBackend(flags);
  const n = flags.n ?? (image ? ROUND_N.images : ROUND_N.points);
  let judge: ReturnType<typeof imageJudge> | undefined;
  const test = split.test;
  const noiseFloor = image
    ? undefined
    : energyDistance(referenceSample(teacher.config.data.spec, split.train, n, flags.seed).points, test.points, teacher.config.data.dim);
  const teacherEnergy = (steps: number) =>
    image ? undefined : ddimEnergy(teacher.denoiser, teacher.process, teacher.config, test, steps, n, flags.seed);
  const fromEnergy = teacherEnergy(flags["from-steps"]);
  if (fromEnergy !== undefined)
    console.log(
      `teacher, ${flags["from-steps"]} DDIM steps: energy distance ${fromEnergy.toExponential(2)} (noise floor ${noiseFloor!.toExponential(2)})`,
    );
  const metrics: Record<string, unknown>[] = [];
  let previous = { dir: teacherDir, config: teacher.config };
  let last: RunConfig | undefined;
  for (const [r, steps] of rounds.entries()) {
    const dir = resolve(roundDir(steps));
    const resume = flags.resume && existsSync(join(dir, "config.json"));
    const config = resume
      ? readCheckpointConfig(dir, validateRunConfig)
      : asUsage(() =>
          distillationConfig(previous.config, previous.dir, steps, {
            trainSteps: flags["steps-per-round"],
            emaDecay: flags["ema-decay"],
            ...(flags.lr !== undefined ? { lr: flags.lr } : {}),
            ...(flags["cfg-scale"] !== undefined ? { guidance: flags["cfg-scale"] } : {}),
          }),
        );
    if (resume && config.distill?.teacher !== previous.dir)
      throw new UsageError(
        `--resume: ${dir} was distilled from ${config.distill?.teacher}, not ${previous.dir} (--model and --from-steps as first given)`,
      );
    if (resume && given.has("steps-per-round") && config.steps !== flags["steps-per-round"])
      throw new UsageError(`--resume: ${dir} trains ${config.steps} steps; a started round keeps its --steps-per-round`);
    const teacherParams = loadTeacher(config);
    const t0 = performance.now();
    let progress: Progress | undefined;
    const result = await stopOnCtrlC((signal) =>
      trainAsync(config, split.train, {
        checkpointDir: dir,
        resume,
        signal,
        teacher: teacherParams,
        onProgress: (p) => {
          progress ??= new Progress(`round ${r + 1}/${rounds.length} (${steps} steps)`, p.steps, p.firstStep, process.stderr, flags.quiet);
          progress.update(p.step, p.loss, p.variance);
        },
        ...(backend.onnx ? { makeStepper: onnxStepper(backend.session) } : {}),
      }),
    );
    tree.dispose(teacherParams);
    if (!result.completed)
      throw new Interrupted(
        `stopped by Ctrl-C at step ${result.state.step} of ${config.steps} of round ${r + 1} (its checkpoint in ${dir}). Resume with:\n  vdm distill ${argv.filter((a) => a !== "--force" && a !== "--resume").join(" ")} --resume`,
      );
    const { state } = result;
    const losses = state.losses.slice(-100);
    const finalLoss = losses.reduce((a, b) => a + b, 0) / Math.max(1, losses.length);
    const student = trainedModel(config, state.ema);
    const energy = image ? undefined : ddimEnergy(student.denoiser, student.process, config, test, steps, n, flags.seed);
    let quality: ReturnType<typeof studentImageQuality> | undefined;
    if (image) {
      const resolved = resolveModel({
        model: dir,
        data: "",
        schedule: "",
        timesteps: undefined,
        backend: flags.backend,
        "onnx-threads": flags["onnx-threads"],
      });
      judge ??= imageJudge(resolved, n);
      quality = studentImageQuality(resolved, judge, n, flags.seed, flags.quiet);
    }
    const teacherAtSteps = teacherEnergy(steps);
    const seconds = (performance.now() - t0) / 1000;
    metrics.push({
      steps,
      trainSteps: config.steps,
      finalLoss,
      seconds,
      ...(energy !== undefined ? { energyDistance: energy, teacherDdim: teacherAtSteps, noiseFloor } : {}),
      ...(quality ?? {}),
    });
    console.log(
      `round ${r + 1}/${rounds.length}: ${steps} DDIM steps, loss ${finalLoss.toExponential(2)}` +
        (energy !== undefined
          ? `, energy distance ${energy.toExponential(2)} (the teacher's DDIM at ${steps} steps ${teacherAtSteps!.toExponential(2)}, noise floor ${noiseFloor!.toExponential(2)})`
          : "") +
        (quality
          ? `, Fréchet distance ${quality.frechet.toFixed(1)} (noise floor ${quality.noiseFloor.toFixed(1)})${quality.accuracy === undefined ? "" : `, class accuracy ${(100 * quality.accuracy).toFixed(1)} %`}`
          : ""),
    );
    if (r === rounds.length - 1) saveWeights(out, config, state.ema);
    tree.dispose([state.params, state.adam, state.ema]);
    previous = { dir, config };
    last = config;
  }
  writeFileAtomic(
    join(out, "metrics.json"),
    `${JSON.stringify({ teacher: teacherDir, fromSteps: flags["from-steps"], teacherEnergyDistance: fromEnergy, noiseFloor, rounds: metrics }, null, 2)}\n`,
  );
  console.log(`${out}: a student of ${last!.distill!.steps} DDIM steps (vdm sample --model ${out} samples with them)`);
}
