/**
 * Latent diffusion from the command line: a tiny autoencoder (vdm train-autoencoder), then a
 * conditional latent U-Net on its latents of the bundled Fashion-MNIST subset (vdm train --latent),
 * which resumes bit for bit, samples decoded 28×28 images with two samplers on both backends, and
 * evaluates the latent bound.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { refused, tempDir, vdm, vdmJson } from "../testing/cli.js";

const subsetDir = fileURLToPath(new URL("../../data/fashion-mnist", import.meta.url));

/** The NumPy array in an .npy file: its shape and raw bytes (uint8 images). */
function readNpy(file: string): { shape: number[]; data: Uint8Array } {
  const bytes = readFileSync(file);
  const headerLength = bytes.readUInt16LE(8);
  const header = bytes.subarray(10, 10 + headerLength).toString("latin1");
  const shape = /'shape': \(([^)]*)\)/
    .exec(header)![1]!
    .split(",")
    .filter((s) => s.trim())
    .map(Number);
  return { shape, data: new Uint8Array(bytes.subarray(10 + headerLength)) };
}

describe("latent diffusion from the command line", () => {
  const dir = tempDir("vdm-latent-cli-");
  const ae = join(dir, "ae");
  /** A tiny latent run on the bundled subset: batch 4, 8 base channels, no report. */
  const latentRun = (out: string, ...extra: string[]) =>
    vdm(
      "train",
      "--latent",
      ae,
      "--data",
      "fashion-mnist",
      "--data-dir",
      subsetDir,
      "--conditional",
      "--batch",
      "4",
      "--base",
      "8",
      "--quiet",
      "--out",
      out,
      ...extra,
    );

  before(() => {
    const r = vdm(
      "train-autoencoder",
      "--data",
      "fashion-mnist",
      "--data-dir",
      subsetDir,
      "--out",
      ae,
      "--steps",
      "2",
      "--base",
      "8",
      "--batch",
      "4",
      "--quiet",
      "--no-report",
    );
    assert.equal(r.code, 0, r.stderr);
  });

  it("trains on the latents, holds its autoencoder, and resumes bit for bit", () => {
    const whole = join(dir, "whole");
    const r = latentRun(whole, "--steps", "4", "--no-report");
    assert.equal(r.code, 0, r.stderr);
    const config = JSON.parse(readFileSync(join(whole, "config.json"), "utf8"));
    assert.deepEqual(config.latent, { autoencoder: ae, shape: [7, 7, 4] });
    assert.deepEqual(config.data.shape, [7, 7, 4]);
    assert.equal(config.data.decoder, "gaussian");
    assert.equal(config.data.mean.length, 4, "one mean per latent channel");
    assert.deepEqual(config.model.unet.multipliers, [1]);
    for (const f of ["config.json", "state.safetensors"]) assert.ok(existsSync(join(whole, "autoencoder", f)), f);
    const parts = join(dir, "parts");
    assert.equal(latentRun(parts, "--steps", "2", "--no-report").code, 0);
    const resumed = vdm("train", "--out", parts, "--resume", "--steps", "4", "--no-report", "--quiet");
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.ok(
      readFileSync(join(whole, "state.safetensors")).equals(readFileSync(join(parts, "state.safetensors"))),
      "resumed state differs",
    );
    refused(/--latent .* contradicts/, "train", "--out", parts, "--resume", "--steps", "5", "--latent", join(dir, "elsewhere"));
  });

  it("reports a discrete chain of T = 3 levels with its own 3 ancestral steps (fewer than --sample-steps and the checkpoint grids' 50)", () => {
    const out = join(dir, "discrete");
    const r = latentRun(out, "--steps", "2", "--timesteps", "3", "--eval-images", "4", "--elbo-samples", "1");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(readFileSync(join(out, "metrics.json"), "utf8")).sampleSteps, 3);
    assert.ok(existsSync(join(out, "grid-2.png")), "the checkpoint grid of step 2");
  });

  it("samples decoded images with two samplers on both backends, and evaluates the latent bound", () => {
    const run = join(dir, "whole");
    const files: Record<string, { shape: number[]; data: Uint8Array }> = {};
    for (const [sampler, backend] of [
      ["dpm++2m", "jax"],
      ["ddim", "jax"],
      ["ddim", "onnx"],
    ] as const) {
      const out = join(dir, `${sampler}-${backend}.npy`);
      const r = vdm(
        "sample",
        "--model",
        run,
        "--n",
        "4",
        "--sampler",
        sampler,
        "--sample-steps",
        "4",
        "--class",
        "all",
        "--backend",
        backend,
        "--out",
        out,
      );
      assert.equal(r.code, 0, r.stderr);
      files[`${sampler}-${backend}`] = readNpy(out);
      assert.deepEqual(files[`${sampler}-${backend}`]!.shape, [4, 28, 28]);
    }
    // the same latent draws decoded in jax-js: the network in ONNX Runtime moves few pixels by more than one level
    const [a, b] = [files["ddim-jax"]!.data, files["ddim-onnx"]!.data];
    const far = a.filter((v, i) => Math.abs(v - b[i]!) > 1).length;
    assert.ok(far <= a.length / 100, `${far} of ${a.length} pixels differ by more than 1 between the backends`);
    const png = vdm("sample", "--model", run, "--n", "4", "--out", join(dir, "samples.png"));
    assert.equal(png.code, 0, png.stderr);
    const ev = vdmJson("eval", "--model", run, "--n", "4", "--elbo-samples", "1", "--iw-samples", "3", "--backend", "jax", "--json");
    const b3 = ev.latentBound;
    assert.equal(b3.importanceWeighted.samples, 3);
    const { reconstruction, encoder, prior } = b3.terms;
    assert.ok(Math.abs(reconstruction.nats + encoder.nats + prior.nats - b3.nats) < 1e-6 * Math.abs(b3.nats), "the parts sum to the bound");
    assert.ok(Math.abs(b3.bpd - b3.nats / (784 * Math.LN2)) < 1e-9, "bits/dim of the 784 pixels");
    for (const v of [b3.nats, b3.natsStdError, b3.importanceWeighted.nats]) assert.ok(Number.isFinite(v));
    refused(/latent model/, "eval", "--model", run, "--n", "4", "--likelihood", "ode");
    refused(
      /latent model/,
      "sample",
      "--model",
      run,
      "--n",
      "4",
      "--class",
      "1",
      "--guidance",
      "classifier",
      "--classifier",
      ae,
      "--out",
      join(dir, "x.png"),
    );
  });
});
