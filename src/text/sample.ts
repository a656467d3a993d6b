/**
 * Sampling sentences from a Diffusion-LM run with any sampler: the text denoiser wrapped, as the
 * controls ask, in classifier guidance with the fluency term (`guidedTextModel`), infilling
 * (`infillModel`) and clamping (`clampedModel`), then the final x rounded to the nearest words.
 */

import type { Model } from "../diffusion/model.js";
import type { DiffusionProcess } from "../diffusion/process.js";
import { Rng } from "../engine/index.js";
import { type Array, type JsTree, numpy as np, tree } from "../engine/jax.js";
import { ConfigError } from "../errors.js";
import type { Classifier } from "../models/kind.js";
import { configOf } from "../models/kinds.js";
import { type TextNetConfig, type TextParams, textModel, transformerKind } from "../models/transformer.js";
import { samplerByName } from "../sample/by-name.js";
import type { Sampler } from "../sample/sampler.js";
import { buildProcess } from "../train/build.js";
import type { RunConfig } from "../train/config.js";
import { loadRun } from "../train/load.js";
import type { TextSource, TextSteering } from "./evaluate.js";
import { guidedTextModel } from "./guidance.js";
import { infillModel, type TextInfill } from "./infill.js";
import { clampedModel, roundToIds } from "./rounding.js";
import { Tokenizer } from "./tokenizer.js";

/**
 * What a text run is sampled with by default (`vdm sample` and `vdm eval-text` on a text run): DDIM on
 * 50 levels, with x̂_0 clamped to the nearest embedding at every step (README, "Diffusion-LM").
 */
export const textSamplerDefaults = { sampler: "ddim", steps: 50, clamp: true } as const;

/** The default classifier-guidance scale S and fluency weight λ of `TextControl` (measured: see the README's Diffusion-LM section). */
export const textControlDefaults = { scale: 3, fluency: 0 } as const;

/** The sampler of `textSamplerDefaults` on `process`. */
export function defaultTextSampler(process: DiffusionProcess): Sampler {
  return samplerByName(textSamplerDefaults.sampler, process, { steps: textSamplerDefaults.steps });
}

/** A trained Diffusion-LM: its config, network, parameters (borrowed by everything built on it), process and vocabulary. */
export interface TextLM {
  config: RunConfig;
  net: TextNetConfig;
  model: Model<TextParams>;
  params: TextParams;
  process: DiffusionProcess;
  tokenizer: Tokenizer;
}

/** The LM of a text run's config and parameters (`params` borrowed). */
export function textLM(config: RunConfig, params: TextParams): TextLM {
  const net = configOf(config.model, transformerKind);
  if (!net || config.task === "classifier") throw new ConfigError(`run "${config.data.spec}" is not a Diffusion-LM language model`);
  return { config, net, model: textModel(net), params, process: buildProcess(config), tokenizer: new Tokenizer(net.words) };
}

/** A text run from its checkpoint directory (EMA parameters). */
export function loadTextLM(dir: string): TextLM {
  const run = loadRun(dir);
  return textLM(run.config, run.denoiser.params as TextParams);
}

/** Classifier guidance for `sampleTextIds`: a noise-aware classifier, the target class (one for all samples, or one per sample), the scale S and the fluency weight λ. */
export interface TextControl {
  classifier: Classifier;
  /** the classifier's parameters (borrowed) */
  params: JsTree<Array>;
  label: number | Int32Array;
  /** the guidance scale S (default `textControlDefaults.scale`, 3) */
  scale?: number;
  /** λ of the fluency term (default `textControlDefaults.fluency`, 0: none) */
  fluency?: number;
}

/** Options of `sampleTextIds` and `sampleSentences`: the sampler, the random stream, clamping, and the controls. */
export interface TextSampleOptions {
  /** the sampler (default `defaultTextSampler(lm.process)`: DDIM on 50 levels) */
  sampler?: Sampler;
  /** the random stream (default `new Rng(0)`) */
  rng?: Rng;
  /** snap x̂_0 to the nearest embedding at every step (default `textSamplerDefaults.clamp`, true) */
  clamp?: boolean;
  /** classifier guidance towards a class of an attribute (default: none, unguided) */
  control?: TextControl;
  /** words held fixed, the rest filled in (default: none) */
  infill?: TextInfill;
}

