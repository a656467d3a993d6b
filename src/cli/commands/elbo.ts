/** `vdm elbo`: the ELBO's three terms for the exact denoiser of a known density, and its gap to log p. */

import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { loadSplit } from "../../data/index.js";
import { knownMixture } from "../../data/known.js";
import { sampleMixture } from "../../data/mixtures.js";
import { normalize } from "../../data/normalize.js";
import { mixtureParams, oracleModel } from "../../densities/oracle.js";
import { type ChainEstimatorName, chainEstimatorNames, ElboEstimator } from "../../diffusion/elbo.js";
import { DiffusionProcess } from "../../diffusion/process.js";
import { Rng } from "../../engine/index.js";
import { type Array, numpy as np } from "../../engine/jax.js";
import { type EstimatorStudy, studyElboEstimators } from "../../eval/elbo-variance.js";
import { type ElboReport, elboReport } from "../../eval/likelihood.js";
import { writeFileAtomic } from "../../io/atomic.js";
import { lineChart } from "../../plot/lines.js";
import { chartSvg } from "../../plot/render.js";
import { getSchedule, scheduleNames } from "../../schedule/index.js";
import { defineFlags, helpText, int, intList, optional, optionalInt, type Parsed, parseGiven, refuseGiven, UsageError } from "../args.js";
import { backendFlags, mixtureFileHelp, oracleDataHelp, resolveModel } from "../model.js";
import { formatSeconds, Progress } from "../progress.js";
import { checkOutDir } from "../runs.js";
import { printTable } from "../table.js";

/** --data for the oracle when not given. */
const ORACLE_DATA = "gaussian";

/** --timesteps and --n when not given: the term table's, and --estimators'. */
const TERMS = { timesteps: [10, 100, 1000, 0], n: 4000 };
const ESTIMATORS = { timesteps: [1, 10, 100, 1000], n: 500 };

/** --estimators: a comma-separated list of the chain estimators' names. */
function estimatorList(raw: string, name: string): ChainEstimatorName[] {
  const names = raw.split(",").map((e) => e.trim()) as ChainEstimatorName[];
  for (const e of names)
    if (!chainEstimatorNames.includes(e))
      throw new UsageError(`--${name}: unknown estimator "${e}" (known: ${chainEstimatorNames.join(", ")})`);
  return names;
}

/** `vdm elbo`'s flags. */
const elboFlags = defineFlags(
  "Flags",
  {
    data: { value: "D", help: `the data: ${oracleDataHelp} (default: ${ORACLE_DATA}; a trained run: its own)` },
    model: { default: "oracle", value: "oracle|RUN", help: "the exact denoiser, or (--estimators only) a trained run" },
    schedule: { default: "log-snr-linear", value: `<${scheduleNames.join("|")}>`, help: "the oracle's noise schedule" },
    timesteps: {
      value: "LIST",
      help: `the numbers of steps T to compare, 0 = continuous time (default: ${TERMS.timesteps}; --estimators: ${ESTIMATORS.timesteps})`,
      parse: optional(intList({ min: 0 })),
    },
    n: { value: "N", help: `points (default: ${TERMS.n}; --estimators: ${ESTIMATORS.n} examples)`, parse: optionalInt({ min: 2 }) },
    samples: { default: "64", value: "K", help: "continuous time: draws of t per point", parse: int({ min: 1 }) },
    estimators: {
      value: "LIST",
      help: `compare these estimators (${chainEstimatorNames.join(", ")}) instead`,
      parse: optional(estimatorList),
    },
    draws: { default: "8", value: "K", help: "--estimators: draws of the forward chain per example", parse: int({ min: 2 }) },
    out: { default: "runs/elbo-estimators", value: "DIR", help: "--estimators: where the charts and elbo-estimators.json go" },
  },
  mixtureFileHelp,
);

/** The flag tables `vdm elbo` parses, in the order its help lists them. */
export const flagTables = [elboFlags, backendFlags] as const;

/** One line for `vdm --help`. */
export const summary = "the ELBO's three terms for the exact denoiser of a known density";

