/**
 * The safetensors format: an 8-byte little-endian header length N, N bytes of JSON
 * {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {string: string}}, then the
 * tensors' bytes. Only the dtypes this project stores (F32, F64, I32, U32) are supported.
 * Pure byte-level code (no Node imports): the browser playground uses it too.
 */
import { CheckpointError } from "../errors.js";

const DTYPES = {
  F32: { bytes: 4, array: Float32Array },
  F64: { bytes: 8, array: Float64Array },
  I32: { bytes: 4, array: Int32Array },
  U32: { bytes: 4, array: Uint32Array },
} as const;

export type DType = keyof typeof DTYPES;
export type TensorData = Float32Array | Float64Array | Int32Array | Uint32Array;

export interface Tensor {
  dtype: DType;
  shape: number[];
  data: TensorData;
}

const utf8 = new TextEncoder();

function dtypeOf(data: TensorData): DType {
  if (data instanceof Float32Array) return "F32";
  if (data instanceof Float64Array) return "F64";
  if (data instanceof Int32Array) return "I32";
  return "U32";
}

export function encodeSafetensors(
  tensors: Record<string, { shape: number[]; data: TensorData }>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length)
      throw new CheckpointError(`tensor ${name}: shape [${t.shape}] needs ${count} values, has ${t.data.length}`);
    header[name] = { dtype: dtypeOf(t.data), shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - ((8 + utf8.encode(json).length) % 8)) % 8);
  const headerBytes = utf8.encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.length;
  for (const t of Object.values(tensors)) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), pos);
    pos += t.data.byteLength;
  }
  return out;
}

/** Parse safetensors bytes; every inconsistency is a `CheckpointError` naming `source` and the problem. */
export function decodeSafetensors(
  bytes: Uint8Array,
  source = "safetensors",
): { tensors: Record<string, Tensor>; metadata: Record<string, string> } {
  const fail = (msg: string): never => {
    throw new CheckpointError(`${source}: ${msg}`);
  };
  if (bytes.length < 8) fail(`truncated: ${bytes.length} bytes, no header`);
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  if (n > bytes.length - 8) fail(`truncated or corrupt: header of ${n} bytes but the file has ${bytes.length}`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder("utf-8").decode(bytes.subarray(8, 8 + n)));
  } catch {
    return fail("corrupt header (not JSON)");
  }
  if (!isRecord(header)) return fail("corrupt header (not a JSON object)");
  const dataStart = 8 + n;
  const dataLength = bytes.length - dataStart;
  const tensors: Record<string, Tensor> = {};
  let metadata: Record<string, string> = {};
  let end = 0;
  for (const [name, info] of Object.entries(header)) {
    if (name === "__metadata__") {
      if (!isRecord(info) || !Object.values(info).every((v) => typeof v === "string"))
        fail(`corrupt header: __metadata__ is not an object of strings`);
      metadata = info as Record<string, string>;
      continue;
    }
    const label = name.length > 80 ? `${name.slice(0, 80)}…` : name;
    if (name === "__proto__") fail(`corrupt header: a tensor may not be named "__proto__"`);
    if (!isRecord(info)) return fail(`tensor ${label}: corrupt header entry (not an object)`);
    const { dtype, shape, data_offsets: offsets } = info;
    if (typeof dtype !== "string" || !Object.hasOwn(DTYPES, dtype)) return fail(`tensor ${label}: unsupported dtype ${describe(dtype)}`);
    const spec = DTYPES[dtype as DType];
    if (!Array.isArray(shape) || !shape.every(isSize))
      return fail(`tensor ${label}: shape ${describe(shape)} is not a list of non-negative integers`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isSize))
      return fail(`tensor ${label}: data_offsets ${describe(offsets)} are not two non-negative integers`);
    const [b, e] = offsets as [number, number];
    if (b > e) fail(`tensor ${label}: data_offsets [${b}, ${e}] run backwards`);
    if (e > dataLength) fail(`truncated: tensor ${label} ends at byte ${e} of ${dataLength}`);
    // the product is only compared, never allocated: the copy below is e − b ≤ dataLength bytes
    const count = (shape as number[]).reduce((a, c) => a * c, 1);
    if (e - b !== count * spec.bytes) fail(`tensor ${label}: ${e - b} bytes do not fit shape ${describe(shape)} of ${dtype}`);
    end = Math.max(end, e);
    const copy = new Uint8Array(e - b); // aligned copy (a Buffer's slice would share the file's memory)
    copy.set(bytes.subarray(dataStart + b, dataStart + e));
    tensors[name] = { dtype: dtype as DType, shape: shape as number[], data: new spec.array(copy.buffer, 0, count) };
  }
  if (end !== dataLength) fail(`corrupt: ${dataLength - end} bytes after the last tensor`);
  return { tensors, metadata };
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isSize = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;

/** A short description of a header value for messages (never the whole of a long or deep value). */
function describe(v: unknown): string {
  if (Array.isArray(v)) return v.length <= 8 && v.every((x) => typeof x === "number") ? `[${v.join(",")}]` : `(an array of ${v.length})`;
  if (typeof v === "object" && v !== null) return "(an object)";
  const s = typeof v === "string" ? JSON.stringify(v) : String(v);
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}
