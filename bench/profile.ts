/**
 * What ONNX Runtime sees of our cases, and where its time goes: tools for work on the exporter
 * (src/onnx/export.ts), not part of `npm run bench`.
 *
 *   node dist-bench/profile.js export BASE OUT.onnx     the graph a case runs (a training step: the
 *                                                      whole step; unet_forward_b64: the network),
 *                                                      with OUT.json naming its inputs' shapes
 *   node dist-bench/profile.js profile FILE.onnx [THREADS] [RUNS]
 *                                                      ONNX Runtime's profiler over RUNS runs: time
 *                                                      per operator type and the costliest nodes
 *   node dist-bench/profile.js ab A.onnx B.onnx [RUNS] [THREADS]
 *                                                      A and B interleaved (ABAB…, RUNS each) in one
 *                                                      process: medians and the median B/A ratio of
 *                                                      neighbouring pairs with its quartiles — robust
 *                                                      to a machine whose load drifts
 *
 * Inputs are filled with values in [0, 1) (Adam's second moments must not be negative). The
 * library is loaded from dist/ or the folder VDM_BENCH_DIST names, as in cases.ts.
 */

import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { DISCRETE_COSINE } from "./cases.js";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");

interface InputSpec {
  name: string;
  shape: number[];
  dtype?: string;
}

async function exportCase(base: string, out: string) {
  const dist = pathToFileURL(`${join(root, process.env.VDM_BENCH_DIST || "dist")}/`);
  const load = <T>(path: string) => import(new URL(path, dist).href) as Promise<T>;
  const { initEngine, Rng, shutdownEngine } = await load<typeof import("vdm-dist/engine/index.js")>("engine/index.js");
  const { numpy: np } = await load<typeof import("vdm-dist/engine/jax.js")>("engine/jax.js");
  const { exportModel, modelInputs } = await load<typeof import("vdm-dist/onnx/model.js")>("onnx/model.js");
  const { exportStep } = await load<typeof import("vdm-dist/onnx/train.js")>("onnx/train.js");
  const { buildModel, buildProcess, dataShape, initParams } = await load<typeof import("vdm-dist/train/build.js")>("train/build.js");
  const { makeRunConfig } = await load<typeof import("vdm-dist/train/defaults.js")>("train/defaults.js");
  const { runObjective } = await load<typeof import("vdm-dist/train/objectives/index.js")>("train/objectives/index.js");
  const { batchOf } = await load<typeof import("vdm-dist/train/objectives/objective.js")>("train/objectives/objective.js");
  await initEngine("wasm");
  const m = /^(mlp_step|unet_step|unet_forward)_b(\d+)$/.exec(base);
  if (!m) throw new Error(`export: BASE is mlp_step_bN, unet_step_bN or unet_forward_bN, got "${base}"`);
  const batch = Number(m[2]);
  const config =
    m[1] === "mlp_step"
      ? makeRunConfig(
          { spec: "bench-2d", dim: 2, mean: [0, 0], std: [1, 1], train: 0, test: 0 },
          { ...DISCRETE_COSINE, ...(batch === 256 ? { batch, steps: 1000 } : { hidden: 256, layers: 4, batch, steps: 1000 }) },
        )
      : makeRunConfig(
          { spec: "fashion-mnist", dim: 784, mean: [127.5], std: [127.5], train: 0, test: 0, shape: [28, 28, 1] },
          { batch, steps: 1000 },
        );
  const rng = new Rng(0);
  const params = initParams(config, rng);
  const shape = [batch, ...dataShape(config)];
  let bytes: Uint8Array;
  let inputs: InputSpec[];
  let outputs = ["output"];
  let carry: Record<string, string> = {};
  if (m[1] === "unet_forward") {
    bytes = exportModel(buildModel(config), params, shape);
    inputs = modelInputs(buildModel(config), shape).map((i) => ({ name: i.name, shape: i.shape, dtype: i.dtype ?? "float32" }));
  } else {
    const process = buildProcess(config);
    const example = batchOf(
      process,
      np.zeros(shape),
      rng.normal(shape),
      process.uniforms(rng, batch),
      np.zeros([batch], { dtype: np.int32 }),
    );
    // as onnxStepper runs it: the packed state's outputs carried to its inputs, loss and variance fetched
    const step = exportStep(runObjective(config), config.adam, params, example);
    ({ bytes, carry } = step);
    outputs = [...step.loss, ...step.variance];
    inputs = step.inputs.map((i) => ({ name: i.name, shape: i.shape, dtype: i.dtype ?? "float32" }));
  }
  writeFileSync(out, bytes);
  writeFileSync(`${out.replace(/\.onnx$/, "")}.json`, JSON.stringify({ inputs, outputs, carry }));
  console.log(`${out}: ${(bytes.length / 1024).toFixed(0)} KiB, ${inputs.length} inputs`);
  await shutdownEngine();
}