/**
 * n sequences of token ids ([n·length], row-major) drawn with `options.sampler` from x_T ~ N(0, I) of shape
 * [n, length, d], then rounded to the nearest embeddings. Borrows the LM's (and classifier's) params.
 */
export function sampleTextIds(lm: TextLM, n: number, options: TextSampleOptions = {}): Int32Array {
  const { sampler = defaultTextSampler(lm.process), rng = new Rng(0), clamp = textSamplerDefaults.clamp, control, infill } = options;
  const { length: L, embedDim: d } = lm.net;
  let model: Model = lm.model as Model;
  let params: JsTree<Array> = lm.params;
  let embeddingOf = (p: JsTree<Array>) => (p as TextParams).embedding!;
  const made: Array[] = [];
  const keep = (a: Array) => {
    made.push(a);
    return a;
  };
  if (control) {
    model = guidedTextModel(model, embeddingOf, control.classifier, control.fluency ?? textControlDefaults.fluency) as Model;
    params = {
      net: params,
      classifier: control.params,
      labels: keep(
        typeof control.label === "number" ? np.full([n], control.label, { dtype: np.int32 }) : np.array(control.label, { dtype: np.int32 }),
      ),
      scale: keep(np.array([control.scale ?? textControlDefaults.scale])),
    };
    const inner = embeddingOf;
    embeddingOf = (p) => inner((p as { net: JsTree<Array> }).net);
  }
  if (infill) {
    if (infill.ids.length !== n * L || infill.mask.length !== n * L)
      throw new ConfigError(`infilling needs ${n}·${L} ids and mask entries, got ${infill.ids.length} and ${infill.mask.length}`);
    model = infillModel(model, embeddingOf) as Model;
    params = {
      net: params,
      known: keep(np.array(infill.ids, { dtype: np.int32 }).reshape([n, L])),
      mask: keep(np.array(infill.mask).reshape([n, L])),
    };
    const inner = embeddingOf;
    embeddingOf = (p) => inner((p as { net: JsTree<Array> }).net);
  }
  if (clamp) model = clampedModel(model, embeddingOf);
  try {
    const x = sampler.sample({ model, params }, [n, L, d], rng);
    return roundToIds(x, lm.params.embedding!.ref);
  } finally {
    tree.dispose(made);
  }
}

/** `sampleTextIds` decoded to sentences (PAD dropped). */
export function sampleSentences(lm: TextLM, n: number, options: TextSampleOptions = {}): string[] {
  const ids = sampleTextIds(lm, n, options);
  const L = lm.net.length;
  return globalThis.Array.from({ length: n }, (_, k) => lm.tokenizer.decode(ids.subarray(k * L, (k + 1) * L)));
}

/**
 * A Diffusion-LM as `evaluateText` samples it: `sampleTextIds` with samplers from `makeSampler`
 * (one per call) and clamping as `clamp` says.
 */
export function diffusionLMSource(lm: TextLM, makeSampler: () => Sampler, clamp: boolean = textSamplerDefaults.clamp): TextSource {
  return {
    tokenizer: lm.tokenizer,
    length: lm.net.length,
    sample: (n, rng, infill) => sampleTextIds(lm, n, { rng, sampler: makeSampler(), clamp, ...(infill ? { infill } : {}) }),
  };
}

/** Classifier guidance of a Diffusion-LM as a way of steering for `evaluateText`: `control`'s classifier, scale and fluency weight, each sample towards its target. */
export function classifierSteering(
  lm: TextLM,
  makeSampler: () => Sampler,
  control: Omit<TextControl, "label">,
  clamp: boolean = textSamplerDefaults.clamp,
): TextSteering {
  const scale = control.scale ?? textControlDefaults.scale;
  const fluency = control.fluency ?? textControlDefaults.fluency;
  return {
    name: `classifier guidance, scale ${scale}${fluency > 0 ? `, fluency ${fluency}` : ""}`,
    sample: (targets, rng) =>
      sampleTextIds(lm, targets.length, { rng, sampler: makeSampler(), clamp, control: { ...control, label: targets } }),
  };
}
