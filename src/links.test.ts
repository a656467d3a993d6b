/**
 * The README and the guides (docs/*.md, ARCHITECTURE.md) as a reader follows them: every relative link and
 * picture points to a file that exists, every #anchor to a heading of its page, every repository path a guide
 * names in a code span exists, and every `vdm <command>` they show is a command `vdm --help` lists.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** The pages: README.md, ARCHITECTURE.md and the guides directly under docs/ (not the generated docs/api/). */
const PAGES = [
  "README.md",
  "ARCHITECTURE.md",
  ...readdirSync(join(ROOT, "docs"))
    .filter((name) => name.endsWith(".md"))
    .map((name) => `docs/${name}`),
];

const FENCE = /^```[^\n]*\n[\s\S]*?^```$/gm;
const SPAN = /`[^`\n]+`/g;

/** A page's prose: its text without fenced code blocks and code spans (a link inside code is not a link). */
function prose(text: string): string {
  return text.replace(FENCE, "").replace(SPAN, "");
}

/** A page's code: its fenced code blocks and code spans. */
function code(text: string): string[] {
  const blocks = text.match(FENCE) ?? [];
  return [...blocks, ...(text.replace(FENCE, "").match(SPAN) ?? [])];
}

/** The anchors GitHub gives a page's headings: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const [, heading] of text.replace(FENCE, "").matchAll(/^#{1,6} +(.+?) *#*$/gm)) {
    const base = heading
      .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, "")
      .replace(/ /g, "-");
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** Every `[text](target)` and `![alt](target)` in a page's prose. */
function links(text: string): string[] {
  return [...prose(text).matchAll(/!?\[[^\]]*\]\(([^)\s]+)(?: +"[^"]*")?\)/g)].map((m) => m[1]);
}

describe("the README and the guides", () => {
  it("link only to files that exist and to headings their pages have", () => {
    const broken: string[] = [];
    let checked = 0;
    for (const page of PAGES) {
      const text = readFileSync(join(ROOT, page), "utf8");
      for (const target of links(text)) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:
        checked++;
        const [path, anchor] = target.split("#", 2);
        const file = path === "" ? join(ROOT, page) : join(ROOT, dirname(page), decodeURIComponent(path));
        if (!existsSync(file)) {
          broken.push(`${page}: ${target} (no ${relative(ROOT, file)})`);
          continue;
        }
        if (anchor === undefined) continue;
        if (!file.endsWith(".md") || statSync(file).isDirectory()) broken.push(`${page}: ${target} (an anchor into a non-page)`);
        else if (!anchors(readFileSync(file, "utf8")).has(anchor)) broken.push(`${page}: ${target} (no heading #${anchor})`);
      }
    }
    assert.deepEqual(broken, []);
    assert.ok(checked >= 40, `only ${checked} relative links found: is the link pattern still right?`);
  });

  it("name only repository paths that exist (a code span such as `src/sample/ddim.ts`)", () => {
    const missing: string[] = [];
    let checked = 0;
    for (const page of PAGES) {
      const spans = readFileSync(join(ROOT, page), "utf8").replace(FENCE, "").match(SPAN) ?? [];
      for (const span of spans) {
        const path = /^`((?:src|playground|bench|examples|scripts|models|docs|bin|data)\/[^\s*<>]*)`$/.exec(span)?.[1];
        if (path === undefined || path.startsWith("docs/api/")) continue; // docs/api/ is written by npm run docs
        checked++;
        if (!existsSync(join(ROOT, path))) missing.push(`${page}: ${path}`);
      }
    }
    assert.deepEqual(missing, []);
    assert.ok(checked >= 25, `only ${checked} paths found: is the path pattern still right?`);
  });

  it("run only commands that vdm has", () => {
    const r = spawnSync(process.execPath, [join(ROOT, "bin/vdm.js"), "--help"], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    const listed = /^Commands:\n([\s\S]*?)\n\n/m.exec(r.stdout)?.[1];
    assert.ok(listed, r.stdout);
    const known = new Set(listed.split("\n").map((line) => line.trim().split(/\s+/)[0]));
    const unknown: string[] = [];
    let checked = 0;
    for (const page of PAGES) {
      for (const snippet of code(readFileSync(join(ROOT, page), "utf8"))) {
        for (const [, name] of snippet.matchAll(/(?:^|[\s`(])(?:npx vdm|node bin\/vdm\.js|vdm) +([a-z][a-z-]*)/gm)) {
          checked++;
          if (!known.has(name)) unknown.push(`${page}: vdm ${name}`);
        }
      }
    }
    assert.deepEqual(unknown, [], `known commands: ${[...known].join(", ")}`);
    assert.ok(checked >= 50, `only ${checked} commands found: is the command pattern still right?`);
  });
});
