/**
 * The browser playground (playground/) for tests: Vite builds the static site, a small static server
 * serves it cross-origin isolated, and Debian's Chromium (headless, driven by playwright-core) opens
 * pages on it. Screenshots go to artifacts/playground/.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { extname, join, normalize as normalizePath } from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";

/** The repository's root. */
export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
/** Where the playground tests write their screenshots. */
export const ARTIFACTS = join(ROOT, "artifacts", "playground");
const CHROMIUM = process.env.VDM_CHROMIUM ?? "/usr/bin/chromium";
/** Flags that keep Chromium off the network (a closed network refuses its background connections). */
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const TYPES: Record<string, string> = {
  ".html": "text/html",
  ".js": "text/javascript",
  ".css": "text/css",
  ".json": "application/json",
  ".wasm": "application/wasm",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".mjs": "text/javascript",
};

/** A static file server for `root`, by default with the COOP/COEP headers that make the page cross-origin isolated. */
export function serve(root: string, { isolated = true } = {}): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const path = normalizePath(decodeURIComponent(new URL(req.url ?? "/", "http://localhost").pathname)).replace(/^[/\\]+/, "");
    const file = join(root, path || "index.html");
    if (!file.startsWith(root) || !existsSync(file)) {
      res.writeHead(404).end("not found");
      return;
    }
    res.writeHead(200, {
      "content-type": TYPES[extname(file)] ?? "application/octet-stream",
      ...(isolated ? { "cross-origin-opener-policy": "same-origin", "cross-origin-embedder-policy": "require-corp" } : {}),
    });
    res.end(readFileSync(file));
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve({ server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}/` })),
  );
}

/** The built playground served on `url`, and a headless Chromium to open it in. */
export interface Playground {
  url: string;
  browser: Browser;
  /** Close the browser and stop the server. */
  close(): Promise<void>;
}

/** Chromium's software WebGPU adapter (SwiftShader), for ONNX Runtime Web's WebGPU provider without a GPU. */
const WEBGPU_ARGS = ["--enable-unsafe-webgpu", "--use-webgpu-adapter=swiftshader", "--enable-features=Vulkan"];

/**
 * Build the playground into `site` (a fresh folder), serve it and launch Chromium (an error says how
 * to get it if it is missing); `webgpu` gives it the software WebGPU adapter instead of no GPU.
 */
export async function startPlayground(site: string, { webgpu = false } = {}): Promise<Playground> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `the playground tests need Chromium at ${CHROMIUM} (Debian: apt-get install chromium; or set VDM_CHROMIUM to a Chromium binary)`,
    );
  }
  mkdirSync(ARTIFACTS, { recursive: true });
  const { build } = await import("vite");
  await build({ configFile: join(ROOT, "playground", "vite.config.ts"), logLevel: "error", build: { outDir: site, emptyOutDir: true } });
  const { server, url } = await serve(site);
  const { chromium } = await import("playwright-core");
  const args = webgpu ? [...CHROMIUM_ARGS.filter((a) => a !== "--disable-gpu"), ...WEBGPU_ARGS] : CHROMIUM_ARGS;
  const browser = await chromium.launch({ executablePath: CHROMIUM, args });
  return {
    url,
    browser,
    async close() {
      await browser.close();
      server.close();
    },
  };
}

/** Wait until `condition` (a JavaScript expression) holds in `page`, failing if the page shows an error instead. */
export async function waitForPage(page: Page, condition: string, timeout = 120_000): Promise<void> {
  await page.waitForFunction(`(${condition}) || document.getElementById("error").textContent`, undefined, { timeout });
  const error = await page.textContent("#error");
  assert.equal(error, "", `the page shows an error: ${error}`);
}
