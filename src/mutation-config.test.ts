/**
 * The mutation-testing config (stryker.config.mjs) against the tree: every file it leaves out of the
 * mutation runs is a test file that exists, every test file it runs exists after the build, and every
 * pattern of the math core names at least one source file, so a renamed file cannot silently drop out
 * of the mutation runs (or a slow one silently join them).
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { describe, it } from "node:test";

const at = new URL("../stryker.config.mjs", import.meta.url);
const config = (await import(at.href)) as { default: { tap: { testFiles: string[] } }; leftOut: Set<string>; mutate: string[] };

/** The files of `pattern` (a folder, then `*.ts` or `{a,b}.ts`), with the config's negations applied. */
function sourcesOf(pattern: string): string[] {
  const slash = pattern.lastIndexOf("/");
  const [folder, name] = [pattern.slice(0, slash), pattern.slice(slash + 1)];
  const names = name.startsWith("{")
    ? name
        .slice(1, name.indexOf("}"))
        .split(",")
        .map((n) => `${n}.ts`)
    : readdirSync(folder).filter((f) => f.endsWith(".ts"));
  return names.filter((n) => !n.endsWith(".test.ts") && n !== "index.ts" && existsSync(`${folder}/${n}`));
}

describe("the mutation-testing config", () => {
  it("leaves out only test files that exist, and runs only test files that exist", () => {
    for (const file of config.leftOut)
      assert.ok(existsSync(`src/${file.replace(/\.js$/, ".ts")}`), `left-out test file ${file} does not exist`);
    assert.ok(config.default.tap.testFiles.length >= 10);
    for (const file of config.default.tap.testFiles) {
      assert.ok(existsSync(file), `mutation test file ${file} does not exist`);
      assert.ok(!config.leftOut.has(file.replace(/^dist\//, "")), `${file} is both run and left out`);
    }
  });

  it("names source files with every pattern of the math core", () => {
    for (const pattern of config.mutate.filter((p) => !p.startsWith("!"))) {
      const names = pattern.includes("{") ? pattern.slice(pattern.indexOf("{") + 1, pattern.indexOf("}")).split(",") : [];
      const found = sourcesOf(pattern);
      assert.ok(found.length > 0, `${pattern} names no source file`);
      assert.equal(found.length, names.length || found.length, `${pattern}: some named files are missing`);
    }
  });
});
