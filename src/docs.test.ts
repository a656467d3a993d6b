/** The API reference: typedoc over the public API with every warning an error (an undocumented export, a type it cannot link). */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

describe("the API reference", () => {
  it("documents every public export (typedoc, warnings as errors)", () => {
    const r = spawnSync(process.execPath, ["node_modules/typedoc/bin/typedoc", "--emit", "none"], {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 300_000,
    });
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  });
});
