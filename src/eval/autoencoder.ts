/**
 * An autoencoder on held-out images: its reconstruction −log p(x|z) at z ~ q(z|x), its KL(q(z|x) ‖ N(0, I)),
 * its own bound with the N(0, I) prior, −log p(x) ≤ E_q[−log p(x|z)] + KL (β = 1, whatever β it was
 * trained with), and the statistics of its latent means μ(x) that a latent model normalises by.
 */

import { denormalize, identityNormalization, logDetJacobian, type Normalization, normalize } from "../data/normalize.js";
import { exampleShape, type PointSet } from "../data/sets.js";
import type { DecoderKind } from "../diffusion/decoder.js";
import { type Params, Rng } from "../engine/index.js";
import { numpy as np, tree } from "../engine/jax.js";
import type { Autoencoder } from "../models/kind.js";
import { encodedTerms } from "../train/objectives/autoencoder.js";
import { meanAndStdError } from "./likelihood.js";
import type { BatchOptions } from "./run.js";

/** Options of `evaluateAutoencoder`: the data's normalisation, decoder, random stream, reconstructions to keep and batching. */
export interface AutoencoderEvalOptions extends BatchOptions {
  /** the normalisation the autoencoder was trained in (`normalizationOf(config)`) (default: none) */
  normalization?: Normalization;
  /** how p(x|z) scores x: "discretized" for 8-bit images (default "gaussian") */
  decoder?: DecoderKind;
  /** the stream of the ε in z = μ + σ ε (default `new Rng(0)`) */
  rng?: Rng;
  /** how many of the first test images to reconstruct as x̂(μ(x)), in data space (default 0) */
  reconstructions?: number;
}

/** An autoencoder's held-out figures: nats per image and bits/dim of the data. */
export interface AutoencoderEvaluation {
  /** E_q[−log p(x|z)], one draw of z per image */
  reconstruction: { nats: number; bpd: number };
  /** KL(q(z|x) ‖ N(0, I)) in closed form */
  kl: { nats: number; bpd: number };
  /** reconstruction + KL: the VAE's bound on −log p(x) with the N(0, I) prior, and its standard error over the images */
  bound: { nats: number; bpd: number; stdError: number };
  /** per latent channel: the mean and standard deviation of μ(x) over the images and positions, and the mean encoder σ(x) */
  latent: { mean: number[]; std: number[]; encoderStd: number[] };
  /** x̂(μ(x)) of the first `reconstructions` images, in data space ([n, ...data shape] row-major) */
  reconstructions: Float32Array;
}

/**
 * The reconstruction and KL of every image of `test` (in batches), their sum (the bound), the
 * per-channel statistics of μ(x), and the decoder's mean at μ(x) for the first images. Borrows params.
 * With the Gaussian decoder the normalisation's log-Jacobian is subtracted, as `heldOutElbo` does.
 */
export function evaluateAutoencoder(
  ae: Autoencoder,
  params: Params,
  test: PointSet,
  options: AutoencoderEvalOptions = {},
): AutoencoderEvaluation {
  const { normalization: z = identityNormalization(test.dim), decoder = "gaussian", rng = new Rng(0), batch = test.n, onBatch } = options;
  const shape = exampleShape(test);
  const c = ae.latentShape.at(-1)!;
  const normalized = normalize(test.points, z);
  const kept = Math.min(options.reconstructions ?? 0, test.n);
  const reconstructions = new Float32Array(kept * test.dim);
  const [recon, kl] = [new Float64Array(test.n), new Float64Array(test.n)];
  const [sum, squares, sigma] = [new Float64Array(c), new Float64Array(c), new Float64Array(c)];
  for (let start = 0; start < test.n; start += batch) {
    const m = Math.min(batch, test.n - start);
    const x = np.array(normalized.subarray(start * test.dim, (start + m) * test.dim)).reshape([m, ...shape]);
    const eps = rng.normal([m, ...ae.latentShape]);
    const q = ae.encode(tree.ref(params), x.ref);
    const means = q.mean.ref.dataSync() as Float32Array;
    const stds = np.exp(q.logVar.ref.mul(0.5)).dataSync() as Float32Array;
    const terms = encodedTerms(ae, decoder, tree.ref(params), x, { mean: q.mean.ref, logVar: q.logVar }, eps);
    recon.set(terms.reconstruction.dataSync() as Float32Array, start);
    kl.set(terms.kl.dataSync() as Float32Array, start);
    for (let i = 0; i < means.length; i++) {
      sum[i % c]! += means[i]!;
      squares[i % c]! += means[i]! * means[i]!;
      sigma[i % c]! += stds[i]!;
    }
    const n = Math.max(0, Math.min(m, kept - start));
    if (n > 0) {
      const decoded = ae.decode(tree.ref(params), q.mean.slice([0, n]));
      decoded.gamma.dispose();
      reconstructions.set(decoded.mean.dataSync() as Float32Array, start * test.dim);
    } else q.mean.dispose();
    onBatch?.(start + m);
  }
  const count = (test.n * ae.latentShape.reduce((a, b) => a * b, 1)) / c;
  const mean = [...sum].map((s) => s / count);
  const jacobian = decoder === "gaussian" ? logDetJacobian(z) : 0;
  const bits = (nats: number) => nats / (test.dim * Math.LN2);
  const reconstruction = meanAndStdError(recon).mean - jacobian;
  const klNats = meanAndStdError(kl).mean;
  const total = meanAndStdError(recon.map((r, b) => r + kl[b]!));
  return {
    reconstruction: { nats: reconstruction, bpd: bits(reconstruction) },
    kl: { nats: klNats, bpd: bits(klNats) },
    bound: { nats: total.mean - jacobian, bpd: bits(total.mean - jacobian), stdError: total.se },
    latent: {
      mean,
      std: [...squares].map((s, k) => Math.sqrt(Math.max(0, s / count - mean[k]! ** 2))),
      encoderStd: [...sigma].map((s) => s / count),
    },
    reconstructions: denormalize(reconstructions, z),
  };
}
