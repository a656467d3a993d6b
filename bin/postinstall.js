#!/usr/bin/env node
/**
 * After `npm install vdm`: make sure ONNX Runtime, the fast engine, is there.
 *
 * onnxruntime-node (an optional dependency) bundles its CPU binaries in the npm package, but its own
 * postinstall then downloads the CUDA provider for Linux x64 from a package feed outside the npm
 * registry. Where that feed cannot be reached (no network, a firewall, a registry mirror), the script
 * fails and npm silently drops the whole optional dependency, CPU binaries included, after every
 * postinstall has run. In that case this script copies the package (this platform's binaries only)
 * and onnxruntime-common into vdm's own vendor/node_modules, which `vdm` looks in second
 * (src/onnx/available.ts); if npm has already removed it, it unpacks the same npm package from npm's
 * cache or registry, without running its script.
 *
 * It never fails the install: any problem is reported and `vdm` then says at run time, once, what is
 * lost (it runs on jax-js, 3–5× slower) and how to fix it.
 */
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { basename, dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const vendor = join(root, "vendor", "node_modules");
const say = (line) => process.stderr.write(`vdm postinstall: ${line}\n`);

/** Whether onnxruntime-node loads from `from` (a directory whose node_modules npm would search). */
function loadsFrom(from) {
  try {
    createRequire(join(from, "noop.js"))("onnxruntime-node");
    return true;
  } catch {
    return false;
  }
}

const platformBinaries = `${process.platform}/${process.arch}`;
/** Whether a path of the onnxruntime-node package is another platform's binaries (not copied). */
const otherPlatform = (rel) =>
  /^bin[\\/]napi-v6[\\/]/.test(rel) && !rel.replaceAll("\\", "/").startsWith(`bin/napi-v6/${process.platform}`);

/** The installed package directory of `name` as Node would find it from `from`, or null (package.json may not be exported, so no resolve). */
function packageDir(name, from) {
  const dirs = createRequire(join(from, "noop.js")).resolve.paths(name) ?? [];
  return dirs.map((d) => join(d, name)).find((d) => existsSync(join(d, "package.json"))) ?? null;
}

/**
 * Whether npm is about to drop the installed onnxruntime-node at `dir`: its postinstall must have
 * failed when a file it downloads for this platform (listed in its script/install-metadata.js) is
 * missing and the download was not skipped on purpose. npm removes such a package only after every
 * postinstall has run, so the files are still there to copy.
 */
function downloadFailed(dir) {
  const flag = process.env.ONNXRUNTIME_NODE_INSTALL || process.env.npm_config_onnxruntime_node_install;
  if (flag === "skip") return false;
  try {
    const { requirements, manifests } = createRequire(join(dir, "noop.js"))("./script/install-metadata.js");
    const files = (requirements[platformBinaries] ?? []).flatMap((name) => Object.keys(manifests[`${platformBinaries}:${name}`] ?? {}));
    return files.some((f) => !existsSync(join(dir, "bin", "napi-v6", platformBinaries, f)));
  } catch {
    return true;
  }
}

/** Copy the package at `dir` into vendor/node_modules/NAME (this platform's binaries only). */
function copyPackage(name, dir) {
  const target = join(vendor, name);
  rmSync(target, { recursive: true, force: true });
  cpSync(dir, target, { recursive: true, filter: (src) => !otherPlatform(relative(dir, src)) });
}

/** `npm pack NAME@VERSION` (npm's cache first) and unpack it into vendor/node_modules/NAME; returns its package.json. */
function unpack(name, version, tmp) {
  const npm = process.env.npm_execpath;
  const args = ["pack", `${name}@${version}`, "--pack-destination", tmp, "--json", "--prefer-offline", "--ignore-scripts"];
  const options = { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] };
  const out = npm
    ? execFileSync(process.execPath, [npm, ...args], options)
    : execFileSync("npm", args, { ...options, shell: process.platform === "win32" });
  const [{ filename }] = JSON.parse(out);
  const target = join(vendor, name);
  rmSync(target, { recursive: true, force: true });
  mkdirSync(target, { recursive: true });
  const exclude = ["win32", "darwin", "linux"].filter((p) => p !== process.platform).map((p) => `--exclude=package/bin/napi-v6/${p}`);
  execFileSync("tar", ["-xzf", join(tmp, basename(filename)), "-C", target, "--strip-components=1", ...exclude], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  return JSON.parse(readFileSync(join(target, "package.json"), "utf8"));
}

function main() {
  const omitted = (process.env.npm_config_omit ?? "").split(/[\s,]+/).includes("optional");
  const version = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).optionalDependencies?.["onnxruntime-node"];
  if (omitted || !version) return;
  const installed = packageDir("onnxruntime-node", root);
  if (installed && !downloadFailed(installed)) return;
  say(
    `onnxruntime-node's own postinstall could not download its optional CUDA provider, so npm drops the package; keeping a copy of its CPU binaries, all vdm needs, in ${vendor}`,
  );
  if (installed) {
    copyPackage("onnxruntime-node", installed);
    const common = packageDir("onnxruntime-common", installed);
    if (common) copyPackage("onnxruntime-common", common);
  } else {
    const tmp = mkdtempSync(join(tmpdir(), "vdm-ort-"));
    try {
      const node = unpack("onnxruntime-node", version, tmp);
      unpack("onnxruntime-common", node.dependencies["onnxruntime-common"], tmp);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  if (!existsSync(join(vendor, "onnxruntime-common", "package.json")) || !loadsFrom(join(root, "vendor")))
    throw new Error("the copy is incomplete");
  say(`ONNX Runtime is ready (${readdirSync(vendor).join(", ")})`);
}

try {
  main();
} catch (err) {
  say(
    `could not provide ONNX Runtime (${String(err?.message ?? err).split("\n")[0]}); vdm will run on jax-js, 3–5× slower. Fix: npm install onnxruntime-node --onnxruntime-node-install=skip`,
  );
  if (existsSync(vendor)) rmSync(join(root, "vendor"), { recursive: true, force: true });
}
