/** `vdm score-field`: the score ∇ log p_σ̃ as arrows over the data, one panel per noise level. */
import { filled } from "../../engine/index.js";
import { numpy as np, tree } from "../../engine/jax.js";
import { loadSplit } from "../../data/index.js";
import { normalize } from "../../data/normalize.js";
import { writeFileAtomic } from "../../io/atomic.js";
import { boundsOf, scoreFieldChart, type Arrow } from "../../plot/charts.js";
import { chartPng } from "../../plot/render.js";
import { gammaOfSigma, veScore } from "../../sample/score.js";
import { defineFlags, helpText, intFlag, numberListFlag, parse, UsageError } from "../args.js";
import { modelFlags, resolveModel } from "../model.js";

/** `vdm score-field`'s own flags. */
const scoreFieldFlags = defineFlags("Flags", {
  out: { value: "FILE.png", help: "where the picture goes (required)" },
  sigmas: { default: "0,1,5", value: "LIST", help: "the levels σ̃, one panel each" },
  grid: { default: "21", value: "G", help: "arrows per side of the grid" },
});

/** The flag tables `vdm score-field` parses, in the order its help lists them. */
export const flagTables = [scoreFieldFlags, modelFlags] as const;

/** One line for `vdm --help`. */
export const summary = "the score as arrows over the data at chosen noise levels";

export const help = helpText(
  `vdm score-field --model <DIR|oracle> [--data D] --out FILE.png [--sigmas LIST] [--grid G]`,
  `Draws the VE score ∇_x log p_σ̃(x) on a grid over the data for each σ̃ in --sigmas (in the
model's normalised coordinates; 0 = the clean data, for the oracle), over held-out points.`,
  ...flagTables,
);

export function run(argv: string[]): void {
  const flags = parse(argv, ...flagTables);
  if (flags.help) return void console.log(help);
  if (!flags.out.endsWith(".png")) throw new UsageError(`--out must be a .png file, got "${flags.out}"`);
  const sigmas = numberListFlag("sigmas", flags.sigmas, { min: 0 });
  const G = intFlag("grid", flags.grid, { min: 2 });
  const resolved = resolveModel(flags);
  if (resolved.dim !== 2) throw new UsageError(`score-field draws 2-D data; the model has ${resolved.dim} dimensions`);
  const test = loadSplit(resolved.data, resolved.seed).test;
  const z = resolved.normalization;
  const b = boundsOf(test.points, 0.15);
  const grid = new Float32Array(G * G * 2);
  for (let i = 0; i < G; i++) for (let j = 0; j < G; j++) grid.set([b.xmin + ((b.xmax - b.xmin) * i) / (G - 1), b.ymin + ((b.ymax - b.ymin) * j) / (G - 1)], (i * G + j) * 2);
  const panels = sigmas.map((sigma) => {
    const gamma = gammaOfSigma(sigma);
    const n = G * G;
    const s = veScore(resolved.denoiser.model, tree.ref(resolved.denoiser.params), np.array(normalize(grid, z)).reshape([n, 2]), filled(n, resolved.process.timeOfGamma(gamma)), filled(n, gamma)).dataSync() as Float32Array;
    // score in data coordinates: ∂/∂x = (1/std) ∂/∂x'; arrows scaled so that the longest is 0.9 of a grid cell
    const scores = Array.from({ length: n }, (_, k) => [s[2 * k]! / z.std[0]!, s[2 * k + 1]! / z.std[1]!] as const);
    const longest = Math.max(...scores.map(([u, v]) => Math.hypot(u, v)), 1e-12);
    const scale = (0.9 * Math.min(b.xmax - b.xmin, b.ymax - b.ymin)) / (G - 1) / longest;
    const arrows: Arrow[] = scores.map(([u, v], k) => ({ x: grid[2 * k]!, y: grid[2 * k + 1]!, dx: u * scale, dy: v * scale }));
    return { title: `σ̃ = ${sigma}`, arrows };
  });
  const model = flags.model === "oracle" ? `the oracle of ${resolved.data}` : flags.model;
  writeFileAtomic(flags.out, chartPng(scoreFieldChart(panels, test.points, { title: `score ∇ log p_σ̃(x) of ${model} over held-out data (arrows scaled per panel)`, bounds: b })));
  if (flags.json) console.log(JSON.stringify({ written: flags.out, sigmas }));
  else console.log(`wrote ${flags.out} (σ̃ = ${sigmas.join(", ")})`);
}
