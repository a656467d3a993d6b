/**
 * The safetensors format: an 8-byte little-endian header length N, N bytes of JSON
 * {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {string: string}}, then the
 * tensors' bytes. Only the dtypes this project stores (F32, F64, I32, U32) are supported.
 */
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

function dtypeOf(data: TensorData): DType {
  if (data instanceof Float32Array) return "F32";
  if (data instanceof Float64Array) return "F64";
  if (data instanceof Int32Array) return "I32";
  return "U32";
}

export function encodeSafetensors(tensors: Record<string, { shape: number[]; data: TensorData }>, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) throw new Error(`tensor ${name}: shape [${t.shape}] needs ${count} values, has ${t.data.length}`);
    header[name] = { dtype: dtypeOf(t.data), shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const headerBytes = Buffer.from(json, "utf8");
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

/** Parse safetensors bytes; every inconsistency is an error naming `source` and the problem. */
export function decodeSafetensors(bytes: Uint8Array, source = "safetensors"): { tensors: Record<string, Tensor>; metadata: Record<string, string> } {
  const fail = (msg: string): never => {
    throw new Error(`${source}: ${msg}`);
  };
  if (bytes.length < 8) fail(`truncated: ${bytes.length} bytes, no header`);
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  if (n > bytes.length - 8) fail(`truncated or corrupt: header of ${n} bytes but the file has ${bytes.length}`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(bytes.subarray(8, 8 + n)).toString("utf8"));
  } catch {
    return fail("corrupt header (not JSON)");
  }
  const dataStart = 8 + n;
  const dataLength = bytes.length - dataStart;
  const tensors: Record<string, Tensor> = {};
  let metadata: Record<string, string> = {};
  let end = 0;
  for (const [name, info] of Object.entries(header)) {
    if (name === "__metadata__") {
      metadata = info as Record<string, string>;
      continue;
    }
    const { dtype, shape, data_offsets: offsets } = info as { dtype: string; shape: number[]; data_offsets: [number, number] };
    const spec = DTYPES[dtype as DType];
    if (!spec) fail(`tensor ${name}: unsupported dtype ${dtype}`);
    const count = shape.reduce((a, b) => a * b, 1);
    const [b, e] = offsets;
    if (e - b !== count * spec.bytes) fail(`tensor ${name}: ${e - b} bytes do not fit shape [${shape}] of ${dtype}`);
    if (e > dataLength) fail(`truncated: tensor ${name} ends at byte ${e} of ${dataLength}`);
    end = Math.max(end, e);
    const copy = new Uint8Array(e - b); // aligned copy (a Buffer's slice would share the file's memory)
    copy.set(bytes.subarray(dataStart + b, dataStart + e));
    tensors[name] = { dtype: dtype as DType, shape, data: new spec.array(copy.buffer, 0, count) };
  }
  if (end !== dataLength) fail(`corrupt: ${dataLength - end} bytes after the last tensor`);
  return { tensors, metadata };
}
