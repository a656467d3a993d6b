/**
 * The package as a user gets it: `npm pack`'s file list (runtime code and types of every entry,
 * data and shipped models; no tests), then installed into an empty project (ONNX Runtime included,
 * though its own install script fails without network), imported by its name, trained and sampled.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

function run(command: string, args: string[], cwd: string, env = process.env) {
  const r = spawnSync(command, args, { cwd, env, encoding: "utf8", timeout: 300_000 });
  assert.equal(r.status, 0, `${command} ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

describe("the npm package", () => {
  it("holds code, types, data and models but no tests, and works installed elsewhere by its name", () => {
    const packed = mkdtempSync(join(tmpdir(), "vdm-pack-"));
    const [info] = JSON.parse(run("npm", ["pack", "--json", "--pack-destination", packed], ROOT)) as {
      filename: string;
      size: number;
      files: { path: string }[];
    }[];
    const files = info!.files.map((f) => f.path);
    for (const wanted of [
      "dist/index.js",
      "dist/index.d.ts",
      "dist/browser.js",
      "dist/browser.d.ts",
      "dist/engine/setup.browser.js",
      "dist/engine/jax.d.ts",
      "dist/plot/browser.js",
      "bin/vdm.js",
      "models/fashion-mnist/state.safetensors",
      "models/fashion-mnist-classifier/state.safetensors",
      "data/fashion-mnist/t10k-images-idx3-ubyte.gz",
      "README.md",
      "ARCHITECTURE.md",
      "docs/getting-started.md",
      "docs/fashion-mnist/classes.png",
      "python/vdm_torch/train.py",
      "python/train.py",
      "python/export-readme.md",
      "package.json",
    ]) {
      assert.ok(files.includes(wanted), `${wanted} is not in the package`);
    }
    const unwanted = files.filter((f) => /\.test\.|\.fixture\.|(^|\/)testing\/|^python\/tests\/|__pycache__/.test(f));
    assert.deepEqual(unwanted, [], "tests in the package");

    const app = mkdtempSync(join(tmpdir(), "vdm-app-"));
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }));
    // a normal install where onnxruntime-node's postinstall cannot reach its CUDA download (a proxy
    // that refuses connections stands for no network; its script honours GLOBAL_AGENT_HTTPS_PROXY):
    // npm drops the optional package, and vdm's postinstall keeps a copy of its CPU binaries
    // (without the npm_* variables of an enclosing `npm test`: this repository's ignore-scripts among them)
    const user = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)));
    const offline = { ...user, GLOBAL_AGENT_HTTPS_PROXY: "http://127.0.0.1:9", ONNXRUNTIME_NODE_INSTALL: "" };
    run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", join(packed, info!.filename)], app, offline);
    assert.ok(
      !existsSync(join(app, "node_modules", "onnxruntime-node")),
      "npm kept onnxruntime-node: the failing download was not simulated",
    );
    const fast = spawnSync("npx", ["--no-install", "vdm", "train", "--data", "moons", "--steps", "8", "--out", "run-onnx"], {
      cwd: app,
      encoding: "utf8",
    });
    assert.equal(fast.status, 0, fast.stderr);
    assert.match(fast.stderr, /backend: ONNX Runtime \(onnxruntime-node loaded from vdm's vendor\/ copy\)/);
    // where it still cannot load, one loud notice that names the loss and the fix
    rmSync(join(app, "node_modules", "vdm", "vendor"), { recursive: true });
    const slow = spawnSync("npx", ["--no-install", "vdm", "train", "--data", "moons", "--steps", "8", "--out", "run-jax"], {
      cwd: app,
      encoding: "utf8",
    });
    assert.equal(slow.status, 0, slow.stderr);
    assert.equal(slow.stderr.match(/ONNX Runtime is not available/g)?.length, 1, slow.stderr);
    assert.match(slow.stderr, /3–5× slower[\s\S]*Fix: npm install onnxruntime-node --onnxruntime-node-install=skip/);
    copyFileSync(join(ROOT, "dist-examples", "train-and-sample.js"), join(app, "main.js"));
    const out = JSON.parse(run(process.execPath, ["main.js", "50"], app).trim().split("\n").pop()!);
    assert.ok(Number.isFinite(out.energyDistance), JSON.stringify(out));

    // the thread count through the "vdm/engine" entry, before "vdm" loads; and the installed command
    writeFileSync(
      join(app, "threads.js"),
      [
        'import { configureEngine } from "vdm/engine";',
        "configureEngine({ threads: 2 });",
        'const { engineThreads, initEngine, shutdownEngine } = await import("vdm");',
        "await initEngine();",
        'console.log(JSON.stringify({ threads: engineThreads(), workers: typeof Worker === "function" }));',
        "await shutdownEngine();",
      ].join("\n"),
    );
    assert.deepEqual(JSON.parse(run(process.execPath, ["threads.js"], app)), { threads: 2, workers: true });
    const schedule = JSON.parse(
      run("npx", ["--no-install", "vdm", "schedule", "--schedule", "cosine", "--timesteps", "10", "--json"], app),
    );
    assert.equal(schedule.beta.length, 10, "vdm schedule --json from the installed package");
    // the PyTorch hand-off finds its Python package inside the installed one
    const exported = JSON.parse(
      run("npx", ["--no-install", "vdm", "export", "--format", "pytorch", "--model", "run-jax", "--out", "torch", "--json"], app),
    );
    assert.ok(exported.files.some((f: { name: string }) => f.name === join("vdm_torch", "train.py")));
  });
});
