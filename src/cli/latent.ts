/** What the commands share for latent models (`vdm train --latent AE`): the autoencoder flag, encoding with progress, the bound's lines. */
import type { Split } from "../data/index.js";
import type { LatentBoundReport } from "../eval/latent.js";
import { onnxLatentEncoder } from "../onnx/latent.js";
import { encodeSplit, type LatentAutoencoder, loadAutoencoder } from "../train/latent.js";
import { UsageError } from "./args.js";
import type { Backend } from "./model.js";
import { Progress } from "./progress.js";

/** The autoencoder run of `--latent DIR`, refused where it was trained on other data than `--data`. */
export function autoencoderFlag(dir: string, data: string): LatentAutoencoder {
  const ae = loadAutoencoder(dir);
  if (ae.config.data.spec !== data)
    throw new UsageError(`--latent ${dir}: the autoencoder was trained on ${ae.config.data.spec}, not --data ${data}`);
  return ae;
}

/**
 * The latents of `images` (`encodeSplit`: one draw of q(z|x) per image), with a progress line on
 * stderr; the encoder network runs on `backend` (the draws' ε are the same on either).
 */
export function encodeWithProgress(ae: LatentAutoencoder, images: Split, seed: number, quiet: boolean, backend: Backend): Split {
  const total = images.train.n + images.test.n;
  const progress = new Progress("encode (latents)", total, 0, process.stderr, quiet);
  const onBatch = (done: number) => progress.update(done);
  if (!backend.onnx) return encodeSplit(ae, images, seed, { onBatch });
  const encoder = onnxLatentEncoder(ae, backend.session);
  try {
    return encodeSplit(ae, images, seed, { encoder: encoder.encode, onBatch });
  } finally {
    encoder.close();
  }
}

/** One line of a latent model's bound: bits/dim of the image with its three parts and the importance-weighted bound. */
export function latentBoundLine(data: string, images: number, b: LatentBoundReport): string {
  const { reconstruction, encoder, prior } = b.terms;
  const iw = b.importanceWeighted;
  return `${data}: latent bound ${b.bpd.toFixed(4)} ± ${b.bpdStdError.toFixed(4)} bits/dim on ${images} test images = ${b.nats.toFixed(1)} ± ${b.natsStdError.toFixed(1)} nats (reconstruction ${reconstruction.nats.toFixed(1)} ± ${reconstruction.natsStdError.toFixed(1)}, encoder ${encoder.nats.toFixed(1)} ± ${encoder.natsStdError.toFixed(1)}, prior ${prior.nats.toFixed(1)} ± ${prior.natsStdError.toFixed(1)}); importance-weighted (K = ${iw.samples}): ${iw.bpd.toFixed(4)} ± ${iw.bpdStdError.toFixed(4)} bits/dim`;
}
