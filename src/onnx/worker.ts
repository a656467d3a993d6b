/**
 * The thread that owns an ONNX Runtime session (see runtime.ts). Requests arrive on `port`; each
 * reply is posted back and then announced through `signal` (0 → 1), which the caller is blocked on.
 */
import { workerData, type MessagePort } from "node:worker_threads";
import type { HostTensor, Reply, Request } from "./runtime.js";

const { port, signal } = workerData as { port: MessagePort; signal: Int32Array };

/** What we use of onnxruntime-node (an optional dependency: its types may be absent). */
interface OrtTensor {
  data: unknown;
  dims: readonly number[];
}
interface OrtSession {
  run(feeds: Record<string, OrtTensor>, fetches: string[]): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}
interface Ort {
  InferenceSession: { create(model: Uint8Array, options: object): Promise<OrtSession> };
  Tensor: new (type: string, data: Float32Array | Int32Array, dims: number[]) => OrtTensor;
}

const ORT = "onnxruntime-node";
let ort: Ort | undefined;
let session: OrtSession | undefined;
/** inputs kept between runs (a training state), by input name */
const held: Record<string, OrtTensor> = {};

const tensor = (t: HostTensor) => new ort!.Tensor(t.data instanceof Int32Array ? "int32" : "float32", t.data, t.dims);
const host = (t: OrtTensor): HostTensor => ({ data: t.data as Float32Array, dims: [...t.dims] });

async function handle(request: Request): Promise<Reply> {
  if (request.kind === "open") {
    try {
      ort = (await import(ORT)) as Ort;
    } catch {
      throw new Error("the ONNX backend needs the optional package onnxruntime-node: npm install onnxruntime-node");
    }
    session = await ort.InferenceSession.create(request.model, {
      intraOpNumThreads: request.threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: "all",
      // measured: the default memory pattern planner pre-allocated ~700 MB more for a U-Net training step
      enableMemPattern: false,
    });
    return { kind: "opened" };
  }
  if (request.kind === "hold") {
    for (const [name, t] of Object.entries(request.tensors)) held[name] = tensor(t);
    return { kind: "held" };
  }
  if (request.kind === "read") {
    return { kind: "ran", results: request.names.map((name) => host(held[name]!)) };
  }
  if (request.kind === "run") {
    const feeds: Record<string, OrtTensor> = { ...held };
    for (const [name, t] of Object.entries(request.feeds)) feeds[name] = tensor(t);
    const carry = Object.entries(request.carry ?? {});
    const out = await session!.run(feeds, [...new Set([...request.outputs, ...carry.map(([o]) => o)])]);
    for (const [o, i] of carry) held[i] = out[o]!;
    return { kind: "ran", results: request.outputs.map((name) => host(out[name]!)) };
  }
  await session?.release();
  return { kind: "closed" };
}

port.on("message", (request: Request) => {
  handle(request).then(
    (reply) => port.postMessage(reply),
    (e: unknown) => port.postMessage({ kind: "error", message: e instanceof Error ? e.message : String(e) } satisfies Reply),
  ).finally(() => {
    Atomics.store(signal, 0, 1);
    Atomics.notify(signal, 0);
  });
});
