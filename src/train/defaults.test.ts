/**
 * The per-kind defaults of a run: points train a variational diffusion model in continuous time on
 * the ELBO with the linear log-SNR schedule (README: 0.754 against 1.780 bits/dim on moons for the
 * earlier default, the discrete cosine chain with the simple loss, which stays three options away);
 * images, NCSN and classifiers keep theirs.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { RunConfig } from "./config.js";
import { makeRunConfig } from "./defaults.js";

const points = { spec: "moons", dim: 2, mean: [0, 0], std: [1, 1], train: 100, test: 100 };
const image = { spec: "fashion-mnist", dim: 64, mean: [127.5], std: [127.5], train: 0, test: 0, shape: [8, 8, 1] };
const chain = (c: RunConfig) => ({ schedule: c.schedule, timesteps: c.timesteps, loss: c.loss });

describe("run defaults", () => {
  it("points: continuous time, the ELBO, linear log-SNR; the earlier discrete cosine chain with the simple loss on request", () => {
    assert.deepEqual(chain(makeRunConfig(points, {})), { schedule: "log-snr-linear", timesteps: 0, loss: "elbo" });
    assert.deepEqual(chain(makeRunConfig(points, { schedule: "cosine", timesteps: 1000, loss: "simple" })), {
      schedule: "cosine",
      timesteps: 1000,
      loss: "simple",
    });
    // a schedule chosen alone keeps continuous time and the ELBO
    assert.deepEqual(chain(makeRunConfig(points, { schedule: "cosine" })), { schedule: "cosine", timesteps: 0, loss: "elbo" });
  });

  it("images, NCSN and classifiers keep their own", () => {
    assert.deepEqual(chain(makeRunConfig(image, {})), { schedule: "log-snr-linear", timesteps: 0, loss: "simple" });
    assert.deepEqual(chain(makeRunConfig(points, { architecture: "ncsn" })), { schedule: "geometric", timesteps: 0, loss: "simple" });
    assert.deepEqual(chain(makeRunConfig(points, { classifierClasses: 2 })), { schedule: "log-snr-linear", timesteps: 0, loss: "simple" });
    assert.deepEqual(chain(makeRunConfig(points, { schedule: "learned" })), { schedule: "learned", timesteps: 0, loss: "elbo" });
  });
});
