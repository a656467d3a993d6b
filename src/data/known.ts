/**
 * Data whose density is known in closed form (Gaussian mixtures), so that exact log-likelihoods,
 * scores and optimal denoisers are available for them: three built-in sets by name, or any
 * mixture in a FILE.json (see `mixture-file.ts`). The built-in ones and the sampling live in
 * `mixtures.ts` (no file system).
 */

import type { GaussianMixture } from "../densities/mixture.js";
import { DataError } from "../errors.js";
import { readDataFile } from "./files.js";
import { builtinMixture, knownDensityNames } from "./mixtures.js";

/**
 * The mixture of a built-in set with a closed-form density, or the one in a .json file (an error
 * if the file holds points instead).
 */
export function knownMixture(specOrPath: string): GaussianMixture {
  const m = builtinMixture(specOrPath);
  if (m) return m;
  if (!specOrPath.endsWith(".json")) {
    throw new DataError(
      `no closed-form density for data set "${specOrPath}" (known: ${knownDensityNames.join(", ")}; or FILE.json, a Gaussian mixture)`,
      { unknown: { name: specOrPath, known: knownDensityNames } },
    );
  }
  const data = readDataFile(specOrPath);
  if (!("weights" in data)) {
    throw new DataError(
      `${specOrPath} holds points (a JSON array), not a Gaussian mixture (a JSON object {"weights", "means", "stds" or "covariances"})`,
    );
  }
  return data;
}
