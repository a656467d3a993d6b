/**
 * Typed errors everywhere: no library source under src/ (the CLI and the test helpers aside) builds
 * a plain built-in error (`new Error(…)`, `throw Error(…)`, nor TypeError, RangeError or another
 * built-in class, which a caller could not tell from a bug either) or declares its own error class
 * beside those of errors.ts; every class of errors.ts is a VdmError and is exported by the public entry.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import * as errors from "./errors.js";
import * as vdm from "./index.js";

const SRC = fileURLToPath(new URL("../src", import.meta.url));
/** Folders under src/ whose errors are not the library's: the CLI reports and exits, src/testing/ serves the tests. */
const EXEMPT = new Set(["cli", "testing"]);

const BUILTIN = "(?:Error|TypeError|RangeError|SyntaxError|ReferenceError|EvalError|URIError|AggregateError)";
/** A built-in error constructed (`new Error(`, `throw TypeError(`), or a class of one's own extending one. */
const PLAIN = new RegExp(`\\b(?:new|throw)\\s+${BUILTIN}\\s*\\(|\\bextends\\s+${BUILTIN}\\b`);

/** Lines of `text` (a source file named `file`) that build a plain error, as "file:line: code"; comment lines are skipped. */
export function plainErrors(text: string, file: string): string[] {
  const found: string[] = [];
  text.split("\n").forEach((line, i) => {
    const code = line.trim();
    if (code.startsWith("*") || code.startsWith("/*") || code.startsWith("//")) return;
    if (PLAIN.test(code)) found.push(`${file}:${i + 1}: ${code}`);
  });
  return found;
}

/** The library's non-test .ts files under `dir`, relative to src/. */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return dir === SRC && EXEMPT.has(entry.name) ? [] : sources(path);
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts") ? [relative(SRC, path)] : [];
  });
}

describe("typed errors", () => {
  it("finds a plain error wherever it is built, and nothing in comments or typed errors", () => {
    const planted = [
      "/** throws new Error( in a comment */",
      'if (x) throw new Error("plain");',
      "  throw Error(`no new`);",
      "const e = new TypeError('t');",
      "return new RangeError(msg);",
      "class Mine extends Error {}",
      'throw new DataError("typed");',
      "// new Error(",
    ].join("\n");
    assert.deepEqual(
      plainErrors(planted, "x.ts").map((f) => f.split(":")[1]),
      ["2", "3", "4", "5", "6"],
    );
  });

  it("no library source builds a plain Error, TypeError or RangeError (file:line listed)", () => {
    const files = sources(SRC);
    assert.ok(files.length > 100, `only ${files.length} source files found under ${SRC}`);
    const found = files.flatMap((file) => (file === "errors.ts" ? [] : plainErrors(readFileSync(join(SRC, file), "utf8"), `src/${file}`)));
    assert.deepEqual(found, [], `plain errors (use a class of src/errors.ts):\n${found.join("\n")}`);
  });

  it("every error class is a VdmError and is exported by the public entry", () => {
    const classes = Object.entries(errors);
    assert.ok(classes.length >= 6);
    for (const [name, cls] of classes) {
      assert.ok(cls === errors.VdmError || cls.prototype instanceof errors.VdmError, `${name} does not extend VdmError`);
      assert.equal((vdm as Record<string, unknown>)[name], cls, `${name} is not exported by src/index.ts`);
      assert.equal(new cls("m").name, name);
    }
  });
});
