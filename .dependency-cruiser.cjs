// @ts-check
/**
 * The import rules of src/ (`npm run lint` checks them with dependency-cruiser): no import cycles, every
 * import resolves, and the floors of ARCHITECTURE.md — a folder imports its own floor's other folders and
 * lower floors, never a higher one. Test files, fixtures and src/testing/ may import anything.
 */

/** The floors, bottom to top: the folders (trailing "/") and files of src/ on each. */
const floors = [
  ["engine/", "errors.ts"],
  ["schedule/"],
  ["diffusion/", "hvae/", "latent/", "masked/"],
  ["models/", "densities/"],
  ["data/", "sample/", "ode/", "guidance/", "io/"],
  ["train/"],
  ["eval/", "onnx/", "text/", "plot/"],
  ["index.ts", "browser.ts", "cli/"],
];

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
/** A path pattern matching the given floors' folders and files. */
const pathOf = (entries) => `^src/(${entries.map((e) => (e.endsWith("/") ? escape(e) : `${escape(e)}$`)).join("|")})`;
/** Tests, fixtures and the test helpers: exempt from the floors. */
const tests = ["\\.test\\.ts$", "\\.fixture\\.ts$", "^src/testing/"];

const floorRules = floors.slice(0, -1).map((entries, k) => ({
  name: `floor-${k + 1}`,
  comment: `${entries.join(", ")} (floor ${k + 1}) may import floors 1–${k + 1} only (ARCHITECTURE.md)`,
  severity: "error",
  from: { path: pathOf(entries), pathNot: tests },
  to: { path: pathOf(floors.slice(k + 1).flat()) },
}));

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-circular",
      comment: "no import cycles (type-only imports included)",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    {
      name: "not-to-unresolvable",
      comment: "every import resolves to a file or an installed package",
      severity: "error",
      from: {},
      // #engine/setup, #engine/workers and #onnx/session are package.json "imports" that point into the build
      // (dist/), per environment; the lint runs on the sources before any build, and src/ holds both variants
      to: { couldNotResolve: true, pathNot: "^#(engine/(setup|workers)|onnx/session)$" },
    },
    ...floorRules,
    {
      name: "data-without-networks",
      comment: "data sets import densities (src/densities/), never networks (src/models/ holds networks only)",
      severity: "error",
      from: { path: "^src/data/", pathNot: tests },
      to: { path: "^src/models/" },
    },
    {
      name: "on-a-floor",
      comment: "every module of src/ sits on a floor: a new folder is added to `floors` here and in ARCHITECTURE.md",
      severity: "error",
      from: { path: "^src/", pathNot: [pathOf(floors.flat()), ...tests] },
      to: {},
    },
    {
      name: "jax-through-engine",
      comment: "jax-js is imported through src/engine/jax.ts only (the engine floor chooses and configures it)",
      severity: "error",
      from: { pathNot: "^src/engine/" },
      to: { path: "(^|/)node_modules/@jax-js/" },
    },
  ],
  options: {
    // package.json "imports" (#engine/…, #onnx/session) resolve into the build once there is one: not followed there
    doNotFollow: { path: ["node_modules", "^dist/"] },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default", "types"],
    },
    cache: false,
  },
};
