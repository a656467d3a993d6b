/**
 * The latent bound through an identity autoencoder equals the pixel model's bound: with
 * q(z|x) = N(x, s² I) and p(x|z) = N(z, s² I), per draw the reconstruction and encoder parts sum to
 * ½ Σ_d ((x_d − z_d)²/s² − ε_d²) = 0, and the prior part is the same network's −ELBO at z = x + s ε
 * with the same draws of t and ε (the same stream), normalised by the same per-dimension statistics,
 * plus Σ_d log std_d, exactly the log-det that the pixel model's evaluation adds.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fitNormalization } from "../data/normalize.js";
import { DiffusionProcess } from "../diffusion/process.js";
import { filled, Rng } from "../engine/index.js";
import { numpy as np } from "../engine/jax.js";
import { mlpKind } from "../models/mlp.js";
import { getSchedule } from "../schedule/index.js";
import { assertClose, useEngine } from "../testing/helpers.js";
import type { RunConfig } from "../train/config.js";
import type { LatentRun } from "../train/latent.js";
import { heldOutLatentBound } from "./latent.js";
import { heldOutElbo } from "./run.js";

useEngine();

const D = 4;
const N = 24;
const S = 1e-4;

/** N points of dimension D, scaled by 3 and shifted (so the normalisation's log-det, 4·log 3 ≈ 4.4 nats, is far from 0). */
function points() {
  const z = new Rng(11).normal([N, D]).dataSync() as Float32Array;
  return { points: Float32Array.from(z, (v, i) => 3 * v + (i % D) - 1), n: N, dim: D };
}

/** The identity autoencoder with encoder and decoder standard deviation S, over data normalised by `normalization`. */
function identity(normalization: { mean: number[]; std: number[] }): LatentRun {
  const config = { data: { spec: "points", dim: D, mean: [0], std: [1], train: N, test: N, decoder: "gaussian" } } as unknown as RunConfig;
  return {
    autoencoder: {
      config,
      network: {
        latentShape: [D],
        encode: (_params, x) => ({ mean: x.ref, logVar: np.fullLike(x, 2 * Math.log(S)) }),
        decode: (_params, z) => ({ gamma: filled(z.shape[0]!, 2 * Math.log(S)), mean: z }),
      },
      params: {},
    },
    normalization,
    shape: [D],
    decode: (z) => z,
  };
}

/** Held-out points, their normalisation, a small MLP denoiser (seeded) and a continuous-time process: the pixel model. */
function pixelModel() {
  const test = points();
  const config = mlpKind.configure!({ spec: "points", dim: D }, { hidden: 16, layers: 2 });
  return {
    test,
    z: fitNormalization(test),
    den: { model: mlpKind.model!(config, "eps"), params: mlpKind.init(config, new Rng(3)) },
    process: new DiffusionProcess(getSchedule("log-snr-linear"), 0),
  };
}

describe("the latent bound through an identity autoencoder", () => {
  it("equals the pixel model's bound (same network, same draws of t and ε)", () => {
    const { test, z, den, process } = pixelModel();
    const pixel = heldOutElbo(den, process, test, { normalization: z, rng: new Rng(5), decoder: "gaussian", samples: 4 });
    const latent = heldOutLatentBound(den, process, identity(z), test, { rng: new Rng(5), encoderRng: new Rng(9), elboSamples: 4 });
    // float32: z − x carries a rounding error of ~6e-8 against s ε = 1e-4 ε, so reconstruction + encoder
    // is 0 within ~1e-3 per dimension; the prior moves by ∇(−ELBO)·s ε/std, ~1e-3 nats
    const { reconstruction, encoder, prior } = latent.terms;
    assertClose([reconstruction.nats + encoder.nats], [0], { atol: 0.02, label: "reconstruction + encoder" });
    assertClose([prior.nats, latent.nats], [pixel.nats, pixel.nats], { atol: 0.02, label: "prior, bound vs the pixel −ELBO" });
    assertClose([latent.bpd], [pixel.bpd], { atol: 0.02 / (D * Math.LN2), label: "bits/dim" });
    // the same images, so the same spread
    assertClose([prior.natsStdError], [pixel.stdError], { rtol: 0.05, label: "standard error" });
  });

  it("its importance-weighted bound with K = 4 draws lies below the mean of the draws' bounds (Jensen)", () => {
    const { test, z, den, process } = pixelModel();
    const b = heldOutLatentBound(den, process, identity(z), test, { rng: new Rng(5), iwSamples: 4, elboSamples: 1 });
    assert.equal(b.importanceWeighted.samples, 4);
    assert.ok(b.importanceWeighted.nats < b.nats, `${b.importanceWeighted.nats} < ${b.nats}`);
  });
});
