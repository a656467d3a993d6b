/** The README's library example, run as written (it is plain JavaScript as well as TypeScript). */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

describe("the README", () => {
  it("opens with a library example that runs and samples", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const code = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    assert.ok(code, "no ```ts block in the README");
    // inside the package folder, so that "vdm" resolves to the package itself
    const dir = join(ROOT, "dist-readme");
    mkdirSync(dir, { recursive: true });
    const file = join(dir, "example.mjs");
    writeFileSync(file, `${code}\nconsole.log(JSON.stringify({ samples: samples.length, finite: samples.every(Number.isFinite) }));\n`);
    const r = spawnSync(process.execPath, [file], { encoding: "utf8", timeout: 300_000 });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split("\n").pop()!);
    assert.deepEqual(out, { samples: 2000, finite: true });
    assert.match(r.stdout, /^500 /m, "the progress callback printed step 500");
  });
});
