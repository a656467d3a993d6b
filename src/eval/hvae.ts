/**
 * A Markovian HVAE on held-out data, as `heldOutElbo` (run.ts) reports a VDM: the −ELBO in nats and
 * bits/dim in data space (the Gaussian decoder adds the normalisation's log-Jacobian; the
 * discretised one is a probability mass already), its standard error over examples, and every
 * term's mean (reconstruction, each level's consistency, prior); and samples by ancestral sampling
 * through the decoders.
 */
import { denormalize, logDetJacobian, type Normalization, normalize } from "../data/normalize.js";
import type { PointSet } from "../data/sets.js";
import type { DecoderKind } from "../diffusion/decoder.js";
import { reparameterize } from "../diffusion/gaussian.js";
import type { Params, Rng } from "../engine/index.js";
import { numpy as np } from "../engine/jax.js";
import { type HvaeNetwork, hvaeNegativeElbo, markovianHvaeElbo } from "../hvae/elbo.js";
import { meanAndStdError } from "./likelihood.js";

/** The held-out −ELBO of an HVAE in data space: bits/dim, nats per example with its standard error, and the terms' means in nats. */
export interface HvaeHeldOut {
  bpd: number;
  nats: number;
  /** the standard error of `nats` over the held-out examples (each the mean of `draws` paths) */
  natsStdError: number;
  terms: {
    /** −log p(x | z_1), with the Jacobian for the Gaussian decoder */
    reconstruction: number;
    /** level t's log q_φ(z_t|z_{t−1}) − log p_θ(z_t|z_{t+1}), t = 1..T−1 */
    consistency: number[];
    /** KL(q_φ(z_T|z_{T−1}) ‖ N(0, I)) */
    prior: number;
  };
}

/** Options of `hvaeHeldOut` and `hvaeSamples`. */
export interface HvaeEvalOptions {
  /** the run's normalisation x' = (x − mean)/std */
  normalization: Normalization;
  /** the run's data decoder */
  decoder: DecoderKind;
  rng: Rng;
  /** independent ε paths per example, averaged (default 1) */
  draws?: number;
  /** examples per call (default 256) */
  batch?: number;
}

/**
 * −ELBO of the held-out `test` points (data space), each example's terms the mean over `draws`
 * independent paths (the same bound, less variance), in batches. Borrows params.
 */
export function hvaeHeldOut(network: HvaeNetwork, params: Params, test: PointSet, options: HvaeEvalOptions): HvaeHeldOut {
  const { normalization, decoder, rng, draws = 1, batch = 256 } = options;
  const { dim: D, levels: T } = network;
  const n = test.n;
  const x = normalize(test.points, normalization);
  const reconstruction = new Float64Array(n);
  const prior = new Float64Array(n);
  const consistency = globalThis.Array.from({ length: T - 1 }, () => new Float64Array(n));
  const total = new Float64Array(n);
  const add = (into: Float64Array, start: number, values: ArrayLike<number>) => {
    for (let b = 0; b < values.length; b++) into[start + b]! += values[b]! / draws;
  };
  for (let start = 0; start < n; start += batch) {
    const m = Math.min(batch, n - start);
    for (let k = 0; k < draws; k++) {
      const eps = globalThis.Array.from({ length: T }, () => rng.normal([m, D]));
      const xb = np.array(x.subarray(start * D, (start + m) * D)).reshape([m, D]);
      const terms = markovianHvaeElbo(network.build(params, decoder), xb, eps);
      add(reconstruction, start, terms.reconstruction.ref.dataSync() as Float32Array);
      add(prior, start, terms.prior.ref.dataSync() as Float32Array);
      terms.consistency.forEach((c, t) => add(consistency[t]!, start, c.ref.dataSync() as Float32Array));
      add(total, start, hvaeNegativeElbo(terms).dataSync() as Float32Array);
    }
  }
  const jacobian = decoder === "gaussian" ? logDetJacobian(normalization) : 0;
  const { mean, se } = meanAndStdError(total);
  const nats = mean - jacobian;
  return {
    bpd: nats / (D * Math.LN2),
    nats,
    natsStdError: se,
    terms: {
      reconstruction: meanAndStdError(reconstruction).mean - jacobian,
      consistency: consistency.map((c) => meanAndStdError(c).mean),
      prior: meanAndStdError(prior).mean,
    },
  };
}

/**
 * n samples (data space, [n·D]) by ancestral sampling: z_T ~ N(0, I), z_{t−1} ~ p_θ(z_{t−1} | z_t)
 * down to z_1, then x ~ p_θ(x | z_1) for the Gaussian decoder, or its mean x̂ clipped to [−1, 1] for
 * the discretised one (whose mass sits on the bins nearest x̂). Borrows params.
 */
export function hvaeSamples(network: HvaeNetwork, params: Params, n: number, options: Omit<HvaeEvalOptions, "draws">): Float32Array {
  const { normalization, decoder, rng, batch = 256 } = options;
  const { dim: D, levels: T } = network;
  const out = new Float32Array(n * D);
  for (let start = 0; start < n; start += batch) {
    const m = Math.min(batch, n - start);
    const hvae = network.build(params, decoder);
    let z = rng.normal([m, D]);
    for (let t = T; t >= 2; t--) z = reparameterize(hvae.decoders[t - 1]!(z), rng.normal([m, D]));
    const bottom = hvae.decoders[0]!(z);
    if (decoder === "gaussian") z = reparameterize(bottom, rng.normal([m, D]));
    else {
      bottom.logVar.dispose();
      z = np.clip(bottom.mean, -1, 1);
    }
    out.set(z.dataSync() as Float32Array, start * D);
  }
  return denormalize(out, normalization);
}
