/**
 * The README as a front page: its first lines give the set-up and test commands (CI runs the README's test command),
 * and its library example runs as written (it is plain JavaScript as well as TypeScript).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

describe("the README", () => {
  it("gives the two set-up commands in its first code block, near the top", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const first = /^```(\w*)\n([\s\S]*?)```/m.exec(readme);
    assert.ok(first, "no code block in the README");
    assert.equal(first[1], "sh");
    assert.deepEqual(
      first[2]
        .trim()
        .split("\n")
        .map((line) => line.replace(/ +#.*$/, "")),
      ["npm ci && npm start", "npm run bench:setup && npm test"],
    );
    assert.ok(readme.slice(0, first.index).split("\n").length <= 20, "the set-up commands are not among the README's first lines");
    const scripts = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).scripts;
    assert.ok(scripts.start && scripts.test && scripts["bench:setup"], "package.json has no start, test or bench:setup script");
    // CI runs the same: bench:setup (with a fallback to Debian's PyTorch), then npm test
    const ci = readFileSync(join(ROOT, ".ci", "run"), "utf8");
    assert.ok(ci.indexOf("npm run bench:setup") < ci.lastIndexOf("npm test"), ".ci/run does not run bench:setup before npm test");
  });

  it("opens with a library example that runs and samples", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const code = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    assert.ok(code, "no ```ts block in the README");
    assert.ok(code.trim().split("\n").length <= 6, "the library example is an import and at most five lines");
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
