/** Diffusion-LM: text data, the grammar and its parser, rounding and controls (the transformer is models/transformer.ts, its loss train/objectives/diffusion-lm.ts). */

export * from "./classifier.js";
export * from "./config.js";
export * from "./data.js";
export * from "./eval.js";
export * from "./evaluate.js";
export * from "./grammar.js";
export * from "./guidance.js";
export * from "./infill.js";
export * from "./rounding.js";
export * from "./sample.js";
export * from "./tokenizer.js";
