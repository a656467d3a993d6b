/** `vdm schedule`: the quantities of a noise schedule, as a table or JSON. */

import { join } from "node:path";
import { exactArray } from "../../engine/index.js";
import { tree } from "../../engine/jax.js";
import { writeFileAtomic } from "../../io/atomic.js";
import { lineChart } from "../../plot/lines.js";
import { chartSvg } from "../../plot/render.js";
import { discretize, gammaWithDerivative, getSchedule, type NoiseSchedule, scheduleNames } from "../../schedule/index.js";
import { loadRun } from "../../train/load.js";
import { modelDirectory } from "../../train/shipped.js";
import { defineFlags, helpText, int, parse, UsageError } from "../args.js";
import { checkOutFile } from "../runs.js";
import { printTable } from "../table.js";

/** `vdm schedule`'s flags. */
const scheduleFlags = defineFlags("Flags", {
  schedule: { default: "cosine", value: `<${scheduleNames.join("|")}>`, help: "a fixed schedule" },
  timesteps: { default: "1000", value: "T", help: "its number of steps (0 = continuous time)", parse: int({ min: 0 }) },
  points: { default: "11", value: "P", help: "continuous time and --model: the number of times t on the grid", parse: int({ min: 2 }) },
  model: { value: "RUN", help: "the schedule of a trained run instead" },
  out: { value: "FILE.svg", help: "--model: where the chart goes (default: RUN/snr.svg)" },
});

/** The flag tables `vdm schedule` parses. */
export const flagTables = [scheduleFlags] as const;

/** One line for `vdm --help`. */
export const summary = "a noise schedule's β, α, ᾱ, SNR and posterior variance";

export const help = helpText(
  `vdm schedule --schedule S --timesteps T
vdm schedule --model RUN [--out FILE.svg] [--points P]`,
  `Prints β_t, α_t, ᾱ_t, SNR_t and the posterior variance β̃_t for t = 1..T.
With --timesteps 0 (continuous time) prints γ(t), γ'(t), ᾱ(t) and SNR(t) on a grid over [tMin, tMax].
With --model, the schedule of a trained run (a learned one as trained, EMA parameters): prints
γ_min = γ(tMin) and γ_max = γ(tMax) and γ(t) on a grid, and draws its SNR(t) on a log scale next
to the fixed schedules.`,
  ...flagTables,
);

/** The fixed schedules drawn beside a run's. */
const REFERENCES = ["linear", "cosine", "log-snr-linear"];

/** `points` times spread evenly over the schedule's [tMin, tMax], both ends included. */
function timeGrid(schedule: NoiseSchedule, points: number): number[] {
  return Array.from({ length: points }, (_, i) => schedule.tMin + ((schedule.tMax - schedule.tMin) * i) / (points - 1));
}

/** γ of `schedule` on `timeGrid(schedule, points)`, in float64. */
function gammaGrid(schedule: NoiseSchedule, points: number): { t: number[]; gamma: number[] } {
  const t = timeGrid(schedule, points);
  return { t, gamma: Array.from(schedule.gamma(exactArray(t)).dataSync() as Float64Array) };
}

function runSchedule(dir: string, flags: { out: string; points: number; json: boolean }): void {
  const { points } = flags;
  if (flags.out && !flags.out.endsWith(".svg")) throw new UsageError(`--out must be a .svg file (the chart is SVG), got "${flags.out}"`);
  if (flags.out) checkOutFile(flags.out);
  const run = loadRun(modelDirectory(dir));
  const schedule = run.process.schedule;
  const grid = gammaGrid(schedule, points);
  const [gammaMin, gammaMax] = [grid.gamma[0]!, grid.gamma[grid.gamma.length - 1]!]; // γ(tMin), γ(tMax)
  const out = flags.out || join(modelDirectory(dir), "snr.svg");
  const curve = (s: NoiseSchedule, name: string) => {
    const g = gammaGrid(s, 201);
    return { name, x: g.t, y: g.gamma.map((v) => Math.exp(-v)) };
  };
  const series = [
    curve(schedule, `${dir} (${schedule.name})`),
    ...REFERENCES.filter((n) => n !== schedule.name).map((n) => curve(getSchedule(n), n)),
  ];
  writeFileAtomic(
    out,
    chartSvg(
      lineChart(series, {
        title: `SNR(t) = exp(−γ(t)) of ${dir} and the fixed schedules`,
        xTitle: "t",
        yTitle: "SNR(t) (log scale)",
        legendTitle: "schedule",
        yLog: true,
        points: false,
      }),
    ),
  );
  tree.dispose(run.denoiser.params);
  if (flags.json) return void console.log(JSON.stringify({ model: dir, schedule: schedule.name, gammaMin, gammaMax, ...grid, chart: out }));
  console.log(
    `schedule of ${dir}: ${schedule.name}, γ_min = γ(${schedule.tMin}) = ${gammaMin.toFixed(4)}, γ_max = γ(${schedule.tMax}) = ${gammaMax.toFixed(4)}`,
  );
  printTable(
    ["t", "γ(t)", "SNR(t)"],
    grid.t.map((t, i) => [t, grid.gamma[i]!, Math.exp(-grid.gamma[i]!)]),
  );
  console.log(`wrote ${out}`);
}

export function run(argv: string[]): void {
  const flags = parse(argv, ...flagTables);
  if (flags.help) return void console.log(help);
  if (flags.model) return void runSchedule(flags.model, flags);
  const schedule = getSchedule(flags.schedule);
  const T = flags.timesteps;

  if (T === 0) {
    const t = timeGrid(schedule, flags.points);
    const [g, dg] = gammaWithDerivative(schedule, exactArray(t)).map((a) => Array.from(a.dataSync() as Float64Array));
    const rows = { t, gamma: g!, dgamma: dg!, alphaBar: g!.map((v) => 1 / (1 + Math.exp(v))), snr: g!.map((v) => Math.exp(-v)) };
    if (flags.json) return void console.log(JSON.stringify(rows));
    console.log(`schedule ${schedule.name}, continuous time on [${schedule.tMin}, ${schedule.tMax}]`);
    printTable(
      ["t", "γ(t)", "γ'(t)", "ᾱ(t)", "SNR(t)"],
      t.map((_, i) => [t[i]!, g![i]!, dg![i]!, rows.alphaBar[i]!, rows.snr[i]!]),
    );
    return;
  }

  const d = discretize(schedule, T);
  const tail = (a: Float64Array) => Array.from(a.subarray(1));
  if (flags.json) {
    console.log(
      JSON.stringify({
        beta: tail(d.beta),
        alpha: tail(d.alpha),
        alphaBar: tail(d.alphaBar),
        snr: tail(d.snr),
        posteriorVariance: tail(d.posteriorVariance),
      }),
    );
    return;
  }
  const n = Math.min(T, 10);
  const steps = [...new Set(Array.from({ length: n + 1 }, (_, k) => Math.max(1, Math.round((k * T) / n))))];
  console.log(`schedule ${schedule.name}, T = ${T} (rows at ${steps.length} of ${T} steps)`);
  printTable(
    ["t", "β_t", "α_t", "ᾱ_t", "SNR_t", "β̃_t"],
    steps.map((i) => [i, d.beta[i]!, d.alpha[i]!, d.alphaBar[i]!, d.snr[i]!, d.posteriorVariance[i]!]),
  );
}
