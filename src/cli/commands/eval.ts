/** `vdm eval`: bits/dim with the three ELBO terms and the energy distance on held-out data. */
import { Rng } from "../../engine/index.js";
import { loadSplit } from "../../data/index.js";
import { evaluate, heldOutElbo, referenceSample } from "../../eval/run.js";
import { intFlag, parse } from "../args.js";
import { reportBatches } from "./images.js";
import { backendFlags, backendHelp, oracleFlags, resolveModel, type ResolvedModel } from "../model.js";
import { makeSampler, samplerFlags, samplerHelp } from "../samplers.js";

export const help = `vdm eval --model <DIR|oracle> [--data D] [--n 1000] [--seed S] [--json] [--backend jax|onnx]
         [--sampler NAME and its flags]   oracle only: [--schedule S] [--timesteps T]
         images: [--data-dir DIR] [--elbo-samples 16]

On held-out points of D (default: the checkpoint's data): −ELBO in nats and bits/dim with its
reconstruction, prior and diffusion terms, and the energy distance between n fresh samples and the
held-out points, next to the same distance between two independent data samples (noiseFloor).
Image models: bits/dim with the discretised 8-bit decoder and the three terms on the first n test
images (from --data-dir, default the run's), each with --elbo-samples draws of t.

${samplerHelp}

${backendHelp}`;

export function run(argv: string[]): void {
  const flags = parse(argv, { model: "", data: "", n: "1000", "data-dir": "", "elbo-samples": "16", ...samplerFlags, ...oracleFlags, ...backendFlags });
  if (flags.help) return void console.log(help);
  const resolved = resolveModel(flags);
  if (resolved.shape.length === 3) return evalImages(resolved, flags);
  // the held-out split of the run's own seed; --seed drives the samples
  const split = loadSplit(resolved.data, resolved.seed);
  const seed = intFlag("seed", flags.seed, { min: 0 });
  if (split.test.dim !== resolved.dim) throw new Error(`data "${resolved.data}" have ${split.test.dim} dimensions, the model ${resolved.dim}`);
  const n = intFlag("n", flags.n, { min: 2 });
  const reference = referenceSample(resolved.data, split.train, n, resolved.seed);
  const sampler = makeSampler(flags, resolved.process, resolved.normalization);
  const ev = evaluate(resolved.denoiser, resolved.process, resolved.normalization, split.test, reference, new Rng(seed + 1), n, sampler);
  const out = { bpd: ev.bpd, nats: ev.nats, terms: ev.terms, energyDistance: ev.energyDistance, noiseFloor: ev.noiseFloor };
  if (flags.json) return void console.log(JSON.stringify(out));
  console.log(`${resolved.data}: ${ev.bpd.toFixed(4)} bits/dim = ${ev.nats.toFixed(4)} nats (reconstruction ${ev.terms.reconstruction.toFixed(4)}, prior ${ev.terms.prior.toFixed(5)}, diffusion ${ev.terms.diffusion.toFixed(4)})`);
  console.log(`energy distance ${ev.energyDistance.toExponential(3)} (noise floor ${ev.noiseFloor.toExponential(3)})`);
}

function evalImages(resolved: ResolvedModel, flags: { n: string; seed: string; "data-dir": string; "elbo-samples": string; json: boolean }): void {
  const data = resolved.dataConfig!;
  const n = intFlag("n", flags.n, { min: 1 });
  const test = loadSplit(resolved.data, resolved.seed, { train: 1, test: n, dataDir: flags["data-dir"] || data.dataDir || "" }).test;
  if (test.dim !== resolved.dim) throw new Error(`data "${resolved.data}" have ${test.dim} pixels per image, the model ${resolved.dim}`);
  const started = performance.now();
  const elbo = heldOutElbo(resolved.denoiser, resolved.process, resolved.normalization, test, new Rng(intFlag("seed", flags.seed, { min: 0 }) + 1), {
    decoder: data.decoder ?? "discretized",
    samples: intFlag("elbo-samples", flags["elbo-samples"], { min: 1 }),
    ...reportBatches("eval (test bits/dim)", test.n, flags.json),
  });
  const out = { ...elbo, testImages: test.n, seconds: (performance.now() - started) / 1000 };
  if (flags.json) return void console.log(JSON.stringify(out));
  console.log(`${resolved.data}: ${elbo.bpd.toFixed(4)} bits/dim on ${test.n} test images = ${elbo.nats.toFixed(1)} nats (reconstruction ${elbo.terms.reconstruction.toFixed(2)}, prior ${elbo.terms.prior.toFixed(3)}, diffusion ${elbo.terms.diffusion.toFixed(1)})`);
}
