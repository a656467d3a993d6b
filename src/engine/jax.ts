/**
 * The project's single entry to jax-js, published as "vdm/jax": polyfills and thread set-up run
 * first (`#engine/setup`: ./setup.ts on Node, ./setup.browser.ts under a bundler's "browser"
 * condition; package.json "imports").
 */
import "#engine/setup";

export * from "@jax-js/jax";
