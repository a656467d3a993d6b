/** `vdm score-field`: the score ∇ log p_σ̃ as arrows over the data, one panel per noise level. */

import { loadSplit } from "../../data/index.js";
import { normalize } from "../../data/normalize.js";
import type { DiffusionProcess } from "../../diffusion/process.js";
import { filled } from "../../engine/index.js";
import { numpy as np, tree } from "../../engine/jax.js";
import { writeFileAtomic } from "../../io/atomic.js";
import { boundsOf } from "../../plot/plane.js";
import { chartPng } from "../../plot/render.js";
import { type Arrow, scoreFieldChart } from "../../plot/score-field.js";
import { gammaOfSigma, veScore } from "../../sample/score.js";
import { defineFlags, helpText, int, optionalNumberList, parse, UsageError } from "../args.js";
import { modelFlags, type ResolvedModel, resolveModel } from "../model.js";
import { checkOutFile } from "../runs.js";

/** `vdm score-field`'s own flags. */
/** The most arrows per side: a panel is 300 pixels wide, so 100 arrows get 3 pixels each; more only cost time (400 overflowed the stack). */
const MAX_GRID = 100;

const scoreFieldFlags = defineFlags("Flags", {
  out: { value: "FILE.png", help: "where the picture goes (required)" },
  sigmas: {
    value: "LIST",
    help: "the levels σ̃, one panel each (default: 0,1,5 for the oracle; for a trained model its least noisy level σ̃_min, 1, 5)",
    parse: optionalNumberList({ min: 0 }),
  },
  grid: { default: "21", value: "G", help: `arrows per side of the grid, at most ${MAX_GRID}`, parse: int({ min: 2, max: MAX_GRID }) },
});

/** The flag tables `vdm score-field` parses, in the order its help lists them. */
export const flagTables = [scoreFieldFlags, modelFlags] as const;

/** One line for `vdm --help`. */
export const summary = "the score as arrows over the data at chosen noise levels";

export const help = helpText(
  `vdm score-field --model <DIR|oracle> [--data D] --out FILE.png [--sigmas LIST] [--grid G]`,
  `Draws the VE score ∇_x log p_σ̃(x) on a grid over the data for each σ̃ in --sigmas (in the
model's normalised coordinates), over held-out points. σ̃ = 0 is the clean data, whose score only
the oracle knows; a trained model learned the score at its levels σ̃ = e^{γ/2} from the least
noisy, σ̃_min, to the most noisy, σ̃_max, and draws only those.`,
  ...flagTables,
);

/** The levels σ̃ = e^{γ/2} a trained model learned the score at: from its least noisy latent (the reconstruction term's) to its most noisy (the prior term's). */
function learnedSigmas(process: DiffusionProcess): { min: number; max: number } {
  return { min: Math.exp(process.reconstructionLevel().gamma / 2), max: Math.exp(process.priorLevel().gamma / 2) };
}

/** The default panels: σ̃ = 0, 1, 5 for the oracle (exact at every level); for a trained model its σ̃_min, then 1 and 5 where it learned them. */
function defaultSigmas(resolved: ResolvedModel): number[] {
  if (resolved.oracle) return [0, 1, 5];
  const { min, max } = learnedSigmas(resolved.process);
  return [min, ...[1, 5].filter((s) => s > min && s <= max)];
}

/** A UsageError naming the levels of `sigmas` a trained model did not learn (σ̃ = 0 included: its score there is undefined, −ε̂/σ with σ = 0). */
function checkLearned(sigmas: number[], { min, max }: { min: number; max: number }): void {
  const outside = sigmas.filter((s) => !(s >= min * (1 - 1e-9) && s <= max * (1 + 1e-9)));
  if (outside.length === 0) return;
  const range = `σ̃ from ${min.toPrecision(3)} (its least noisy level) to ${max.toPrecision(3)}`;
  throw new UsageError(
    `--sigmas ${outside.join(",")}: a trained model learned the score only at ${range}${outside.includes(0) ? "; at σ̃ = 0 (the clean data) its score is undefined (−ε̂/σ with σ = 0): only --model oracle draws it" : ""}`,
  );
}

export function run(argv: string[]): void {
  const flags = parse(argv, ...flagTables);
  if (flags.help) return void console.log(help);
  if (!flags.out.endsWith(".png")) throw new UsageError(`--out must be a .png file, got "${flags.out}"`);
  checkOutFile(flags.out);
  const { sigmas: requested, grid: G } = flags;
  const resolved = resolveModel(flags);
  if (resolved.dim !== 2) throw new UsageError(`score-field draws 2-D data; the model has ${resolved.dim} dimensions`);
  const sigmas = requested ?? defaultSigmas(resolved);
  const learned = resolved.oracle ? undefined : learnedSigmas(resolved.process);
  if (learned) checkLearned(sigmas, learned);
  const test = loadSplit(resolved.data, resolved.seed).test;
  const z = resolved.normalization;
  const b = boundsOf(test.points, 0.15);
  const grid = new Float32Array(G * G * 2);
  for (let i = 0; i < G; i++)
    for (let j = 0; j < G; j++)
      grid.set([b.xmin + ((b.xmax - b.xmin) * i) / (G - 1), b.ymin + ((b.ymax - b.ymin) * j) / (G - 1)], (i * G + j) * 2);
  const panels = sigmas.map((sigma) => {
    const gamma = gammaOfSigma(sigma);
    const n = G * G;
    const s = veScore(
      resolved.denoiser.model,
      tree.ref(resolved.denoiser.params),
      np.array(normalize(grid, z)).reshape([n, 2]),
      filled(n, resolved.process.timeOfGamma(gamma)),
      filled(n, gamma),
    ).dataSync() as Float32Array;
    // score in data coordinates: ∂/∂x = (1/std) ∂/∂x'; arrows scaled so that the longest is 0.9 of a grid cell
    const scores = Array.from({ length: n }, (_, k) => [s[2 * k]! / z.std[0]!, s[2 * k + 1]! / z.std[1]!] as const);
    const longest = scores.reduce((m, [u, v]) => Math.max(m, Math.hypot(u, v)), 1e-12);
    const scale = (0.9 * Math.min(b.xmax - b.xmin, b.ymax - b.ymin)) / (G - 1) / longest;
    const arrows: Arrow[] = scores.map(([u, v], k) => ({ x: grid[2 * k]!, y: grid[2 * k + 1]!, dx: u * scale, dy: v * scale }));
    return { title: `σ̃ = ${Number(sigma.toPrecision(3))}${sigma === learned?.min ? " (least noisy)" : ""}`, arrows };
  });
  const model = flags.model === "oracle" ? `the oracle of ${resolved.data}` : flags.model;
  writeFileAtomic(
    flags.out,
    chartPng(
      scoreFieldChart(panels, test.points, {
        title: `score ∇ log p_σ̃(x) of ${model} over held-out data (arrows scaled per panel)`,
        bounds: b,
      }),
    ),
  );
  if (flags.json) console.log(JSON.stringify({ written: flags.out, sigmas }));
  else console.log(`wrote ${flags.out} (σ̃ = ${sigmas.map((s) => Number(s.toPrecision(3))).join(", ")})`);
}
