/**
 * The data sets that need no file system: the built-in 2-D sets and Gaussian mixtures drawn from
 * a seed, class labels and subsets of point sets, and the per-coordinate normalisation
 * x ↦ (x − mean)/std between data and model space. The `data` namespace of "vdm/browser"; "vdm"'s
 * adds the readers of files and image sets (./index.ts).
 */

export { decodeIdx, type IdxArray } from "./idx-format.js";
export {
  builtinMixture,
  componentFractions,
  componentOf,
  knownDensityNames,
  sampleMixture,
  sampleMixtureWithLabels,
} from "./mixtures.js";
export { denormalize, fitNormalization, type Normalization, normalize, pixelNormalization } from "./normalize.js";
export { classCount, exampleShape, type PointSet, requireLabels, subset } from "./sets.js";
export { isToy, toyNames, toySplit } from "./toy.js";
