/** The project's single entry to jax-js: polyfills and thread set-up run first. */
import "./setup.js";

export * from "@jax-js/jax";
