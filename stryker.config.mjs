// @ts-check
/**
 * Mutation testing of the math core (`npm run mutate`): StrykerJS changes one operator, constant or
 * condition at a time in the files under `mutate`, rebuilds, and runs the test files that reach the
 * changed line; a mutant that every such test passes "survives". Incremental: the results of the last
 * run live in reports/mutation/incremental.json, and only mutants in changed code, or reached by changed
 * tests, run again (a clean run of everything: `npm run mutate -- --force`).
 */
import { readdirSync } from "node:fs";

/** The math core: schedules, the diffusion process, ELBO and decoder, target conversions, samplers,
 * guidance, the optimiser and EMA, the ODE solver and likelihood, the metrics, the text loss and rounding. */
const mutate = [
  "src/schedule/*.ts",
  "src/diffusion/*.ts",
  "src/sample/*.ts",
  "src/guidance/*.ts",
  "src/ode/*.ts",
  "src/eval/{energy,frechet,likelihood,ode-likelihood,elbo-variance}.ts",
  "src/train/adam.ts",
  "src/text/{loss,rounding}.ts",
  "!src/**/*.test.ts",
  "!src/**/index.ts",
];

/** Test files that train a network for tens of seconds: the suite runs them, the mutation runs leave
 * them out (each surviving mutant would cost their whole run); the exact tests beside them must kill. */
const training = new Set([
  "train/train.test.js",
  "train/images.test.js",
  "text/train.test.js",
  "guidance/trained.test.js",
  "sample/score-model.test.js",
]);
const folders = ["schedule", "diffusion", "sample", "guidance", "ode", "eval", "train", "text", "models"];
const testFiles = folders.flatMap((folder) =>
  readdirSync(`src/${folder}`)
    .filter((f) => f.endsWith(".test.ts"))
    .map((f) => `${folder}/${f.replace(/\.ts$/, ".js")}`)
    .filter((f) => !training.has(f))
    .map((f) => `dist/${f}`),
);

export default {
  testRunner: "tap",
  tap: { testFiles, forceBail: true },
  buildCommand: "tsc -p tsconfig.json",
  mutate,
  // String literals in the core are error messages and display names; their mutants say nothing about the math.
  mutator: { excludedMutations: ["StringLiteral"] },
  coverageAnalysis: "perTest",
  concurrency: 2,
  incremental: true,
  incrementalFile: "reports/mutation/incremental.json",
  reporters: ["clear-text", "progress-append-only", "html", "json"],
  htmlReporter: { fileName: "reports/mutation/index.html" },
  jsonReporter: { fileName: "reports/mutation/mutation.json" },
  clearTextReporter: { allowColor: false, logTests: false },
  tempDirName: ".stryker-tmp",
  cleanTempDir: "always",
};
