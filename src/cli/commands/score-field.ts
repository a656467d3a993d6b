/** `vdm score-field`: the score ∇ log p_σ̃ as arrows over the data, one panel per noise level. */
import { numpy as np, tree } from "../../engine/jax.js";
import { loadSplit } from "../../data/index.js";
import { normalize } from "../../data/normalize.js";
import { writeFileAtomic } from "../../io/atomic.js";
import { Canvas, formatNumber } from "../../plot/canvas.js";
import { boundsOf, scatter, strip } from "../../plot/plots.js";
import { gammaOfSigma, veScore } from "../../sample/score.js";
import { intFlag, parse, UsageError } from "../args.js";
import { oracleFlags, resolveModel } from "../model.js";

export const help = `vdm score-field --model <DIR|oracle> [--data D] --out FILE.png [--sigmas 0,1,5] [--grid 21]

Draws the VE score ∇_x log p_σ̃(x) on a grid over the data for each σ̃ in --sigmas (in the
model's normalised coordinates; 0 = the clean data, for the oracle), over held-out points.`;

export function run(argv: string[]): void {
  const flags = parse(argv, { model: "", data: "", out: "", sigmas: "0,1,5", grid: "21", ...oracleFlags });
  if (flags.help) return void console.log(help);
  if (!flags.out.endsWith(".png")) throw new UsageError(`--out must be a .png file, got "${flags.out}"`);
  const resolved = resolveModel(flags);
  if (resolved.dim !== 2) throw new UsageError(`score-field draws 2-D data; the model has ${resolved.dim} dimensions`);
  const sigmas = flags.sigmas.split(",").map(Number);
  if (sigmas.some((s) => !(s >= 0))) throw new UsageError(`--sigmas must be non-negative numbers, got "${flags.sigmas}"`);
  const G = intFlag("grid", flags.grid, { min: 2 });
  const test = loadSplit(resolved.data, resolved.seed).test;
  const z = resolved.normalization;
  const b = boundsOf(test.points, 0.15);
  const grid = new Float32Array(G * G * 2);
  for (let i = 0; i < G; i++) for (let j = 0; j < G; j++) grid.set([b.xmin + ((b.xmax - b.xmin) * i) / (G - 1), b.ymin + ((b.ymax - b.ymin) * j) / (G - 1)], (i * G + j) * 2);
  const size = 400, pad = 24;
  const px = (x: number) => pad + ((x - b.xmin) / (b.xmax - b.xmin)) * (size - 2 * pad);
  const py = (y: number) => size - pad - ((y - b.ymin) / (b.ymax - b.ymin)) * (size - 2 * pad);
  const panels = sigmas.map((sigma) => {
    const gamma = gammaOfSigma(sigma);
    const n = G * G;
    const s = veScore(resolved.denoiser.model, tree.ref(resolved.denoiser.params), np.array(normalize(grid, z)).reshape([n, 2]), np.full([n], resolved.process.timeOfGamma(gamma)), np.full([n], gamma)).dataSync() as Float32Array;
    const panel: Canvas = scatter(test.points, 2, { bounds: b, size });
    // score in data coordinates: ∂/∂x = (1/std) ∂/∂x'; arrows scaled to the largest, one cell long
    const arrows = Array.from({ length: n }, (_, k) => [s[2 * k]! / z.std[0]!, s[2 * k + 1]! / z.std[1]!] as const);
    const longest = Math.max(...arrows.map(([u, v]) => Math.hypot(u, v)), 1e-12);
    const cell = (size - 2 * pad) / (G - 1);
    arrows.forEach(([u, v], k) => {
      const [x, y] = [px(grid[2 * k]!), py(grid[2 * k + 1]!)];
      const scale = (0.9 * cell) / longest;
      panel.line(x, y, x + u * scale, y - v * scale, [200, 40, 40]);
      panel.disc(x + u * scale, y - v * scale, 1.2, [200, 40, 40]);
    });
    panel.text(`${formatNumber(sigma)}`, size - 60, 4, [200, 40, 40]);
    return panel;
  });
  writeFileAtomic(flags.out, strip(panels).png());
  if (flags.json) console.log(JSON.stringify({ written: flags.out, sigmas }));
  else console.log(`wrote ${flags.out} (σ̃ = ${sigmas.join(", ")})`);
}
