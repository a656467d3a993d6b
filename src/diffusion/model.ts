/** What a sampler or the ELBO needs from a denoiser: a pure function of (params, x_t, t, γ_t). */
import { filled } from "../engine/index.js";
import { type Array, type JsTree, jit, numpy as np, tree } from "../engine/jax.js";
import { UnsupportedError } from "../errors.js";
import type { Target } from "./parameterization.js";

/**
 * A denoiser network or analytic model with parameters of type `P`: what it predicts (`target`),
 * whether it is class-conditional, and `apply`, a pure function of (params, x_t, t, γ_t[, labels]).
 */
export interface Model<P extends JsTree<Array> = JsTree<Array>> {
  /** What `apply` predicts. */
  readonly target: Target;
  /** Number of classes a conditional model knows (label `classes` is "no label"); 0 if unconditional. */
  readonly classes: number;
  /**
   * Set when the prediction is computed outside jax-js (onnx/model.ts): `apply` then goes through
   * `hostApply`, and code around it is compiled with `jitFor`, not `jit`.
   */
  readonly host?: HostPredictor;
  /**
   * Set when `apply` also takes t of shape [1]: one time for the whole batch, its time path (the
   * embedding of t and its projections) computed once instead of once per example. Samplers, whose
   * batch shares a level, then pass t so (`timesFor`). Measured: 1,024-point ancestral sampling of the
   * 2-D MLP in ONNX Runtime took 0.5–0.65× the time.
   */
  readonly sharedTime?: boolean;
  /**
   * The prediction for x_t ([B, ...]) at times t ([B], or [1] when `sharedTime`; in [0, 1]) with γ_t ([B]), conditioned on
   * `labels` ([B] int32) when the model is conditional (absent: unconditional). Networks usually
   * read t, analytic models α and σ from γ. Consumes every argument (params included: pass
   * `tree.ref(params)` to keep them).
   */
  apply(params: P, xt: Array, t: Array, gamma: Array, labels?: Array): Array;
}

/** A prediction computed outside jax-js from concrete arrays (consumes them). */
export interface HostPredictor {
  /** The model's prediction for x_t [B, ...] at t, γ_t [B] (and labels [B]); consumes its arguments. */
  predict(xt: Array, t: Array, gamma: Array, labels?: Array): Array;
  /**
   * Optional: `f` (a function of arrays around this model's predictions, as `jitFor` takes) run
   * wholly outside jax-js, e.g. a sampler's whole step as one ONNX graph. While it traces `f`, the
   * model's `apply` is the network itself (`traced`).
   * @typeParam F - the function's type, kept by the compiled step
   */
  // biome-ignore lint/suspicious/noExplicitAny: jit's own constraint on the functions it compiles
  compile?<F extends (...args: any[]) => JsTree<Array>>(f: F): CompiledStep<F>;
  /** The network as jax-js operations (for `compile`'s trace); consumes its arguments. */
  traced?(xt: Array, t: Array, gamma: Array, labels?: Array): Array;
}

/**
 * A function compiled by `jitFor` (or a host's `compile`): called like `f`, released by `dispose`.
 * @typeParam F - the function compiled
 */
// biome-ignore lint/suspicious/noExplicitAny: jit's own constraint on the functions it compiles
export type CompiledStep<F extends (...args: any[]) => JsTree<Array>> = ((...args: Parameters<F>) => ReturnType<F>) & {
  /** Release what the compiled step holds (its compiled graphs and sessions). */
  dispose(): void;
};

/** The time input of `model` for a batch of n at one time t: [1] when the model takes a shared time, else [n]. */
export function timesFor(model: Model, n: number, t: number): Array {
  return filled(model.sharedTime ? 1 : n, t);
}

type HostCall = { host: HostPredictor; args: Array[] };
/**
 * While `jitFor` traces: the host calls met ("capture") or their answers ("replay"); while a host
 * compiles a whole function, "inline" (the network traced in place).
 */
let hostCalls: { capture: HostCall[] } | { replay: Array[] } | "inline" | null = null;

function withHostCalls<T>(mode: NonNullable<typeof hostCalls>, f: () => T): T {
  const outer = hostCalls;
  hostCalls = mode;
  try {
    return f();
  } finally {
    hostCalls = outer;
  }
}

/**
 * What a host model's `apply` returns: eagerly, `host`'s prediction; while `jitFor` traces, a
 * placeholder of x_t's shape (capture) or the prediction computed between the two traces (replay).
 */
