/** The flag tables: the parser and the help come from one table, and every command's help matches its parser. */
import assert from "node:assert/strict";
import { describe, it, mock } from "node:test";
import { commonFlags, defineFlags, type FlagSpec, helpText, omit, parse } from "./args.js";
import { COMMANDS, type Command } from "./main.js";

const table = defineFlags(
  "Things",
  {
    count: { default: 3, value: "N", help: "how many" },
    name: { value: "S", help: "what to call it" },
    loud: { type: "boolean", short: "l", help: "shout" },
  },
  "Some prose.",
);

describe("parse", () => {
  it("gives defaults, values, switches and the common flags", () => {
    assert.deepEqual({ ...parse([], table) }, { count: "3", name: "", loud: false, seed: 0, json: false, help: false });
    assert.deepEqual(
      // with --help the typed flags stay as written
      { ...parse(["--count", "5", "-l", "--name=x", "--json", "-h"], table) },
      { count: "5", name: "x", loud: true, seed: "0", json: true, help: true },
    );
  });

  it("rejects unknown flags, positionals, a value for a switch, and omitted flags", () => {
    assert.throws(() => parse(["--bogus"], table), /unknown flag --bogus \(--help lists the flags\)$/);
    assert.throws(() => parse(["stray"], table), { code: "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL" });
    assert.throws(() => parse(["--loud=yes"], table), { code: "ERR_PARSE_ARGS_INVALID_OPTION_VALUE" });
    assert.throws(() => parse(["--name", "x"], omit(table, "name")), /unknown flag --name/);
  });

  it("refuses a flag defined twice", () => {
    assert.throws(() => parse([], table, defineFlags("Again", { count: { help: "again" } })), /--count is defined twice/);
  });
});

describe("helpText", () => {
  it("lists each flag with its value, help and default, aligned, then the note and the common flags", () => {
    const text = helpText("vdm thing [--count N]", "Does a thing.", table);
    assert.equal(
      text,
      `vdm thing [--count N]

Does a thing.

Things:
  --count N   how many (default: 3)
  --name S    what to call it
  -l, --loud  shout
Some prose.

Common flags:
  --seed S    random seed (default: 0)
  --json      print the result as one line of JSON
  -h, --help  print this help`,
    );
  });

  it("wraps long help under its flag", () => {
    const long = defineFlags("Long", { "a-rather-long-flag-name": { value: "VALUE", help: Array(40).fill("word").join(" ") } });
    const lines = helpText("u", "", long).split("\n");
    assert.deepEqual(lines.slice(0, 4), ["u", "", "Long:", "  --a-rather-long-flag-name VALUE"]);
    assert.ok(
      lines.every((l) => l.length <= 100),
      "no line over 100 characters",
    );
    assert.match(lines[4]!, /^ {30}word word/);
  });
});

/** A command's help printed by running it with --help (and `before` flags), or the error its parser throws. */
async function runHelp(command: Command, before: string[]): Promise<{ printed: string } | { error: Error & { code?: string } }> {
  const printed: string[] = [];
  const log = mock.method(console, "log", (s: string) => void printed.push(s));
  try {
    await command.run([...before, "--help"]);
    return { printed: printed.join("\n") };
  } catch (error) {
    return { error: error as Error };
  } finally {
    log.mock.restore();
  }
}

/** The flags a help lists, by name: the value placeholder (absent for a switch) and the entry's text. */
function listedFlags(help: string): Map<string, { value?: string; text: string }> {
  const listed = new Map<string, { value?: string; text: string }>();
  let current: { value?: string; text: string } | undefined;
  for (const line of help.split("\n")) {
    const m = /^ {2}(?:-\w, )?--([a-z0-9+-]+)(?: (\S+))?(?: {2,}(.*))?$/.exec(line);
    if (m) {
      assert.ok(!listed.has(m[1]!), `--${m[1]} is listed twice`);
      current = { ...(m[2] ? { value: m[2] } : {}), text: m[3] ?? "" };
      listed.set(m[1]!, current);
    } else if (current && /^ {6,}\S/.test(line)) current.text += ` ${line.trim()}`;
    else current = undefined;
  }
  return listed;
}

const tables = (command: Command) => [...command.flagTables, commonFlags];
const specsOf = (command: Command) => new Map(tables(command).flatMap((g) => Object.entries<FlagSpec>(g.specs)));
/** Every flag name any command knows, and one that none does. */
const universe = new Set([...Object.values(COMMANDS).flatMap((c) => [...specsOf(c).keys()]), "no-such-flag"]);

describe("every command's --help", () => {
  for (const [name, command] of Object.entries(COMMANDS)) {
    describe(`vdm ${name}`, () => {
      it("prints its help", async () => {
        assert.deepEqual(await runHelp(command, []), { printed: command.help });
      });

      it("lists exactly the flags its parser accepts (taking a value exactly where the help shows one)", async () => {
        const listed = listedFlags(command.help);
        assert.ok(listed.has("help") && listed.has("seed") && listed.size > 3, "the listing was found");
        for (const flag of universe) {
          const entry = listed.get(flag);
          const r = await runHelp(command, [entry && !entry.value ? `--${flag}` : `--${flag}=1`]);
          if (entry) assert.ok("printed" in r, `--${flag} is listed but the parser says: ${"error" in r ? r.error.message : ""}`);
          else
            assert.match(
              "error" in r ? r.error.message : "",
              new RegExp(`^unknown flag --${flag}\\b`),
              `--${flag} is accepted but not listed`,
            );
        }
      });

      it("shows each flag's default, the one the parser gives", () => {
        const listed = listedFlags(command.help);
        const specs = specsOf(command);
        assert.deepEqual([...listed.keys()].sort(), [...specs.keys()].sort(), "the help lists the command's tables");
        const parsed: Record<string, unknown> = parse([], ...command.flagTables);
        for (const [flag, spec] of specs) {
          if (spec.type === "boolean") {
            assert.equal(parsed[flag], false);
            continue;
          }
          // a typed flag left unset parses to undefined
          const value = parsed[flag] === undefined ? "" : String(parsed[flag]);
          const shown = String(spec.default ?? "");
          // a number may parse to another spelling of itself ("1e-5" → 0.00001)
          assert.ok(value === shown || (shown !== "" && Number(value) === Number(shown)), `--${flag}'s default: ${value}, shown ${shown}`);
          if (shown !== "")
            assert.ok(
              listed.get(flag)!.text.endsWith(`(default: ${shown})`),
              `--${flag} shows (default: ${shown}): "${listed.get(flag)!.text}"`,
            );
        }
      });

      it("mentions only flags it accepts (in its usage and prose too)", () => {
        // "vdm train --conditional" or "vdm train --data moons --schedule cosine" names another command's flags
        const own = command.help.replace(/vdm [a-z-]+(\s+--?[a-z0-9+-]+(\s+[^\s-]\S*)?)+/g, (m) => (m.startsWith(`vdm ${name} `) ? m : ""));
        const listed = listedFlags(command.help);
        for (const [, flag] of own.matchAll(/(?<![\w-])--([a-z][a-z0-9+-]*)/g))
          assert.ok(listed.has(flag!), `the help mentions --${flag}, which vdm ${name} does not take`);
      });
    });
  }
});
