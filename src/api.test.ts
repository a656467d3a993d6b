/**
 * The shape of the public API, read from the published declarations (dist/*.d.ts) with the
 * TypeScript compiler, top level and namespaces: no function, constructor or method takes a
 * destructured parameter (the reference would call it `__namedParameters`) or a long row of
 * positionals, and every field of an options object says what it does and its default. And the
 * API reports (api/*.api.md, API Extractor): the published surface is the one checked in.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
/** Entry points that re-export a dependency ("vdm/jax": jax-js's own API), not ours to shape. */
const FOREIGN = new Set(["./jax"]);
/** The package's entry points' declarations, as package.json's "exports" publishes them ("vdm", "vdm/browser", "vdm/engine", "vdm/plot", "vdm/onnx-web"). */
const ENTRIES = Object.entries(
  (JSON.parse(readFileSync(`${ROOT}package.json`, "utf8")) as { exports: Record<string, { types?: string } | string> }).exports,
).flatMap(([path, entry]) => (typeof entry === "object" && entry.types && !FOREIGN.has(path) ? [ROOT + entry.types.slice(2)] : []));
/** The most parameters a public call takes: a few obvious positionals, then one options object. */
const MAX_PARAMETERS = 4;
/**
 * Array math whose positionals are the formula's own symbols (x_t, t, γ, …), called inside
 * traced functions: x̂ conversions, scores, the ELBO's and the text loss's per-example costs, and
 * the network interface every model implements.
 */
const FORMULAS = new Set([
  "convert",
  "vpScore",
  "veScore",
  "reconstructionCost",
  "diffusionCost",
  "textLoss",
  "textLossTerms",
  "Model.apply",
]);

/** A public callable: its name (Class.method for members), that name within its namespace (`local`), and its declaration. */
interface Callable {
  name: string;
  local: string;
  decl: ts.SignatureDeclaration;
}

/** Every function, and every public constructor and method of a class or interface, exported from the entry points. */
function publicCallables(): { callables: Callable[]; checker: ts.TypeChecker } {
  const program = ts.createProgram(ENTRIES, {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    skipLibCheck: true,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const callables: Callable[] = [];
  const seen = new Set<ts.Node>();
  const add = (prefix: string, local: string, decl: ts.SignatureDeclaration) => {
    if (seen.has(decl)) return;
    seen.add(decl);
    callables.push({ name: prefix + local, local, decl });
  };
  /** The exports of a module: functions and classes and interfaces' members under `prefix`, namespaces (`export * as ns`) recursively. */
  const visit = (module: ts.Symbol, prefix: string) => {
    for (const exported of checker.getExportsOfModule(module)) {
      const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      if (symbol.flags & ts.SymbolFlags.ValueModule) {
        visit(symbol, `${prefix}${exported.name}.`);
        continue;
      }
      const name = exported.name;
      for (const decl of symbol.declarations ?? []) {
        if (ts.isFunctionDeclaration(decl)) add(prefix, name, decl);
        if (!ts.isClassDeclaration(decl) && !ts.isInterfaceDeclaration(decl)) continue;
        for (const member of decl.members) {
          const modifiers = ts.canHaveModifiers(member) ? (ts.getModifiers(member) ?? []) : [];
          if (modifiers.some((m) => m.kind === ts.SyntaxKind.PrivateKeyword || m.kind === ts.SyntaxKind.ProtectedKeyword)) continue;
          if (ts.isConstructorDeclaration(member)) add(prefix, `${name}.constructor`, member);
          if (ts.isMethodDeclaration(member) || ts.isMethodSignature(member)) add(prefix, `${name}.${member.name.getText()}`, member);
        }
      }
    }
  };
  for (const entry of ENTRIES) {
    const file = program.getSourceFile(entry);
    assert.ok(file, `${entry} is missing: build first (npm run build)`);
    visit(checker.getSymbolAtLocation(file)!, "");
  }
  return { callables, checker };
}

describe("the public API's signatures", () => {
  const { callables, checker } = publicCallables();

  it("finds the library's calls in the declarations", () => {
    const names = new Set(callables.map((c) => c.local));
    for (const name of [
      "drawSamples",
      "heldOutElbo",
      "evaluate",
      "odeLikelihood",
      "train",
      "AncestralSampler.constructor",
      "DdimSampler.sample",
      "cfgModel",
      ...FORMULAS,
    ])
      assert.ok(names.has(name), `${name} not found among ${names.size} public calls`);
    const qualified = new Set(callables.map((c) => c.name));
    for (const name of ["onnx.exportModel", "training.TrainingRun.constructor", "samplers.LangevinSampler.constructor"])
      assert.ok(qualified.has(name), `${name}: the namespaces' calls are not read`);
  });

  it("takes no destructured parameter (documented as __namedParameters)", () => {
    const destructured = callables.filter((c) => c.decl.parameters.some((p) => !ts.isIdentifier(p.name))).map((c) => c.name);
    assert.deepEqual(
      destructured,
      [],
      `name these options parameters (e.g. \`options: XOptions = {}\`) and destructure them in the body: ${destructured.join(", ")}`,
    );
  });

  it(`takes at most ${MAX_PARAMETERS} parameters, the last an options object where more are needed`, () => {
    const long = callables
      .filter((c) => c.decl.parameters.length > MAX_PARAMETERS && !FORMULAS.has(c.local))
      .map((c) => `${c.name}(${c.decl.parameters.map((p) => p.name.getText()).join(", ")})`);
    assert.deepEqual(long, [], `move all but the obvious positionals into an options object: ${long.join("; ")}`);
  });

  it("documents every field of an options parameter with its default (or as required)", () => {
    const undocumented: string[] = [];
    for (const { name, decl } of callables) {
      for (const p of decl.parameters) {
        if (!p.type || !/Options\b/.test(p.type.getText())) continue;
        for (const field of checker.getPropertiesOfType(checker.getTypeFromTypeNode(p.type))) {
          const doc = ts.displayPartsToString(field.getDocumentationComment(checker));
          if (!/\b(default|required)\b/i.test(doc))
            undocumented.push(`${name}: ${p.type.getText()}.${field.name}${doc ? "" : " (no doc comment)"}`);
        }
      }
    }
    assert.deepEqual([...new Set(undocumented)], [], "each field of an options object needs a doc comment that gives its default");
  });
});

/** API Extractor's check of one report (api/<name>.json): exit status and output. */
function extractorCheck(name: string): Promise<{ name: string; status: number | null; output: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ["node_modules/@microsoft/api-extractor/bin/api-extractor", "run", "-c", `api/${name}.json`], {
      cwd: ROOT,
    });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    child.on("close", (status) => done({ name, status, output }));
  });
}

describe("the API reports (api/*.api.md)", () => {
  it("match the published declarations of vdm, vdm/browser, vdm/engine, vdm/plot and vdm/onnx-web", { timeout: 120_000 }, async () => {
    const checks = await Promise.all(["vdm", "vdm-browser", "vdm-engine", "vdm-plot", "vdm-onnx-web"].map(extractorCheck));
    for (const { name, status, output } of checks)
      assert.equal(status, 0, `api/${name}.api.md differs from the declarations: review the change, then \`npm run api\`\n${output}`);
  });
});
