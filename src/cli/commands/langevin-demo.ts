/**
 * `vdm langevin-demo`: why NCSN anneals. On ncsn-gmm (0.8·N((−5,−5), I) + 0.2·N((5,5), I)), start
 * plain Langevin on the exact clean-data score and annealed Langevin on the exact noised scores
 * from the same uniform noise with the same budget of steps, and count samples per mode.
 */

import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { knownMixture } from "../../data/known.js";
import { componentFractions, componentOf, sampleMixtureWithLabels } from "../../data/mixtures.js";
import { mixtureParams, oracleModel } from "../../densities/oracle.js";
import { DiffusionProcess } from "../../diffusion/process.js";
import { Rng } from "../../engine/index.js";
import { writeFileAtomic } from "../../io/atomic.js";
import { chartPng } from "../../plot/render.js";
import { scatterChart } from "../../plot/scatter.js";
import { AnnealedLangevinSampler, LangevinSampler } from "../../sample/langevin.js";
import { geometricSigmas } from "../../sample/score.js";
import { getSchedule } from "../../schedule/index.js";
import { defineFlags, helpText, int, parse } from "../args.js";
import { Progress } from "../progress.js";
import { checkOutDir } from "../runs.js";

/** `vdm langevin-demo`'s own flags. */
const langevinDemoFlags = defineFlags("Flags", {
  n: { default: "10000", value: "N", help: "samples per sampler", parse: int({ min: 1 }) },
  steps: { default: "1000", value: "N", help: "Langevin steps in total, per sampler", parse: int({ min: 10 }) },
  out: { default: "runs/langevin-demo", value: "DIR", help: "where the picture and modes.json go" },
});

/** The flag tables `vdm langevin-demo` parses. */
export const flagTables = [langevinDemoFlags] as const;

/** One line for `vdm --help`. */
export const summary = "plain vs annealed Langevin on ncsn-gmm: mode proportions";

export const help = helpText(
  `vdm langevin-demo [--n N] [--steps N] [--out DIR]`,
  `Plain Langevin (clean-data score, η = 0.1) vs annealed Langevin with NCSN's toy settings (σ̃ from
20 to 1 over 10 levels, ε = 0.1; its samples are of the σ̃ = 1 density) on ncsn-gmm with the exact
scores, both from uniform noise on [−8, 8]² with --steps steps in total. Prints the fraction of samples per mode and writes OUT/langevin-vs-annealed.png
(plain | annealed | data) and OUT/modes.json.`,
  ...flagTables,
);

export function run(argv: string[]): void {
  const flags = parse(argv, ...flagTables);
  if (flags.help) return void console.log(help);
  checkOutDir(flags.out);
  const { n, steps } = flags;
  const seed = flags.seed;
  const mixture = knownMixture("ncsn-gmm");
  const den = { model: oracleModel("score"), params: mixtureParams(mixture) };
  const process = new DiffusionProcess(getSchedule("cosine"), 1000); // only maps levels to times; the oracle ignores t
  const init = { kind: "uniform" as const, low: [-8, -8], high: [8, 8] };
  const levels = 10;
  const plain = new LangevinSampler(process, { sigma: 0, steps, stepSize: 0.1, init });
  const annealed = new AnnealedLangevinSampler(process, {
    sigmas: geometricSigmas(20, 1, levels),
    stepsPerLevel: Math.floor(steps / levels),
    epsilon: 0.1,
    init,
    denoise: false,
  });
  // each sampler's steps count down to 0: progress is the steps taken
  const run = (label: string, s: typeof plain | typeof annealed, total: number) => {
    const progress = new Progress(label, total, 0, globalThis.process.stderr, flags.json);
    return s.sample(den, [n, 2], new Rng(seed), { onStep: (index) => progress.update(total - index) }).dataSync() as Float32Array;
  };
  const [xPlain, xAnnealed] = [
    run("plain Langevin", plain, steps),
    run("annealed Langevin", annealed, levels * Math.floor(steps / levels)),
  ];
  const result = {
    n,
    steps,
    weights: mixture.weights,
    plain: componentFractions(mixture, xPlain),
    annealed: componentFractions(mixture, xAnnealed),
    standardError: Math.sqrt((0.8 * 0.2) / n),
  };
  mkdirSync(flags.out, { recursive: true });
  const bounds = { xmin: -10, xmax: 10, ymin: -10, ymax: 10 };
  const data = sampleMixtureWithLabels(mixture, n, new Rng(seed + 1));
  // each sample coloured by the mode it is counted in, and the fractions in the titles
  const share = (f: number[]) => `modes 0 / 1: ${f.map((v) => `${(100 * v).toFixed(1)}%`).join(" / ")}`;
  const panels = [
    {
      title: "plain Langevin (clean score)",
      subtitle: share(result.plain),
      points: xPlain,
      dim: 2,
      labels: componentOf(mixture, xPlain),
      labelTitle: "mode",
    },
    {
      title: `annealed Langevin (${levels} levels)`,
      subtitle: share(result.annealed),
      points: xAnnealed,
      dim: 2,
      labels: componentOf(mixture, xAnnealed),
    },
    { title: "data", subtitle: share(mixture.weights), points: data.points, dim: 2, labels: data.labels },
  ];
  const title = `ncsn-gmm from uniform noise, ${steps} steps each; samples coloured by their mode, 0 at (−5, −5), 1 at (5, 5) (shares ± ${(100 * result.standardError).toFixed(1)}% s.e.)`;
  writeFileAtomic(join(flags.out, "langevin-vs-annealed.png"), chartPng(scatterChart(panels, { title, bounds })));
  writeFileAtomic(join(flags.out, "modes.json"), `${JSON.stringify(result, null, 2)}\n`);
  if (flags.json) return void console.log(JSON.stringify(result));
  const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
  console.log(`ncsn-gmm, ${n} samples, ${steps} steps each; true weights 80% / 20% (± ${pct(result.standardError)} s.e.)`);
  console.log(`  plain Langevin (clean score):   ${pct(result.plain[0]!)} / ${pct(result.plain[1]!)}`);
  console.log(`  annealed Langevin (10 levels): ${pct(result.annealed[0]!)} / ${pct(result.annealed[1]!)}`);
  console.log(`wrote ${join(flags.out, "langevin-vs-annealed.png")}, ${join(flags.out, "modes.json")}`);
}
