/**
 * Gaussian mixtures, whose noisy marginals p_t stay mixtures: their exact log-density, and the exact
 * denoiser E[x_0 | x_t] that serves as an oracle model. The `densities` namespace of "vdm".
 */
export type { GaussianMixture } from "./mixture.js";
export { type MixtureParams, mixtureLogDensity, mixtureParams, oracleModel } from "./oracle.js";
