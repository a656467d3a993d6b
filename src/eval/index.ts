/**
 * Evaluation: the held-out −ELBO and exact likelihoods, sample–data distances, and image quality
 * in the feature space of the shipped Fashion-MNIST classifier. The `evaluation` namespace of "vdm".
 */
export * from "./browser.js";
export {
  type FeatureClassifier,
  type ImageQuality,
  type ImageQualityOptions,
  imageLogits,
  imageQuality,
  loadFeatureClassifier,
  type QualityOptions,
  type QualityReference,
  qualityReference,
} from "./quality.js";
