// Reference values for the PyTorch twins' parity tests, computed by vdm's own code (the built dist/):
//   node python/tests/dump.mjs RUN OUT [--batch B] [--seed S]
// For the run's checkpoint RUN, draws x_0, ε ~ N(0, I) (x_0 rounded to the 8-bit grid for the discretised
// decoder) and u ~ U[0, 1) from Rng(S) and writes to OUT (.npy, float32): x0, eps, u; for each weighting w in
// simple, elbo: t_w, gamma_w, xt_w (the levels of DiffusionProcess.levelsFromUniform, from the chain's γ table
// in discrete time: gamma_table.npy), pred_w (the network's prediction with the training parameters),
// pred_ema_w (with the EMA), loss_w (the per-example training loss with the training parameters);
// labels.npy (int32) for a conditional model (labels b mod (classes + 1), index classes = "no label", which
// the last example always has), fourier.npy when the MLP has Fourier features (not stored in checkpoints), and meta.json.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { qSample } from "../../dist/diffusion/forward.js";
import { initEngine, Rng, shutdownEngine } from "../../dist/engine/index.js";
import { jit, numpy as np, tree } from "../../dist/engine/jax.js";
import { loadCheckpointState, readCheckpointConfig } from "../../dist/io/checkpoint.js";
import { npyBytes } from "../../dist/io/npy.js";
import { encodeSafetensors } from "../../dist/io/safetensors.js";
import { namedLeaves } from "../../dist/io/state.js";
import { fourierFrequencies } from "../../dist/models/mlp.js";
import { isLearnedSchedule } from "../../dist/schedule/index.js";
import { stepScalars } from "../../dist/train/adam.js";
import { buildModel, buildProcess, dataShape, initParams, splitParams } from "../../dist/train/build.js";
import { validateRunConfig } from "../../dist/train/config.js";
import { trainingLoss } from "../../dist/train/objectives/diffusion.js";
import { runObjective } from "../../dist/train/objectives/index.js";
import { batchOf } from "../../dist/train/objectives/objective.js";
import { trainStep } from "../../dist/train/step.js";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { batch: { type: "string", default: "64" }, seed: { type: "string", default: "7" } },
});
const [run, out] = positionals;
if (!run || !out) throw new Error("usage: node python/tests/dump.mjs RUN OUT [--batch B] [--seed S]");
const B = Number(values.batch);

await initEngine("wasm");
const config = readCheckpointConfig(run, validateRunConfig);
const state = loadCheckpointState(run, initParams(config, new Rng(0)));
const model = buildModel(config);
const process = buildProcess(config, state.params);
const network = splitParams(config, state.params).network;
const ema = splitParams(config, state.ema).network;
mkdirSync(out, { recursive: true });
const save = (name, a) => {
  const shape = a.shape;
  writeFileSync(join(out, `${name}.npy`), npyBytes(Float32Array.from(a.dataSync()), shape));
};

const rng = new Rng(Number(values.seed));
const shape = [B, ...dataShape(config)];
// the discretised decoder (a learned schedule's reconstruction term on images) needs x_0 on its 256-level grid
const onGrid = (x) =>
  np
    .floor(np.clip(x, -1, 1).mul(127.5).add(128))
    .mul(1 / 127.5)
    .sub(1);
const x0 = config.data.decoder === "discretized" ? onGrid(rng.normal(shape)) : rng.normal(shape);
const eps = rng.normal(shape);
const u = rng.uniform([B]);
save("x0", x0.ref);
save("eps", eps.ref);
save("u", u.ref);
// a conditional model sees labels 0, 1, …, classes (= "no label", classifier-free guidance's), cyclically,
// and the last example "no label" whatever B (a U-Net case's B = 4 < classes + 1)
const labelIds = Int32Array.from({ length: B }, (_, b) => (b === B - 1 ? model.classes : b % (model.classes + 1)));
const labels = () => (model.classes > 0 ? np.array(labelIds, { dtype: np.int32 }) : undefined);
if (model.classes > 0) writeFileSync(join(out, "labels.npy"), npyBytes(labelIds, [B]));
for (const weighting of ["simple", "elbo"]) {
  const { t, gamma, weight } = process.levelsFromUniform(u.ref, process.gammaTable(), weighting);
  weight.dispose();
  const xt = qSample(x0.ref, gamma.ref, eps.ref);
  save(`t_${weighting}`, t.ref);
  save(`gamma_${weighting}`, gamma.ref);
  save(`xt_${weighting}`, xt.ref);
  save(`pred_${weighting}`, model.apply(tree.ref(network), xt.ref, t.ref, gamma.ref, labels()));
  save(`pred_ema_${weighting}`, model.apply(tree.ref(ema), xt, t, gamma, labels()));
  save(
    `loss_${weighting}`,
    trainingLoss(model, process, weighting, tree.ref(network), x0.ref, eps.ref, u.ref, process.gammaTable(), labels()),
  );
}
// one training step (the run's objective, runObjective: a learned schedule's VDM objective or the denoising loss;
// AdamW at step k = the checkpoint's step, EMA) on this batch: step.safetensors holds grad.* (the whole
// parameter tree's gradient) and params.*, adam.m.*, adam.v.*, ema.* after it; meta.json its loss and variance
const objective = runObjective(config);
const s = stepScalars(config.adam, state.step);
const batch = () =>
  batchOf(isLearnedSchedule(config.schedule) ? null : process, x0.ref, eps.ref, u.ref, labels() ?? np.zeros([B], { dtype: np.int32 }));
const tensors = {};
const add = (tree_, prefix) => {
  for (const [name, a] of namedLeaves(tree_, prefix)) tensors[name] = { shape: a.shape, data: Float32Array.from(a.dataSync()) };
};
// trainStep's own evaluation of the objective, jitted as the trainer's step is (eagerly a learned schedule's
// takes 30 s on a small U-Net), its gradient recorded on the way
const jitted = jit(objective);
const recorded = (params, b) => {
  const value = jitted(params, b);
  add(tree.ref(value.grads), "grad");
  return value;
};
const next = trainStep(recorded, config.adam)(
  tree.ref(state.params),
  { m: tree.ref(state.adam.m), v: tree.ref(state.adam.v) },
  tree.ref(state.ema),
  batch(),
  np.array(s.lr),
  np.array(s.correction1),
  np.array(s.correction2),
  np.array(s.emaDecay),
);
add(next.params, "params");
add(next.adam.m, "adam.m");
add(next.adam.v, "adam.v");
add(next.ema, "ema");
const stepped = { step: state.step, loss: next.loss.dataSync()[0], variance: next.variance.dataSync()[0], ...s };
jitted.dispose();
writeFileSync(join(out, "step.safetensors"), encodeSafetensors(tensors));
if (process.chain) save("gamma_table", np.array(Float32Array.from(process.chain.gamma)));
const mlp = config.model.kind === "mlp" ? config.model.mlp : null;
const frequencies = mlp ? fourierFrequencies(mlp) : null;
if (frequencies) save("fourier", frequencies);
writeFileSync(join(out, "meta.json"), `${JSON.stringify({ run, batch: B, seed: Number(values.seed), step: stepped })}\n`);
tree.dispose([x0, eps, u, state.params, state.ema, state.adam]);
await shutdownEngine();
