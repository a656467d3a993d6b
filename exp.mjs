import { initEngine, Rng } from "./dist/engine/index.js";
import { numpy as np, tree } from "./dist/engine/jax.js";
import { adamInit, stepScalars } from "./dist/train/adam.js";
import { buildProcess, dataShape, initParams, makeRunConfig } from "./dist/train/config.js";
import { trainStep, runLoss, makeTrainStep } from "./dist/train/trainer.js";
import { exportOnnxOutputs } from "./dist/onnx/export.js";
import { OnnxSession } from "./dist/onnx/runtime.js";
await initEngine("wasm");
const which = process.argv[2] ?? "mlp";
const config = which === "mlp"
  ? makeRunConfig({ spec: "bench-2d", dim: 2, mean: [0, 0], std: [1, 1], train: 0, test: 0 }, { hidden: 256, layers: 4, batch: 1024, steps: 1000 })
  : makeRunConfig({ spec: "fashion-mnist", dim: 784, mean: [127.5], std: [127.5], train: 0, test: 0, shape: [28, 28, 1] }, { batch: Number(process.argv[3] ?? 32), steps: 1000 });
const rng = new Rng(0);
const proc = buildProcess(config);
const body = trainStep(runLoss(config, proc), config.adam);
const params = initParams(config, rng);
const adam = adamInit(params);
const ema = tree.map((p) => p.ref.add(0), params);
const shape = [config.batch, ...dataShape(config)];
const batch = () => ({ x0: rng.normal(shape), eps: rng.normal(shape), u: proc.uniforms(rng, config.batch), table: proc.gammaTable() ?? np.zeros([0]), labels: np.zeros([config.batch], { dtype: np.int32 }) });
const s = stepScalars(config.adam, 5);
const args = [params, adam, ema, batch(), np.array([s.lr]).reshape([]), np.array([s.correction1]).reshape([]), np.array([s.correction2]).reshape([]), np.array([s.emaDecay]).reshape([])];
const [leaves, def] = tree.flatten(args);
console.log("leaves", leaves.length, leaves.slice(-8).map(l => l.shape + l.dtype));
let outDef;
const flat = (...ls) => { const [o, d] = tree.flatten(body(...tree.unflatten(def, ls))); outDef = d; return o; };
let t0 = performance.now();
const inputs = leaves.map((l, i) => ({ name: "i" + i, shape: l.shape, dtype: l.dtype }));
const probe = tree.flatten(tree.map(l => l.ref, args))[0];
const P = tree.leaves(params).length;
const outNames = Array.from({ length: 4 * P + 1 }, (_, i) => "o" + i);
const bytes = exportOnnxOutputs(flat, inputs, outNames);
console.log("export ms", performance.now() - t0, "MB", bytes.length / 1e6);
t0 = performance.now();
const session = new OnnxSession(bytes, { threads: 1 });
console.log("session ms", performance.now() - t0);
const host = (a) => ({ data: a.dtype === "int32" ? a.ref.dataSync() : Float32Array.from(a.ref.dataSync()), dims: [...a.shape] });
const feeds = Object.fromEntries(leaves.map((l, i) => ["i" + i, host(l)]));
for (let r = 0; r < 4; r++) { t0 = performance.now(); const o = session.runAll ? 0 : session.run(feeds, "o" + (4 * P)); console.log("ort step ms (loss only fetched)", (performance.now() - t0).toFixed(1), o.data[0]); }
const step = makeTrainStep(runLoss(config, proc), config.adam);
const ref = step(...tree.map(l => l.ref, args));
console.log("jax loss", ref.loss.dataSync()[0]);
import { makeJaxpr } from "./dist/engine/jax.js";
import { tracingFor } from "./dist/engine/tracing.js";
const { jaxpr } = tracingFor({ export: true }, () => makeJaxpr(flat)(...leaves.map(l => np.zeros(l.shape, { dtype: l.dtype }))));
const j = jaxpr.jaxpr.flatten().simplify();
const cnt = {};
for (const e of j.eqns) { if (e.primitive === "dot") { const k = e.inputs.map(a => "[" + a.aval.shape + "]").join("·"); cnt[k] = (cnt[k] ?? 0) + 1; } }
console.log(cnt);
const prim = {}; for (const e of j.eqns) prim[e.primitive] = (prim[e.primitive] ?? 0) + 1; console.log(prim);
const ort = await import("onnxruntime-node");
const fs = await import("node:fs");
for (const f of fs.readdirSync("/tmp").filter(n => n.startsWith("ortprof"))) fs.rmSync("/tmp/" + f);
const sess = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1, enableProfiling: true, profileFilePrefix: "/tmp/ortprof", logSeverityLevel: 3 });
const of = Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, new ort.Tensor(v.data instanceof Int32Array ? "int32" : "float32", v.data, v.dims)]));
for (let i = 0; i < 5; i++) { const t1 = performance.now(); const all = await sess.run(of); console.log("ORT full step (all outputs) ms", (performance.now() - t1).toFixed(1), Object.keys(all).length); }
sess.endProfiling();
const ev = JSON.parse(fs.readFileSync(fs.readdirSync("/tmp").filter(n => n.startsWith("ortprof")).map(n => "/tmp/" + n).pop()));
const by = {}; const big = [];
for (const e of ev) if (e.cat === "Node" && e.name.endsWith("_kernel_time")) { by[e.args.op_name] = (by[e.args.op_name] ?? 0) + e.dur / 5000; big.push([e.dur / 1000, e.args.op_name, JSON.stringify(e.args.input_type_shape ?? "")]); }
console.log(Object.entries(by).sort((a, b) => b[1] - a[1]).slice(0, 12).map(([k, v]) => k + " " + v.toFixed(1)).join("\n"));
big.sort((a, b) => b[0] - a[0]); console.log(big.filter(b => process.env.OP ? b[1] === process.env.OP : true).slice(0, 14).map(b => b.join(" ")).join("\n"));
