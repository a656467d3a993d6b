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
 * guidance, the HVAE's ELBO and the latent model's bound (and its held-out evaluation), the optimiser and EMA, the ODE solver and likelihood, the metrics, Diffusion-LM's loss and rounding, the autoencoder's loss, the HVAE's objective. */
export const mutate = [
  "src/schedule/*.ts",
  "src/diffusion/*.ts",
  "src/hvae/*.ts",
  "src/latent/*.ts",
  "src/sample/*.ts",
  "src/guidance/*.ts",
  "src/ode/*.ts",
  "src/eval/{energy,frechet,likelihood,ode-likelihood,elbo-variance,latent}.ts",
  "src/train/adam.ts",
  "src/train/objectives/diffusion-lm.ts",
  "src/train/objectives/autoencoder.ts",
  "src/train/objectives/hvae.ts",
  "src/train/objectives/distill.ts",
  "src/text/rounding.ts",
  "!src/**/*.test.ts",
  "!src/**/index.ts",
];

/**
 * Test files the mutation runs leave out, though the suite runs them: each surviving mutant costs the
 * whole run of every test file that reaches it, so the mutation runs use the exact, fast tests (each file
 * under about 3 s) and these must kill the mutants. Left out: tests that train a network for tens of
 * seconds, the networks' own tests (not math core), the shipped model's evaluation, and the statistical
 * runs (sampler moments and convergence over many steps, Langevin's 3,000-step chains, the ELBO's
 * 5-standard-error checks).
 */
export const leftOut = new Set([
  "train/train.test.js",
  "train/images.test.js",
  "train/shipped.test.js",
  "train/distill.test.js",
  "text/train.test.js",
  "guidance/trained.test.js",
  "sample/score-model.test.js",
  "sample/langevin.test.js",
  "sample/fast.test.js",
  "sample/ancestral.test.js",
  "diffusion/elbo.test.js",
  "models/unet.test.js",
  "models/cnn.test.js",
  "models/layers.test.js",
  "models/autoencoder.test.js",
]);
const folders = ["schedule", "diffusion", "sample", "guidance", "ode", "eval", "train", "train/objectives", "text", "models", "densities"];
const testFiles = folders.flatMap((folder) =>
  readdirSync(`src/${folder}`)
    .filter((f) => f.endsWith(".test.ts"))
    .map((f) => `${folder}/${f.replace(/\.ts$/, ".js")}`)
    .filter((f) => !leftOut.has(f))
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
  // Mutants in code that runs once on import would run every test file; they are listed as ignored.
  ignoreStatic: true,
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
