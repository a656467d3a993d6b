/** `vdm demo` (the README's main command): what the library can show end to end today. */
import * as elbo from "./elbo.js";
import * as schedule from "./schedule.js";

export const help = `vdm demo

Prints the cosine schedule (T = 1000) and the ELBO of the exact denoiser on Gaussian data for
T = 10, 100, 1000 and continuous time, next to the exact log-likelihood.`;

export function run(argv: string[]): void {
  if (argv.includes("--help")) return void console.log(help);
  schedule.run(["--schedule", "cosine", "--timesteps", "1000"]);
  console.log();
  elbo.run(["--data", "gaussian", "--timesteps", "10,100,1000,0", "--n", "4000", "--seed", "0"]);
}
