/** Accuracy of a noise-aware classifier on held-out points noised to chosen times. */

import { type Normalization, normalize } from "../data/normalize.js";
import { exampleShape, type PointSet } from "../data/sets.js";
import { qSample } from "../diffusion/forward.js";
import type { DiffusionProcess } from "../diffusion/process.js";
import { filled, type Rng } from "../engine/index.js";
import { type Array, type JsTree, numpy as np, tree } from "../engine/jax.js";
import { DataError } from "../errors.js";
import type { Classifier } from "../models/kind.js";

/** argmax_y p_φ(y | x) for points x [n, D] already in model coordinates, at time t. Borrows params. */
export function classify(classifier: Classifier, params: JsTree<Array>, x: Array, t: number, gamma: number): Int32Array {
  const n = x.shape[0]!;
  const logits = classifier.logits(tree.ref(params), x, filled(n, t), filled(n, gamma));
  return Int32Array.from(np.argmax(logits, -1).dataSync() as Int32Array);
}

/**
 * Accuracy at each time in `times`: x_t ~ q(x_t | x_0) for the held-out x_0, then argmax;
 * `batch` examples per network call (default: all at once). Borrows params.
 */
export function accuracyOverTime(
  classifier: Classifier,
  params: JsTree<Array>,
  process: DiffusionProcess,
  z: Normalization,
  test: PointSet,
  times: number[],
  rng: Rng,
  batch = test.n,
): number[] {
  if (!test.labels) throw new DataError("held-out data have no labels");
  const x0 = normalize(test.points, z);
  return times.map((t) => {
    const gamma = t === 0 ? -Infinity : process.gammaAt(t);
    let hits = 0;
    for (let start = 0; start < test.n; start += batch) {
      const m = Math.min(batch, test.n - start);
      const shape = [m, ...exampleShape(test)];
      const xt = qSample(
        np.array(x0.subarray(start * test.dim, (start + m) * test.dim)).reshape(shape),
        np.full([m], gamma),
        rng.normal(shape),
      );
      const predicted = classify(classifier, params, xt, t, gamma);
      hits += predicted.reduce((h, y, i) => h + (y === test.labels![start + i] ? 1 : 0), 0);
    }
    return hits / test.n;
  });
}
