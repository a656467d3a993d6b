/**
 * The playground's Vite config. The page runs the library's browser entries ("vdm/browser" and "vdm/jax",
 * from their sources in ../src) in a Web Worker and draws its charts with "vdm/plot" (Vega-Lite specs), with the engine's browser set-up (the "browser"
 * condition of package.json's "imports": no Node polyfills, no worker_threads shim), and the shipped
 * Fashion-MNIST model is served and copied as static assets.
 * COOP/COEP headers make the page cross-origin isolated on the dev server and `vite preview`, so
 * jax-js can run its wasm kernels on a pool of workers; a static host without them gets one thread.
 */

import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig, type Plugin } from "vite";

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, "..");

/** The library's sources by the specifiers the page and the library import them with, as a browser resolves them. */
const browserSources: Record<string, string> = {
  "vdm/browser": join(repo, "src", "browser.ts"),
  "vdm/jax": join(repo, "src", "engine", "jax.ts"),
  "vdm/plot": join(repo, "src", "plot", "browser.ts"),
  "vdm/onnx-web": join(repo, "src", "onnx", "serve.ts"),
  "#engine/setup": join(repo, "src", "engine", "setup.browser.ts"),
  "#engine/workers": join(repo, "src", "engine", "workers.browser.ts"),
  "#onnx/session": join(repo, "src", "onnx", "session.browser.ts"),
};

function browserSourcesPlugin(): Plugin {
  return {
    name: "vdm-browser-sources",
    enforce: "pre",
    resolveId(source, importer) {
      if (source in browserSources) return browserSources[source];
      // the page must not pull in Node: name the library module that does, so it can be split
      if (importer && source.startsWith("node:") && importer.startsWith(repo)) {
        this.error(
          `the playground imports ${importer.slice(repo.length + 1)}, which imports ${source}: move what the page needs into a module without Node imports`,
        );
      }
      return null;
    },
  };
}

const isolation = { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp" };

export default defineConfig({
  root: here,
  base: "./",
  plugins: [browserSourcesPlugin()],
  server: { headers: isolation, fs: { allow: [repo] } },
  preview: { headers: isolation },
  worker: { format: "es", plugins: () => [browserSourcesPlugin()] },
  build: { outDir: join(repo, "dist-playground"), emptyOutDir: true, target: "es2022", assetsInlineLimit: 0, chunkSizeWarningLimit: 4000 },
});
