/**
 * Export a model's network to ONNX (any jax-js function can be; here the moons MLP at its initial
 * parameters), write it to a file, and, when onnxruntime-node is installed, run the same network
 * in ONNX Runtime and compare its prediction with jax-js's.
 *
 *   node dist-examples/export-onnx.js [out = mlp.onnx]
 */
import { writeFileSync } from "node:fs";
import { buildModel, initEngine, initParams, loadSplit, onnx, Rng, runConfigFor, shutdownEngine } from "vdm";
import { numpy as np, tree } from "vdm/jax";

const out = process.argv[2] ?? "mlp.onnx";
await initEngine();
const config = runConfigFor("moons", loadSplit("moons", 0, { train: 1000, test: 100 }));
const model = buildModel(config);
const params = initParams(config, new Rng(0));
const bytes = onnx.exportModel(model, params, [16, 2]);
writeFileSync(out, bytes);
const rng = new Rng(1);
const [x, t] = [rng.normal([16, 2]), rng.uniform([16])];
const gamma = np.full([16], -2);
const ours = model.apply(tree.ref(params), x.ref, t.ref, gamma.ref).dataSync() as Float32Array;
let maxDifference: number | null = null;
if (onnx.onnxRuntimeLoads().loaded) {
  const theirs = onnx.onnxModel(model, params);
  const predicted = theirs.apply(tree.ref(params), x, t, gamma).dataSync() as Float32Array;
  maxDifference = Math.max(...predicted.map((v, i) => Math.abs(v - ours[i]!)));
  theirs.close();
}
console.log(JSON.stringify({ file: out, bytes: bytes.length, maxDifference }));
await shutdownEngine();
