/**
 * Fuzzing the readers of a checkpoint: the safetensors decoder and the run-config validator each get
 * 1,000 seeded random corruptions of a valid input (the harness: testing/fuzz.ts); every case ends in
 * the reader's typed error or a well-formed result, quickly.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CheckpointError, ConfigError } from "../errors.js";
import { corruptBytes, corruptJson, fuzz, isCount, type Json, type Random } from "../testing/fuzz.js";
import { dataShape, labelClasses } from "../train/build.js";
import { type RunConfig, validateRunConfig } from "../train/config.js";
import { makeRunConfig } from "../train/defaults.js";
import { decodeSafetensors, encodeSafetensors } from "./safetensors.js";

describe("fuzzing the checkpoint's readers: typed errors or well-formed results, quickly", () => {
  it("safetensors decoder", (t) => {
    const valid = encodeSafetensors(
      {
        "params.w": { shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) },
        "params.b": { shape: [3], data: Float64Array.from([0.5, -1, 2]) },
        rng: { shape: [2], data: Uint32Array.from([7, 4294967295]) },
        count: { shape: [], data: Int32Array.from([-3]) },
        empty: { shape: [0, 4], data: new Float32Array(0) },
      },
      { step: "12", format: "vdm-1" },
    );
    const n = Number(new DataView(valid.buffer).getBigUint64(0, true));
    const header = JSON.parse(Buffer.from(valid.subarray(8, 8 + n)).toString()) as Json;
    const body = valid.subarray(8 + n);
    /** the file with its header replaced by `text` (and the length field made to fit, mostly) */
    const withHeader = (r: Random, text: string) => {
      const h = Buffer.from(text, "utf8");
      const out = new Uint8Array(8 + h.length + body.length);
      new DataView(out.buffer).setBigUint64(0, BigInt(r.chance(0.9) ? h.length : r.int(h.length + 64)), true);
      out.set(h, 8);
      out.set(body, 8 + h.length);
      return out;
    };
    fuzz(
      t,
      "safetensors",
      0x5afe,
      (r) =>
        r.chance(0.5) ? corruptBytes(r, valid, [{ offset: 0, width: 8, be: false }]) : withHeader(r, corruptJson(r, header, true).text!),
      (bytes) => decodeSafetensors(bytes, "fuzz.safetensors"),
      ({ tensors, metadata }) => {
        for (const [name, tensor] of Object.entries(tensors)) {
          assert.ok(["F32", "F64", "I32", "U32"].includes(tensor.dtype), `${name}: dtype ${tensor.dtype}`);
          assert.ok(tensor.shape.every(isCount), `${name}: shape [${tensor.shape}]`);
          assert.equal(
            tensor.data.length,
            tensor.shape.reduce((a, b) => a * b, 1),
            `${name}: ${tensor.data.length} values for shape [${tensor.shape}]`,
          );
          const array = { F32: Float32Array, F64: Float64Array, I32: Int32Array, U32: Uint32Array }[tensor.dtype];
          assert.ok(tensor.data instanceof array, `${name}: data is not a ${array.name}`);
        }
        assert.ok(
          Object.values(metadata).every((v) => typeof v === "string"),
          "metadata of strings",
        );
      },
      CheckpointError,
      "fuzz.safetensors: ",
    );
  });

  it("run-config validator", (t) => {
    const points = { spec: "moons", dim: 2, mean: [0.5, 0.25], std: [0.87, 0.5], train: 20000, test: 2000 };
    const image = { spec: "fashion-mnist", dim: 784, mean: [127.5], std: [127.5], train: 2000, test: 500, shape: [28, 28, 1] };
    const valid: RunConfig[] = [
      makeRunConfig(points, {}),
      makeRunConfig(points, { schedule: "learned", timesteps: 0, lrDecay: "cosine", classes: 8 }),
      makeRunConfig(image, { classes: 10 }),
      makeRunConfig(image, { architecture: "cnn", classifierClasses: 10 }),
      makeRunConfig(points, { classifierClasses: 2, schedule: "linear" }),
    ];
    fuzz(
      t,
      "config",
      0xc0f,
      (r) => {
        const base = r.pick(valid) as unknown as Json;
        const { text, value } = corruptJson(r, base, r.chance(0.3));
        if (text === undefined) return value;
        try {
          return JSON.parse(text) as unknown;
        } catch {
          return text; // a string is not a config either
        }
      },
      (value) => validateRunConfig(value, "fuzz config.json"),
      (config, input) => {
        assert.equal(config, input, "the validated config is the value given");
        assert.ok(Number.isSafeInteger(config.steps) && config.steps >= 1, `steps ${config.steps}`);
        assert.ok(Number.isSafeInteger(config.data.dim) && config.data.dim >= 1, `dim ${config.data.dim}`);
        assert.equal(
          dataShape(config).reduce((a, b) => a * b, 1),
          config.data.dim,
          "the example shape holds dim values",
        );
        assert.ok(isCount(labelClasses(config)), "label classes");
        assert.ok(
          config.data.std.every((s) => s > 0 && Number.isFinite(s)),
          "std",
        );
      },
      ConfigError,
      "fuzz config.json: ",
    );
  });
});
