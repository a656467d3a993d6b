/**
 * The VDM objective with a learned schedule: the network and the schedule's endpoints follow the
 * ELBO, the interior shape the diffusion estimate's variance (continuous time) or the ELBO
 * (discrete), with the schedule's gradient assembled from plain gradients.
 */

import type { DecoderKind } from "../../diffusion/decoder.js";
import { diffusionCost, reconstructionCost } from "../../diffusion/elbo.js";
import { qSample } from "../../diffusion/forward.js";
import { klWeight, priorKl } from "../../diffusion/losses.js";
import type { Model } from "../../diffusion/model.js";
import { DiffusionProcess, stepsFromUniform } from "../../diffusion/process.js";
import type { Params } from "../../engine/index.js";
import { type Array, type JsTree, lax, numpy as np, tree, valueAndGrad } from "../../engine/jax.js";
import { tracingFor } from "../../engine/tracing.js";
import { type LearnedScheduleKind, type LearnedScheduleParams, learnedSchedule } from "../../schedule/learned.js";
import type { NoiseSchedule } from "../../schedule/schedule.js";
import { batchVariance, type Objective } from "./objective.js";

/** A learned schedule's levels for one batch: all [B] except the two ELBO ends ([1]). */
interface ScheduleLevels {
  /** the diffusion term's level γ_t and the factor in front of ‖ε − ε̂‖² (its unbiased weight) */
  gamma: Array;
  weight: Array;
  /** γ of the reconstruction latent (t = tMin, or 1/T) and of the prior latent (t = 1) */
  gammaReconstruction: Array;
  gammaPrior: Array;
}

/**
 * The levels of `schedule` for uniforms u: continuous time, t = u with weight ½γ'(t) (γ' by
 * forward-mode differentiation, so it is differentiable in the schedule's parameters); discrete,
 * t = i/T for i uniform on {2..T} with weight (T − 1)·½ expm1(γ(i/T) − γ((i−1)/T)), γ evaluated
 * directly (no table lookup, whose gradient would be a scatter). Consumes u.
 */
function scheduleLevels(schedule: NoiseSchedule, T: number, u: Array): ScheduleLevels {
  const ends = (t: number) => schedule.gamma(np.array([t]));
  if (T === 0) {
    // uniform in t: the learned shape γ(t) is the distribution of levels that the interior's
    // variance gradient tunes (a learned schedule has no inverse for "gamma" in any case)
    const { t, gamma, weight } = new DiffusionProcess(schedule, 0).levelsFromUniform(u, null, "elbo", "time");
    t.dispose();
    return { gamma, weight, gammaReconstruction: ends(schedule.tMin), gammaPrior: ends(schedule.tMax) };
  }
  const { steps, count } = stepsFromUniform(u, T, "elbo");
  const t = steps.ref.astype(np.float32).mul(1 / T);
  const tPrevious = steps
    .sub(1)
    .astype(np.float32)
    .mul(1 / T);
  const gamma = schedule.gamma(t);
  const weight = klWeight(schedule.gamma(tPrevious), gamma.ref).mul(count);
  return { gamma, weight, gammaReconstruction: ends(1 / T), gammaPrior: ends(1) };
}

/** How the interior shape of a learned schedule learns: with the ELBO, or by the estimator's variance. */
export type InteriorGradient = "elbo" | "variance";

/**
 * The VDM objective with a learned schedule. Per example, −ELBO in nats = reconstruction (decoder
 * at γ_rec) + prior KL (at γ_prior) + the diffusion term's one-sample estimate at a level drawn
 * from u, one ε shared by both latents. The network and the endpoints γ_min, γ_max (γ_rec and
 * γ_prior are them in continuous time) follow the gradient of the mean −ELBO. The interior shape
 * follows, in continuous time ("variance"), the gradient of the mean squared diffusion estimate
 * d_b: the continuous-time ELBO does not depend on the interior (the network sees γ only), so
 * ∇E[d²] = ∇Var[d], and this lowers the estimator's variance. In discrete time ("elbo") the ELBO
 * does depend on the interior, which then follows the ELBO like the endpoints.
 *
 * jax-js has no custom_vjp, so the gradient is assembled from plain ones. One `valueAndGrad`
 * pass differentiates the per-example loss with respect to the network and to each example's
 * levels (γ_b, weight_b, γ_rec, γ_prior) treated as inputs; the schedule's parameters then get
 * the chain rule through the surrogate
 *   S(η) = Σ_b c_b (∂L/∂γ_b · γ_b(η) + ∂L/∂w_b · w_b(η)) + ∂L/∂γ_rec · γ_rec(η) + ∂L/∂γ_prior · γ_prior(η),
 * whose gradient is the objective's: c_b = 1 for the endpoints (and a discrete interior),
 * c_b = 2 d_b/mean(d²) for a continuous interior (∂ log mean d²/∂η = mean 2 d ∂d/∂η / mean d²: the
 * variance's gradient scaled by a positive constant, so that it does not outweigh the network's in
 * the global clipping norm when d is in nats of a whole image). Two copies of the
 * schedule, each with the other part's parameters behind stopGradient, keep the two rules apart.
 * The reported variance is the batch variance of d_b.
 */
