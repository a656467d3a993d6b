/** Diffusion-LM: text data, the grammar and its parser, the transformer denoiser, its loss, rounding and controls. */

export * from "./classifier.js";
export * from "./config.js";
export * from "./data.js";
export * from "./eval.js";
export * from "./evaluate.js";
export * from "./grammar.js";
export * from "./guidance.js";
export * from "./infill.js";
export * from "./loss.js";
export * from "./model.js";
export * from "./rounding.js";
export * from "./sample.js";
export * from "./tokenizer.js";