export const help = helpText(
  `vdm elbo --data D [--model oracle] [--schedule S] [--timesteps LIST] [--n N] [--samples K]
vdm elbo --estimators LIST [--model oracle|RUN] [--data D] [--timesteps LIST] [--n N] [--draws K] [--out DIR]`,
  `For data with a closed-form density, evaluates the ELBO of the exact (oracle) denoiser on n fresh
points for each number of timesteps (0 = continuous time): reconstruction, prior and diffusion
terms in nats, bits/dim, the exact log-likelihood and the gap log p(x_0) − ELBO. Discrete
diffusion terms are summed exactly over t; continuous time averages --samples draws of t.

With --estimators, compares the derivation's estimators of the discrete ELBO for any model (the
oracle, or a trained run on its test data, its schedule discretised to each T) from --draws
independent draws of the forward chain x_1..x_T per example:
  denoising       the denoising-matching terms KL(q(x_{t−1}|x_t,x_0) ‖ p_θ(x_{t−1}|x_t)), one latent each;
  consistency     the first derivation's terms log q(x_t|x_{t−1}) − log p_θ(x_t|x_{t+1}) at the chain's
                  latents (three per term), and the prior KL(q(x_T|x_{T−1}) ‖ N(0, I));
  consistency-kl  the first derivation read literally: KL(q(x_t|x_{t−1}) ‖ p_θ(x_t|x_{t+1})) in closed
                  form given x_{t−1} and x_{t+1} (not the ELBO: x_{t+1} was drawn from x_t).
For each T: −ELBO ± standard error, the variance across draws of the all-terms estimate (every
term from one chain), the variance of the one-term estimate (T − 1)·ℓ_t that training uses, and
OUT/variance-T<T>.svg with each term's variance per t; OUT/elbo-estimators.json holds it all.`,
  ...flagTables,
);

export function run(argv: string[]): void {
  const { values: flags, given } = parseGiven(argv, ...flagTables);
  if (flags.help) return void console.log(help);
  if (flags.estimators) {
    refuseGiven(given, ["samples"], "continuous time's draws of t, which --estimators (discrete chains) does not take");
    if (flags.model !== "oracle") refuseGiven(given, ["schedule"], `the oracle's; the run ${flags.model} has its own`);
  } else refuseGiven(given, ["draws", "out"], "--estimators only (the term table is printed)");
  // the oracle's data default to "gaussian"; a trained run's to its own
  if (flags.model === "oracle") flags.data ||= ORACLE_DATA;
  if (flags.estimators) return void compareEstimators(flags, flags.estimators);
  if (flags.model !== "oracle")
    throw new UsageError(
      `--model "${flags.model}": the term table is for the exact denoiser (--model oracle); --estimators compares the estimators for any model`,
    );
  const mixture = knownMixture(flags.data);
  const schedule = getSchedule(flags.schedule);
  const { timesteps = TERMS.timesteps, n = TERMS.n, samples } = flags;
  const rng = new Rng(flags.seed);

  const x0 = sampleMixture(mixture, n, rng);
  const params = mixtureParams(mixture);
  // progress over the diffusion terms of every T: T − 1 of them in discrete time, --samples draws in continuous time
  const terms = timesteps.reduce((sum, T) => sum + (T === 0 ? samples : T - 1), 0);
  const progress = new Progress(`ELBO (diffusion terms of T = ${timesteps.join(", ")})`, terms, 0, process.stderr, flags.json);
  let done = 0;
  const reports: ElboReport[] = timesteps.map((T) => {
    const estimator = new ElboEstimator(oracleModel("eps"), new DiffusionProcess(schedule, T), "gaussian");
    return elboReport(estimator, params, x0, rng, { mode: "exact", samples, onTerm: () => progress.update(++done) }, params);
  });
  x0.dispose();

  if (flags.json) {
    console.log(JSON.stringify({ data: flags.data, schedule: schedule.name, n, reports }));
    return;
  }
  console.log(`ELBO of the exact denoiser, ${flags.data} data (${n} points), schedule ${schedule.name}; costs in nats`);
  printTable(
    ["T", "reconstruction", "prior", "diffusion", "-ELBO", "bits/dim", "-log p", "gap", "± s.e."],
    reports.map((r) => [
      r.timesteps,
      r.terms.reconstruction,
      r.terms.prior,
      r.terms.diffusion,
      r.nats,
      r.bpd,
      -r.logLikelihood!,
      r.gap!,
      r.gapStdError!,
    ]),
  );
  console.log("T = 0 is continuous time; gap = log p(x_0) − ELBO, averaged over the points.");
}

