/**
 * The few Protocol Buffers encodings an ONNX file needs (proto2 wire format): a message is a
 * sequence of (field number << 3 | wire type) keys, each followed by a varint (type 0), a
 * little-endian float32 (type 5) or a length-prefixed byte string (type 2: strings, bytes,
 * packed repeated numbers and nested messages).
 */
import { UnsupportedError } from "../errors.js";

/** One message under construction; fields are written in the order they are added. */
export class Message {
  readonly #chunks: Uint8Array[] = [];
  #length = 0;

  #push(bytes: Uint8Array): void {
    this.#chunks.push(bytes);
    this.#length += bytes.length;
  }

  #key(field: number, wireType: number): void {
    this.#push(varint(field * 8 + wireType));
  }

  /** An int32/int64/enum field (negative values as 10-byte two's complement, as protobuf does). */
  int(field: number, value: number): this {
    this.#key(field, 0);
    this.#push(varint(value));
    return this;
  }

  float(field: number, value: number): this {
    this.#key(field, 5);
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setFloat32(0, value, true);
    this.#push(bytes);
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.#key(field, 2);
    this.#push(varint(value.length));
    this.#push(value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  message(field: number, value: Message): this {
    return this.bytes(field, value.encode());
  }

  /** A packed repeated int64 field. */
  ints(field: number, values: readonly number[]): this {
    return this.bytes(field, concat(values.map(varint)));
  }

  encode(): Uint8Array {
    return concat(this.#chunks, this.#length);
  }
}

/** Base-128 varint of an integer in (−2⁵³, 2⁵³); negatives as 64-bit two's complement. */
export function varint(value: number): Uint8Array {
  if (!Number.isSafeInteger(value)) throw new UnsupportedError(`protobuf: ${value} is not a safe integer`);
  let v = BigInt.asUintN(64, BigInt(value));
  const out: number[] = [];
  do {
    const byte = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v ? byte | 0x80 : byte);
  } while (v);
  return Uint8Array.from(out);
}

function concat(chunks: Uint8Array[], length = chunks.reduce((n, c) => n + c.length, 0)): Uint8Array {
  const out = new Uint8Array(length);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}
