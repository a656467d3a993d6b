/** `vdm schedule`: the quantities of a noise schedule, as a table or JSON. */
import { exactArray } from "../../engine/index.js";
import { discretize, gammaWithDerivative, getSchedule, scheduleNames } from "../../schedule/index.js";
import { intFlag, parse } from "../args.js";

export const help = `vdm schedule --schedule <${scheduleNames.join("|")}> --timesteps T [--json]

Prints β_t, α_t, ᾱ_t, SNR_t and the posterior variance β̃_t for t = 1..T.
With --timesteps 0 (continuous time) prints γ(t), γ'(t), ᾱ(t) and SNR(t) on a grid over [tMin, tMax].`;

export function run(argv: string[]): void {
  const flags = parse(argv, { schedule: "cosine", timesteps: "1000", points: "11" });
  if (flags.help) return void console.log(help);
  const schedule = getSchedule(flags.schedule);
  const T = intFlag("timesteps", flags.timesteps, { min: 0 });

  if (T === 0) {
    const n = intFlag("points", flags.points, { min: 2 });
    const t = Array.from({ length: n }, (_, i) => schedule.tMin + ((schedule.tMax - schedule.tMin) * i) / (n - 1));
    const [g, dg] = gammaWithDerivative(schedule, exactArray(t)).map((a) => Array.from(a.dataSync() as Float64Array));
    const rows = { t, gamma: g!, dgamma: dg!, alphaBar: g!.map((v) => 1 / (1 + Math.exp(v))), snr: g!.map((v) => Math.exp(-v)) };
    if (flags.json) return void console.log(JSON.stringify(rows));
    console.log(`schedule ${schedule.name}, continuous time on [${schedule.tMin}, ${schedule.tMax}]`);
    printTable(["t", "γ(t)", "γ'(t)", "ᾱ(t)", "SNR(t)"], t.map((_, i) => [t[i]!, g![i]!, dg![i]!, rows.alphaBar[i]!, rows.snr[i]!]));
    return;
  }

  const d = discretize(schedule, T);
  const tail = (a: Float64Array) => Array.from(a.subarray(1));
  if (flags.json) {
    console.log(JSON.stringify({
      beta: tail(d.beta),
      alpha: tail(d.alpha),
      alphaBar: tail(d.alphaBar),
      snr: tail(d.snr),
      posteriorVariance: tail(d.posteriorVariance),
    }));
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

export function printTable(header: string[], rows: number[][]): void {
  const fmt = (v: number) => (Number.isInteger(v) && Math.abs(v) < 1e6 ? String(v) : v.toPrecision(6));
  const cells = [header, ...rows.map((r) => r.map(fmt))];
  const widths = header.map((_, j) => Math.max(...cells.map((r) => r[j]!.length)));
  for (const r of cells) console.log(r.map((c, j) => c.padStart(widths[j]!)).join("  "));
}
