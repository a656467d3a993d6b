/**
 * `vdm train-autoencoder` end to end on a tiny autoencoder of the bundled Fashion-MNIST subset: a run
 * stopped and resumed equals one trained straight through, byte for byte; the report's metrics and
 * pictures; the run's config names the kind the latent models look for; and the usage mistakes.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { bundledFashionMnist } from "../data/images.js";
import { networkOf } from "../models/kinds.js";
import { refused, tempDir, vdm } from "../testing/cli.js";

/** A tiny autoencoder of the bundled subset (not the full set a machine may have installed). */
const tiny = ["--data-dir", bundledFashionMnist, "--base", "8", "--latent", "7x7x2", "--batch", "8", "--quiet", "--onnx-threads", "1"];

describe("vdm train-autoencoder", () => {
  const root = tempDir("vdm-ae-");
  const [straight, resumed] = [join(root, "straight"), join(root, "resumed")];

  it("a run stopped after 4 steps and resumed to 8 equals 8 steps straight through, byte for byte", () => {
    for (const [out, steps] of [
      [straight, "8"],
      [resumed, "4"],
    ] as const) {
      const r = vdm("train-autoencoder", "--out", out, "--steps", steps, "--no-report", ...tiny);
      assert.equal(r.code, 0, r.stderr);
    }
    const r = vdm("train-autoencoder", "--out", resumed, "--resume", "--steps", "8", "--no-report", "--quiet");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /resuming .* at step 4 of 8; --steps 8 replaces 4/);
    assert.deepEqual(readFileSync(join(resumed, "state.safetensors")), readFileSync(join(straight, "state.safetensors")));
  });

  it("writes the report a --no-report run lacks on the first --eval-images test images: reconstruction, KL, the N(0, I) bound and latent statistics; recon.png, loss.png", () => {
    const r = vdm("train-autoencoder", "--out", straight, "--resume", "--eval-images", "40", "--json", "--quiet");
    assert.equal(r.code, 0, r.stderr);
    const m = JSON.parse(r.stdout);
    assert.deepEqual(JSON.parse(readFileSync(join(straight, "metrics.json"), "utf8")), m);
    assert.deepEqual(m.latentShape, [7, 7, 2]);
    assert.equal(m.klWeight, 1e-3);
    assert.equal(m.testImages, 40);
    assert.equal(m.steps, 8);
    // the bound is reconstruction + KL, each in nats per image and in bits per pixel (784 of them)
    assertNear(m.bound.nats, m.reconstruction.nats + m.kl.nats, 1e-9);
    assertNear(m.reconstruction.bpd, m.reconstruction.nats / (784 * Math.LN2), 1e-12);
    assertNear(m.kl.bpd, m.kl.nats / (784 * Math.LN2), 1e-12);
    assert.ok(m.kl.nats > 0 && m.reconstruction.bpd > 0 && m.reconstruction.bpd < 60, JSON.stringify(m));
    for (const key of ["mean", "std", "encoderStd"]) assert.equal(m.latent[key].length, 2, key);
    assert.ok(m.latent.std.every((s: number) => s > 0));
    for (const f of ["recon.png", "loss.png"]) assert.ok(existsSync(join(straight, f)), f);
    const config = JSON.parse(readFileSync(join(straight, "config.json"), "utf8"));
    const net = networkOf(config.model);
    assert.ok(net.kind.autoencoder, "the run's kind is an autoencoder");
    assert.deepEqual(net.kind.autoencoder!(net.config).latentShape, [7, 7, 2]);
  });

  it("refuses latents the image cannot be pooled to, point data, flags that contradict a run it resumes, and the run as a diffusion model", () => {
    const subset = ["--data-dir", bundledFashionMnist];
    refused(/--latent must be ROWSxCOLSxCHANNELS/, "train-autoencoder", "--out", join(root, "x"), "--latent", "7x7", ...subset);
    refused(/must divide a 28×28 image by a power of 2/, "train-autoencoder", "--out", join(root, "x"), "--latent", "5x5x4", ...subset);
    refused(/needs image data/, "train-autoencoder", "--out", join(root, "x"), "--data", "moons");
    refused(
      /--kl-weight 0.5 contradicts the run in .*, which has --kl-weight 0.001/,
      "train-autoencoder",
      "--out",
      straight,
      "--resume",
      "--kl-weight",
      "0.5",
    );
    refused(
      /holds a fashion-mnist autoencoder run .*vdm train-autoencoder --out .* --resume continues it/,
      "train",
      "--out",
      straight,
      "--resume",
    );
    refused(
      /is an autoencoder \(vdm train-autoencoder\), not a diffusion model/,
      "sample",
      "--model",
      straight,
      "--out",
      join(root, "s.png"),
    );
  });
});

function assertNear(actual: number, expected: number, rtol: number): void {
  assert.ok(Math.abs(actual - expected) <= rtol * Math.abs(expected), `${actual} vs ${expected}`);
}