export function hostApply(host: HostPredictor, xt: Array, t: Array, gamma: Array, labels?: Array): Array {
  if (!hostCalls) return host.predict(xt, t, gamma, labels);
  if (hostCalls === "inline") {
    if (!host.traced) throw new UnsupportedError("a host model without a traceable network was met while a whole step was compiled");
    return host.traced(xt, t, gamma, labels);
  }
  if ("capture" in hostCalls) {
    // Stryker disable next-line ObjectLiteral: the capture pass only records the host's inputs; what f computes from this placeholder is discarded
    const zeros = np.zeros(xt.shape, { dtype: xt.dtype });
    hostCalls.capture.push({ host, args: labels ? [xt, t, gamma, labels] : [xt, t, gamma] });
    return zeros;
  }
  // Stryker disable next-line ArrayDeclaration: releasing the inputs frees memory; no result depends on it
  tree.dispose([xt, t, gamma, labels]);
  const out = hostCalls.replay.shift();
  if (!out) throw new UnsupportedError("a host model was called more often than when its step was traced");
  return out;
}

/** `f()` with every host model's `apply` traced as its network (`HostPredictor.traced`), for a host's `compile`. */
export function withTracedHosts<T>(f: () => T): T {
  return withHostCalls("inline", f);
}

/**
 * `f` compiled with jit. When `model` is a host model that compiles whole functions (`compile`:
 * ONNX Runtime), f runs there in one call, network and arithmetic around it. Other host models
 * split f at their host calls: one jitted pass computes their inputs, the host computes the
 * predictions, and a second jitted pass computes f from them.
 */
// biome-ignore lint/suspicious/noExplicitAny: jit's own constraint on the functions it compiles
export function jitFor<F extends (...args: any[]) => JsTree<Array>>(model: Model, f: F): ReturnType<typeof jit<F>> {
  if (!model.host) return jit(f);
  if (model.host.compile) return model.host.compile(f) as unknown as ReturnType<typeof jit<F>>;
  // Stryker disable next-line ArrayDeclaration: the capture pass assigns hosts before any use
  let hosts: HostPredictor[] = [];
  const captureJit = jit((...args: Parameters<F>) => {
    const calls: HostCall[] = [];
    tree.dispose(withHostCalls({ capture: calls }, () => f(...args)));
    hosts = calls.map((c) => c.host);
    return calls.map((c) => c.args);
  });
  const replayJit = jit((outputs: Array[], ...args: Parameters<F>) => withHostCalls({ replay: [...outputs] }, () => f(...args)));
  const capture = captureJit as unknown as (...args: unknown[]) => Array[][];
  const replay = replayJit as unknown as (...args: unknown[]) => ReturnType<F>;
  // Stryker disable next-line ConditionalExpression: tree.ref hands a plain number back unchanged
  const keep = (a: unknown) => (typeof a === "number" ? a : tree.ref(a as JsTree<Array>));
  const step = (...args: unknown[]) => {
    const outputs = capture(...args.map(keep)).map(([xt, t, gamma, labels], k) => hosts[k]!.predict(xt!, t!, gamma!, labels));
    return replay(outputs, ...args);
  };
  // Stryker disable next-line ArrowFunction: releasing the compiled graphs frees memory; no result depends on it
  const dispose = () => {
    captureJit.dispose();
    replayJit.dispose();
  };
  return Object.assign(step, { dispose }) as unknown as ReturnType<typeof jit<F>>;
}

/**
 * `model` asked about a noise level by γ alone: the network's time input becomes
 * (γ − γ_lo)/(γ_hi − γ_lo) for fixed constants (a learned schedule's initial endpoints), and the t
 * it is given is ignored. Then the prediction at a given SNR does not depend on the schedule, so
 * the continuous-time ELBO depends on the schedule only through its endpoints (Kingma et al. 2021).
 * The input is clamped to [−¼, 1¼] (room for the endpoints to move while they learn), so that levels
 * beyond it, γ = −∞ included (clean data, e.g. Langevin at σ̃ = 0), give the nearest trained one's.
 */
export function gammaConditioned<P extends JsTree<Array>>(model: Model<P>, gammaLo: number, gammaHi: number): Model<P> {
  const { target, classes, host } = model;
  return {
    target,
    classes,
    ...(host ? { host } : {}),
    apply(params, xt, t, gamma, labels) {
      t.dispose();
      const time = np.clip(gamma.ref.sub(gammaLo).mul(1 / (gammaHi - gammaLo)), -0.25, 1.25);
      return model.apply(params, xt, time, gamma, labels);
    },
  };
}
