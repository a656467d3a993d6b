// Seconds per 64 Fashion-MNIST images, a pixel run against a latent run (the latent sampler's steps, then
// decoding through the autoencoder), the same sampler, steps and guidance, in ONNX Runtime; the models
// alternate round by round so both see the same machine. Run after `npm run build`:
//   node bench/latent-speed.mjs --threads 2 --rounds 3 PIXEL_RUN LATENT_RUN [...more runs]
import { parseArgs } from "node:util";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { threads: { type: "string", default: "2" }, rounds: { type: "string", default: "3" }, scale: { type: "string", default: "4" } },
});
const dist = new URL("../dist/", import.meta.url).href;
const { initEngine, Rng } = await import(`${dist}engine/index.js`);
await initEngine();
const { resolveModel } = await import(`${dist}cli/model.js`);
const { drawSamples } = await import(`${dist}eval/run.js`);
const { defaultSampler } = await import(`${dist}sample/by-name.js`);
const { guidedDenoiser } = await import(`${dist}cli/guidance.js`);

const n = 64;
const models = positionals.map((model) => {
  const r = resolveModel({ model, data: "", schedule: "", timesteps: undefined, backend: "onnx", "onnx-threads": Number(values.threads), "onnx-spin": "auto" });
  // classifier-free guidance at w, classes 0..9 in turn (the default use of a conditional model)
  const classes = Int32Array.from({ length: n }, (_, i) => i % 10);
  const sampler = defaultSampler(r.process);
  const run = () => {
    const t0 = performance.now();
    const denoiser = guidedDenoiser(r, { guidance: "cfg" }, classes, Number(values.scale));
    drawSamples(denoiser, r.process, { shape: r.shape, normalization: r.normalization, latent: r.latent, n, batch: n, rng: new Rng(1), sampler });
    return (performance.now() - t0) / 1000;
  };
  run(); // warm-up: the export and the session
  return { model, run, sampler: `${sampler.name} (${sampler.nfe} levels)`, seconds: [] };
});
for (let k = 0; k < Number(values.rounds); k++) for (const m of models) m.seconds.push(m.run());
for (const m of models) {
  const sorted = [...m.seconds].sort((a, b) => a - b);
  console.log(JSON.stringify({ model: m.model, sampler: m.sampler, guidance: Number(values.scale), threads: Number(values.threads), secondsPer64: sorted[Math.floor(sorted.length / 2)], all: m.seconds }));
}
