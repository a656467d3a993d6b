/**
 * The denoising networks x̂_θ(x_t, γ) and their classifier heads: the MLP for points, the U-Net and
 * the CNN for images. The `networks` namespace of "vdm".
 */
export type { CnnConfig, CnnParams } from "./cnn.js";
export { type Classifier, type Dense, initMlp, type MlpConfig, type MlpParams, mlpClassifier, mlpModel } from "./mlp.js";
export { type Conv, initUNet, type UNetConfig, type UNetParams, unetClassifier, unetModel } from "./unet.js";