interface OrtTensor {
  data: unknown;
}
interface OrtSession {
  outputNames: readonly string[];
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
  endProfiling(): void;
  release(): Promise<void>;
}
interface Ort {
  InferenceSession: { create(model: Uint8Array, options: object): Promise<OrtSession> };
  Tensor: new (type: string, data: Float32Array | Int32Array, dims: number[]) => OrtTensor;
}
const ort = createRequire(import.meta.url)("onnxruntime-node") as Ort;

/** The session options the library uses (src/onnx/runtime.ts), plus `extra`. */
const sessionOptions = (threads: number, extra: object = {}) => ({
  intraOpNumThreads: threads,
  interOpNumThreads: 1,
  graphOptimizationLevel: "all",
  enableMemPattern: false,
  extra: { session: { intra_op: { allow_spinning: "1" } } },
  ...extra,
});

function feedsFor(file: string): Record<string, OrtTensor> {
  const { inputs } = JSON.parse(readFileSync(`${file.replace(/\.onnx$/, "")}.json`, "utf8")) as { inputs: InputSpec[] };
  const feeds: Record<string, OrtTensor> = {};
  let seed = 1;
  for (const i of inputs) {
    const n = i.shape.reduce((a, b) => a * b, 1);
    if (i.dtype === "int32") feeds[i.name] = new ort.Tensor("int32", new Int32Array(n), i.shape);
    else {
      const v = new Float32Array(n);
      for (let k = 0; k < n; k++) v[k] = (((Math.sin(++seed * 12.9898) * 43758.5453) % 1) + 1) % 1;
      feeds[i.name] = new ort.Tensor("float32", v, i.shape);
    }
  }
  return feeds;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;

async function profile(file: string, threads: number, runs: number) {
  const prefix = join(root, `ort-profile-${process.pid}`);
  const session = await ort.InferenceSession.create(
    readFileSync(file),
    sessionOptions(threads, { enableProfiling: true, profileFilePrefix: prefix }),
  );
  const feeds = feedsFor(file);
  await session.run(feeds); // warm-up
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    await session.run(feeds);
    times.push(performance.now() - t0);
  }
  session.endProfiling();
  await session.release();
  const { readdirSync } = await import("node:fs");
  const trace = readdirSync(root).find((f) => f.startsWith(`ort-profile-${process.pid}`));
  if (!trace) throw new Error("no profile written");
  const events = JSON.parse(readFileSync(join(root, trace), "utf8")) as {
    cat: string;
    name: string;
    dur: number;
    args?: { op_name?: string; output_size?: string };
  }[];
  rmSync(join(root, trace));
  const byOp = new Map<string, { us: number; count: number }>();
  const byNode = new Map<string, { us: number; op: string }>();
  let total = 0;
  for (const e of events) {
    if (e.cat !== "Node" || !e.name.endsWith("_kernel_time")) continue;
    const op = e.args?.op_name ?? "?";
    const o = byOp.get(op) ?? { us: 0, count: 0 };
    o.us += e.dur;
    o.count++;
    byOp.set(op, o);
    const n = byNode.get(e.name) ?? { us: 0, op };
    n.us += e.dur;
    byNode.set(e.name, n);
    total += e.dur;
  }
  const perRun = (us: number) => us / (runs + 1) / 1000;
  console.log(`${file}: ${threads} thread(s), median run ${median(times).toFixed(1)} ms; kernels ${perRun(total).toFixed(1)} ms per run`);
  console.log("op type            ms/run   share  nodes");
  for (const [op, o] of [...byOp].sort((a, b) => b[1].us - a[1].us)) {
    console.log(
      `${op.padEnd(18)} ${perRun(o.us).toFixed(2).padStart(7)}  ${((100 * o.us) / total).toFixed(1).padStart(5)}%  ${(o.count / (runs + 1)).toFixed(0).padStart(5)}`,
    );
  }
  const top = Number(process.env.PROFILE_TOP || 25);
  console.log(`costliest nodes (PROFILE_TOP=${top}${process.env.PROFILE_OP ? `, PROFILE_OP=${process.env.PROFILE_OP}` : ""}):`);
  const nodes = [...byNode].filter(([, n]) => !process.env.PROFILE_OP || n.op === process.env.PROFILE_OP);
  for (const [name, n] of nodes.sort((a, b) => b[1].us - a[1].us).slice(0, top))
    console.log(`  ${perRun(n.us).toFixed(2).padStart(7)} ms  ${n.op.padEnd(14)} ${name.replace(/_kernel_time$/, "")}`);
}