/** `vdm elbo --estimators`: the derivation's estimators side by side (see the help). */
function compareEstimators(flags: Parsed<typeof flagTables>, names: ChainEstimatorName[]): void {
  checkOutDir(flags.out);
  const { timesteps = ESTIMATORS.timesteps, n = ESTIMATORS.n, draws } = flags;
  // a chain has at least one step
  const T0 = timesteps.find((T) => T < 1);
  if (T0 !== undefined) throw new UsageError(`--timesteps must be an integer >= 1, got "${T0}"`);
  const rng = new Rng(flags.seed);
  // the oracle on --schedule in continuous time (discretised to each T below); a run has its own schedule
  const resolved = resolveModel({ ...flags, ...(flags.model === "oracle" ? { timesteps: 0 } : { schedule: "", timesteps: undefined }) });
  if (resolved.latent)
    throw new UsageError(
      `${flags.model} is a latent model: vdm eval --model ${flags.model} reports its bound (the latent ELBO is its prior part)`,
    );
  let x0: Array;
  if (resolved.oracle) {
    x0 = sampleMixture(knownMixture(flags.data), n, rng);
  } else {
    const data = resolved.dataConfig!;
    const test = loadSplit(
      resolved.data,
      resolved.seed,
      resolved.shape.length === 3 ? { train: 1, test: n, dataDir: data.dataDir ?? "" } : {},
    ).test;
    const m = Math.min(n, test.n);
    x0 = np.array(normalize(test.points, resolved.normalization).subarray(0, m * test.dim)).reshape([m, ...resolved.shape]);
  }
  const decoder = resolved.dataConfig?.decoder ?? "gaussian";
  const studies: EstimatorStudy[] = timesteps.map((T) => {
    const estimator = new ElboEstimator(resolved.denoiser.model, new DiffusionProcess(resolved.process.schedule, T), decoder);
    const started = performance.now();
    const study = studyElboEstimators(estimator, resolved.denoiser.params, x0, { rng, draws });
    if (!flags.json)
      console.error(
        `T = ${T}: ${draws} draws of the chain for ${study.examples} examples in ${formatSeconds((performance.now() - started) / 1000)}`,
      );
    return study;
  });
  x0.dispose();
  const label = flags.model === "oracle" ? `the exact denoiser of ${flags.data}` : flags.model;
  const written: string[] = [];
  mkdirSync(flags.out, { recursive: true });
  for (const study of studies.filter((s) => s.timesteps > 1)) {
    const series = names.map((name) => {
      const { t, variance } = study.estimators[name].perT;
      return { name, x: t, y: variance.map((v) => (v > 0 ? v : NaN)) };
    });
    const file = join(flags.out, `variance-T${study.timesteps}.svg`);
    writeFileAtomic(
      file,
      chartSvg(
        lineChart(series, {
          title: `Variance of each ELBO term across draws of the chain: ${label}, T = ${study.timesteps}`,
          xTitle: "t (the term's latent x_t)",
          yTitle: "variance per example (nats², log scale)",
          legendTitle: "estimator",
          xLog: true,
          yLog: true,
          points: study.timesteps <= 100,
        }),
      ),
    );
    written.push(file);
  }
  const result = { model: flags.model, data: resolved.data, schedule: resolved.process.schedule.name, draws, studies };
  writeFileAtomic(join(flags.out, "elbo-estimators.json"), `${JSON.stringify(result, null, 2)}\n`);
  written.push(join(flags.out, "elbo-estimators.json"));
  if (flags.json) return void console.log(JSON.stringify(result));
  console.log(
    `ELBO estimators of ${label} (schedule ${result.schedule}, ${studies[0]!.examples} examples, ${draws} draws of the chain each); nats`,
  );
  printTable(
    ["T", "estimator", "-ELBO", "± s.e.", "var (all terms, one chain)", "var (one term)"],
    studies.flatMap((s) =>
      names.map((name) => {
        const e = s.estimators[name];
        return [s.timesteps, name, e.nats, e.stdError, e.chainVariance, e.oneTermVariance];
      }),
    ),
  );
  console.log(`wrote ${written.join(", ")}`);
}