export function learnedScheduleObjective(model: Model, kind: LearnedScheduleKind, T: number, decoder: DecoderKind): Objective {
  const interior: InteriorGradient = T === 0 ? "variance" : "elbo";
  const levelsOf = (params: LearnedScheduleParams, u: Array) => scheduleLevels(learnedSchedule(kind, params), T, u);

  // per example: [mean −ELBO, aux d_b] as a function of the network and of the levels
  const negativeElbo = (
    network: Params,
    gamma: Array,
    weight: Array,
    gammaReconstruction: Array,
    gammaPrior: Array,
    batch: { x0: Array; eps: Array; labels?: Array },
  ) => {
    const { x0, eps, labels } = batch;
    const B = x0.shape[0]!;
    const perExample = (g: Array) => np.broadcastTo(g, [B]);
    const time = np.zeros([B]); // the network is conditioned on γ (gammaConditioned)
    const diffusion = diffusionCost(model, tree.ref(network), x0.ref, eps.ref, time.ref, gamma, weight, labels?.ref);
    const gRec = perExample(gammaReconstruction);
    const x1 = qSample(x0.ref, gRec.ref, eps);
    const reconstruction = reconstructionCost(model, decoder, network, x0.ref, x1, time, gRec, labels);
    const prior = priorKl(x0, perExample(gammaPrior));
    return [np.mean(diffusion.ref.add(reconstruction).add(prior)), diffusion] as [Array, Array];
  };

  return (params, batch) => {
    const { denoiser: network, schedule } = params as { denoiser: Params; schedule: LearnedScheduleParams };
    const labels = model.classes > 0 ? batch.labels : undefined;
    if (!labels) batch.labels.dispose();
    batch.table.dispose();
    const u = batch.u;
    const at = levelsOf(tree.map(lax.stopGradient, tree.ref(schedule)) as LearnedScheduleParams, u.ref);
    const [[loss, diffusion], [gNetwork, gGamma, gWeight, gRec, gPrior]] = tracingFor({ grad: true }, () =>
      valueAndGrad(negativeElbo, { argnums: [0, 1, 2, 3, 4], hasAux: true })(
        network,
        at.gamma,
        at.weight,
        at.gammaReconstruction,
        at.gammaPrior,
        { x0: batch.x0, eps: batch.eps, ...(labels ? { labels } : {}) },
      ),
    );
    // ∇ log E[d²] = ∇E[d²]/E[d²]: the variance's gradient over a positive constant (the batch's second
    // moment), so its size does not grow with the data's dimension and swamp the global clipping norm
    const scale = interior === "variance" ? lax.stopGradient(diffusion.ref.mul(2).div(np.mean(np.square(diffusion.ref)))) : null;
    const chain = (l: ScheduleLevels, c: Array | null, ends: boolean) => {
      const perExample = gGamma.ref.mul(l.gamma).add(gWeight.ref.mul(l.weight));
      const scaled = c ? perExample.mul(c) : perExample;
      const total = np.sum(scaled);
      if (!ends) {
        tree.dispose([l.gammaReconstruction, l.gammaPrior]);
        return total;
      }
      return total.add(np.sum(gRec.ref.mul(l.gammaReconstruction))).add(np.sum(gPrior.ref.mul(l.gammaPrior)));
    };
    const surrogate = (s: LearnedScheduleParams) => {
      if (!scale || !s.interior) return chain(levelsOf(s, u.ref), null, true);
      const frozen = (p: JsTree<Array>) => tree.map(lax.stopGradient, p);
      const endsOnly = {
        gammaMin: s.gammaMin.ref,
        gammaMax: s.gammaMax.ref,
        interior: frozen(tree.ref(s.interior)) as LearnedScheduleParams["interior"],
      };
      const interiorOnly = { gammaMin: lax.stopGradient(s.gammaMin), gammaMax: lax.stopGradient(s.gammaMax), interior: s.interior };
      return chain(levelsOf(endsOnly, u.ref), null, true).add(chain(levelsOf(interiorOnly, u.ref), scale.ref, false));
    };
    const gSchedule = valueAndGrad(surrogate)(schedule);
    tree.dispose([u, gGamma, gWeight, gRec, gPrior, gSchedule[0], ...(scale ? [scale] : [])]);
    return { loss, variance: batchVariance(diffusion), grads: { denoiser: gNetwork, schedule: gSchedule[1] } };
  };
}
