/**
 * The playground's Vite config. The page runs the library's own modules (../src) in a Web Worker;
 * the two engine modules that set up Node (worker_threads shim, process.env) are swapped for
 * browser ones, and the shipped Fashion-MNIST model is served and copied as static assets.
 * COOP/COEP headers make the page cross-origin isolated on the dev server and `vite preview`, so
 * jax-js can run its wasm kernels on a pool of workers; a static host without them gets one thread.
 */

import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig, type Plugin } from "vite";

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, "..");
const engineDir = join(repo, "src", "engine");

/** Browser replacements for the Node-only engine modules, by the specifier the engine imports them with. */
const browserEngine: Record<string, string> = {
  "./setup.js": join(here, "src", "engine", "setup.ts"),
  "./workers.js": join(here, "src", "engine", "workers.ts"),
};

function browserEnginePlugin(): Plugin {
  return {
    name: "vdm-browser-engine",
    enforce: "pre",
    resolveId(source, importer) {
      if (!importer) return null;
      const from = dirname(importer.split("?")[0]!);
      if (resolve(from) === engineDir && source in browserEngine) return browserEngine[source];
      // the page must not pull in Node: name the library module that does, so it can be split
      if (source.startsWith("node:") && importer.startsWith(repo)) {
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
  plugins: [browserEnginePlugin()],
  server: { headers: isolation, fs: { allow: [repo] } },
  preview: { headers: isolation },
  worker: { format: "es", plugins: () => [browserEnginePlugin()] },
  build: { outDir: join(repo, "dist-playground"), emptyOutDir: true, target: "es2022", assetsInlineLimit: 0, chunkSizeWarningLimit: 4000 },
});
