/**
 * The denoising networks x̂_θ(x_t, γ) and their classifier heads: the MLP for points, the U-Net and
 * the CNN for images, Diffusion-LM's transformer for token embeddings, and its trunk on one-hot tokens for masked diffusion; the hierarchical VAE's MLP
 * Gaussians; the autoencoder of latent diffusion (its interface); and the table of network kinds that
 * training, checkpoints and the CLI read. The `networks` namespace of "vdm".
 */
export type { GaussianLayer, HvaeNetwork, MarkovianHvae } from "../hvae/elbo.js";
export type { LatentDecoding } from "../latent/bound.js";
export type { MaskedClassifier, MaskedDenoiser } from "../masked/denoiser.js";
export type { MaskingSchedule } from "../masked/schedule.js";
export { type CnnConfig, type CnnParams, cnnSchema } from "./cnn.js";
export { type GaussianMlpParams, type HvaeConfig, type HvaeParams, hvaeOf, hvaeSchema, initHvae } from "./hvae.js";
export type {
  Autoencoder,
  Classifier,
  ConfigIssue,
  NetworkKind,
  NetworkOptions,
  NetworkTarget,
  NetworkVariant,
  ObjectiveName,
  UNetOptions,
  VocabularyClassifier,
} from "./kind.js";
export { architectures, configOf, type ModelSpec, networkKinds } from "./kinds.js";
export { embed } from "./layers.js";
export { initMaskedNet, type MaskedParams, maskedClassifier, maskedDenoiser, maskedTransformerKind } from "./masked-transformer.js";
export { type Dense, initMlp, type MlpConfig, type MlpParams, mlpClassifier, mlpModel, mlpSchema } from "./mlp.js";
export {
  initTextNet,
  layerNorm,
  type TextNetConfig,
  type TextParams,
  type TrunkParams,
  textClassifier,
  textForward,
  textModel,
  transformerSchema,
  trunkLayers,
  validateTextNet,
} from "./transformer.js";
export { type Conv, initUNet, type UNetConfig, type UNetParams, unetClassifier, unetModel, unetSchema } from "./unet.js";