/**
 * A and B through the library's own session (src/onnx/runtime.ts: ONNX Runtime's native session
 * run synchronously on this thread), the outputs fetched and the state carried as the stepper does.
 */
async function ab(fileA: string, fileB: string, runs: number, threads: number) {
  const dist = pathToFileURL(`${join(root, process.env.VDM_BENCH_DIST || "dist")}/`);
  const { OnnxSession } = (await import(new URL("onnx/runtime.js", dist).href)) as typeof import("vdm-dist/onnx/runtime.js");
  const open = (f: string) => {
    const { outputs, carry = {} } = JSON.parse(readFileSync(`${f.replace(/\.onnx$/, "")}.json`, "utf8")) as {
      outputs: string[];
      carry?: Record<string, string>;
    };
    const all = Object.entries(feedsFor(f)).map(
      ([k, t]) => [k, { data: t.data as Float32Array, dims: (t as unknown as { dims: number[] }).dims }] as const,
    );
    const held = new Set(Object.values(carry));
    const session = new OnnxSession(readFileSync(f), { threads });
    session.hold(Object.fromEntries(all.filter(([k]) => held.has(k))));
    return { session, feeds: Object.fromEntries(all.filter(([k]) => !held.has(k))), outputs, carry };
  };
  const [a, b] = [open(fileA), open(fileB)];
  const time = async (s: typeof a) => {
    const t0 = performance.now();
    s.session.runOutputs(s.feeds, s.outputs, s.carry);
    return performance.now() - t0;
  };
  await time(a);
  await time(b);
  const ta: number[] = [];
  const tb: number[] = [];
  const ratios: number[] = [];
  for (let r = 0; r < runs; r++) {
    // alternate which goes first, so neither always follows the other
    const [x, y] = r % 2 ? [await time(b), await time(a)] : [await time(a), await time(b)];
    const [va, vb] = r % 2 ? [y, x] : [x, y];
    ta.push(va);
    tb.push(vb);
    ratios.push(vb / va);
  }
  a.session.close();
  b.session.close();
  console.log(
    JSON.stringify({
      a: fileA,
      b: fileB,
      runs,
      threads,
      a_ms: median(ta),
      b_ms: median(tb),
      ratio_b_over_a: median(ratios),
      ratio_q25: quantile(ratios, 0.25),
      ratio_q75: quantile(ratios, 0.75),
    }),
  );
}

const [cmd, ...args] = process.argv.slice(2);
if (cmd === "export") await exportCase(args[0]!, args[1]!);
else if (cmd === "profile") await profile(args[0]!, Number(args[1] ?? 1), Number(args[2] ?? 5));
else if (cmd === "ab") await ab(args[0]!, args[1]!, Number(args[2] ?? 9), Number(args[3] ?? 1));
else throw new Error("usage: profile.js export BASE OUT.onnx | profile FILE.onnx [THREADS] [RUNS] | ab A.onnx B.onnx [RUNS] [THREADS]");
