/**
 * The wire between the library's worker and ONNX Runtime Web's (./wire.ts): tensors of both dtypes
 * and any rank cross the shared reply buffer bit for bit, the buffer grows for a large reply, the
 * server's error reaches the caller as its message, and a silent server times out.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { UnsupportedError } from "../errors.js";
import type { HostTensor } from "./tensor.js";
import { awaitReply, PENDING, replyBuffer, writeError, writeReply } from "./wire.js";

const control = () => new Int32Array(new SharedArrayBuffer(8));

describe("the ONNX Runtime Web wire", () => {
  it("carries float32 and int32 tensors of rank 0 to 3, values and shapes intact", () => {
    const tensors: HostTensor[] = [
      { data: Float32Array.of(Math.PI), dims: [] },
      { data: Int32Array.of(-7, 0, 2 ** 31 - 1), dims: [3] },
      { data: Float32Array.from({ length: 24 }, (_, i) => i / 7 - 1), dims: [2, 3, 4] },
      { data: new Float32Array(0), dims: [0, 5] },
    ];
    const [c, reply] = [control(), replyBuffer()];
    writeReply(c, reply, tensors);
    const got = awaitReply(c, reply, 1000);
    assert.equal(got.length, tensors.length);
    got.forEach((t, k) => {
      assert.deepEqual(t.dims, tensors[k]!.dims);
      assert.equal(t.data.constructor, tensors[k]!.data.constructor);
      assert.deepEqual(Array.from(t.data), Array.from(tensors[k]!.data));
      // copied out: the next reply may overwrite the shared buffer
      assert.ok(!(t.data.buffer instanceof SharedArrayBuffer));
    });
  });

  it("grows the reply buffer for a reply larger than it (a training state read back)", () => {
    const [c, reply] = [control(), replyBuffer()];
    const big = Float32Array.from({ length: 1 << 20 }, (_, i) => i);
    assert.ok(reply.byteLength < big.byteLength);
    writeReply(c, reply, [{ data: big, dims: [1024, 1024] }]);
    const [t] = awaitReply(c, reply, 1000);
    assert.equal(t!.data[(1 << 20) - 1], (1 << 20) - 1);
  });

  it("throws the server's error, named as ONNX Runtime Web's", () => {
    const [c, reply] = [control(), replyBuffer()];
    writeError(c, reply, "no session 3 (closed, or opened before the last init) — ü");
    assert.throws(
      () => awaitReply(c, reply, 1000),
      (e: Error) => e instanceof UnsupportedError && /^ONNX Runtime Web: no session 3 .* ü$/.test(e.message),
    );
  });

  it("times out when no reply comes", () => {
    const c = control();
    Atomics.store(c, 0, PENDING);
    assert.throws(() => awaitReply(c, replyBuffer(), 20), /did not answer within 0.02 s/);
  });
});
