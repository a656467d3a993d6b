/**
 * The browser entry ("vdm/browser", dist/browser.js) as a bundler resolves it for a page: its
 * module graph, followed through relative imports and package.json "imports" under the "browser"
 * condition, reaches no Node built-in and no package that needs Node (ONNX Runtime's Node binding,
 * resvg); and the package publishes it.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { isBuiltin } from "node:module";
import { dirname, join, relative } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const PACKAGE = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
  exports: Record<string, { types: string; default: string }>;
  imports: Record<string, Record<string, string>>;
};
/** Packages that load native Node code. */
const NODE_ONLY = new Set(["onnxruntime-node", "@resvg/resvg-js"]);

/** A specifier under package.json "imports", as a bundler with the "browser" condition resolves it. */
function browserImport(specifier: string): string {
  const target = PACKAGE.imports[specifier];
  assert.ok(target, `${specifier} is not in package.json "imports"`);
  return join(ROOT, target.browser ?? target.default!);
}

/** Every module the file at `entry` reaches (static and dynamic imports), with the chain that reaches each Node dependency. */
function nodeDependencies(entry: string): { modules: number; found: string[] } {
  const seen = new Set<string>();
  const found: string[] = [];
  const visit = (file: string, chain: string[]) => {
    if (seen.has(file)) return;
    seen.add(file);
    const here = [...chain, relative(ROOT, file)];
    for (const { fileName: specifier } of ts.preProcessFile(readFileSync(file, "utf8"), true, true).importedFiles) {
      if (specifier.startsWith(".")) visit(join(dirname(file), specifier), here);
      else if (specifier.startsWith("#")) visit(browserImport(specifier), here);
      else if (isBuiltin(specifier) || NODE_ONLY.has(specifier)) found.push(`${here.join(" → ")} → ${specifier}`);
    }
  };
  visit(entry, []);
  return { modules: seen.size, found };
}

describe("the browser entries (vdm/browser, vdm/plot)", () => {
  it("is published with its types", () => {
    assert.deepEqual(PACKAGE.exports["./browser"], { types: "./dist/browser.d.ts", default: "./dist/browser.js" });
  });

  it("reaches no Node built-in and no Node-only package", () => {
    const { modules, found } = nodeDependencies(join(ROOT, PACKAGE.exports["./browser"]!.default));
    assert.ok(modules > 50, `only ${modules} modules reached: the walk does not follow the imports`);
    assert.deepEqual(found, [], "move what the browser needs into modules without Node imports");
  });

  it("the charts' entry (vdm/plot) reaches no Node built-in either: a page draws with it on its main thread", () => {
    const { modules, found } = nodeDependencies(join(ROOT, PACKAGE.exports["./plot"]!.default));
    assert.ok(modules >= 5, `only ${modules} modules reached`);
    assert.deepEqual(found, []);
  });

  it("the check sees Node where it is: the Node entry reaches node:fs", () => {
    const { found } = nodeDependencies(join(ROOT, PACKAGE.exports["."]!.default));
    assert.ok(
      found.some((chain) => chain.endsWith("node:fs")),
      found.join("\n"),
    );
  });
});
