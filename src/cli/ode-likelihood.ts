/** `vdm eval --likelihood ode`: the flags of the probability-flow ODE's solver, and the likelihood it integrates, with progress. */
import type { PointSet } from "../data/sets.js";
import type { Rng } from "../engine/index.js";
import { type OdeLikelihood, type OdeLikelihoodOptions, odeLikelihood } from "../eval/ode-likelihood.js";
import { onnxFlow } from "../onnx/flow.js";
import { ODE_SIGMA_MAX } from "../sample/predict.js";
import { defineFlags, type FlagValues, oneOf, optional, optionalInt, positive } from "./args.js";
import { type Backend, type backendFlags, parseBackend, type ResolvedModel } from "./model.js";
import { Progress } from "./progress.js";
import { maxSigmaFlag } from "./samplers.js";

/** `--likelihood ode` and its solver's flags. */
export const likelihoodFlags = defineFlags(
  "Likelihood",
  {
    likelihood: {
      default: "elbo",
      value: "elbo|ode",
      parse: oneOf("elbo", "ode"),
      help: "elbo reports the ELBO bound; ode also integrates the probability-flow ODE from each held-out point to the prior for its exact log-likelihood",
    },
    rtol: { default: "1e-5", value: "R", help: "ode: the relative tolerance of the adaptive Dormand–Prince 5(4) solver", parse: positive },
    atol: { default: "1e-5", value: "A", help: "ode: its absolute tolerance", parse: positive },
    "ode-steps": { value: "N", help: "ode: N fixed steps instead, at 6N + 1 evaluations", parse: optionalInt({ min: 1 }) },
    divergence: {
      value: "exact|hutchinson",
      help: "ode: exact (D network products per evaluation; the default up to 16 dimensions) or hutchinson (one Rademacher probe per point; unbiased)",
      parse: optional(oneOf("exact", "hutchinson")),
    },
  },
  `With --likelihood ode, image pixels are dequantised uniformly over their 8-bit bins, so bits/dim are
comparable with published ODE numbers. The path ends where the ODE samplers start (--max-sigma,
default ${ODE_SIGMA_MAX}; the oracle: the prior level), with the prior N(0, I) there. With --backend onnx the
drift and its divergence (the network and its forward-mode products) run in ONNX Runtime.`,
);
export type LikelihoodFlags = FlagValues<typeof likelihoodFlags.specs> & { "max-sigma": string } & Partial<
    FlagValues<typeof backendFlags.specs>
  >;

/** What --likelihood asks for, checked before any work: undefined for elbo; for ode, the solver's options and the backend of its drift. */
export function odeRequest(resolved: ResolvedModel, flags: LikelihoodFlags): OdeRequest | undefined {
  if (flags.likelihood === "elbo") return undefined;
  const { rtol, atol, "ode-steps": steps, divergence } = flags;
  const sigmaMax = maxSigmaFlag(flags["max-sigma"], resolved) ?? ODE_SIGMA_MAX;
  return { options: { rtol, atol, steps, divergence, sigmaMax }, backend: parseBackend(flags) };
}
type OdeRequest = { options: Pick<OdeLikelihoodOptions, "rtol" | "atol" | "steps" | "divergence" | "sigmaMax">; backend: Backend };

/** The probability-flow log-likelihood of `test` as `request` asks, with progress on stderr. */
export function odeFromFlags(resolved: ResolvedModel, request: OdeRequest, test: PointSet, rng: Rng, image: boolean): OdeLikelihood {
  const batch = image ? 16 : test.n;
  const progress = new Progress("ODE likelihood", test.n, 0, process.stderr, false);
  let done = 0;
  const { backend } = request;
  const sessions: { close(): void }[] = [];
  const flow = backend.onnx
    ? (exact: boolean) => {
        const f = onnxFlow(resolved.jaxDenoiser.model, resolved.jaxDenoiser.params, exact, backend.session);
        sessions.push(f);
        return f;
      }
    : undefined;
  try {
    return odeLikelihood(resolved.jaxDenoiser, resolved.process, test, {
      normalization: resolved.normalization,
      rng,
      ...request.options,
      dequantize: image,
      batch,
      onBatch: (n) => {
        done = n;
        progress.update(n);
      },
      onStep: (fraction) => progress.update(Math.min(test.n, done + Math.floor(fraction * Math.min(batch, test.n - done)))),
      flow,
    });
  } finally {
    sessions.forEach((s) => s.close());
  }
}

/** The ODE result as JSON: bits/dim and nats with standard errors, and the evaluations used. */
export const odeJson = (ode: OdeLikelihood) => ({
  bpd: ode.bpd,
  bpdStdError: ode.bpdStdError,
  nats: ode.nats,
  natsStdError: ode.natsStdError,
  evaluations: ode.evaluations,
  divergence: ode.divergence,
  gamma: ode.gamma,
});

export const odeLine = (ode: OdeLikelihood) =>
  `probability-flow ODE: ${ode.bpd.toFixed(4)} ± ${ode.bpdStdError.toFixed(4)} bits/dim = ${ode.nats.toFixed(4)} ± ${ode.natsStdError.toFixed(4)} nats (−log p; ${ode.divergence} divergence, ${ode.evaluations.toFixed(0)} evaluations per point)`;
