/**
 * A diffusion `Model` whose predictions ONNX Runtime computes: the wrapped model at fixed params,
 * exported to ONNX (export.ts) at each input shape it meets, one session per shape. It keeps the
 * model's target and classes, so samplers and the ELBO take { model: onnxModel(model, params),
 * params } where they took { model, params }. It is a host model (`Model.host`): code around it
 * is compiled with `jitFor`, which leaves only the network to ONNX Runtime.
 */
import { numpy as np, tree, type Array, type JsTree } from "../engine/jax.js";
import { hostApply, type Model } from "../diffusion/model.js";
import { exportOnnx, type OnnxInput } from "./export.js";
import { OnnxSession, toHost, type HostTensor, type SessionOptions } from "./runtime.js";

/** A `Model` whose predictions run in ONNX Runtime (one session per batch shape); `close` releases them. */
export interface OnnxModel<P extends JsTree<Array>> extends Model<P> {
  /** Close every session (releasing ONNX Runtime's memory). */
  close(): void;
}

/** The ONNX inputs of `model` at batch shape `shape` ([B, ...]): x, t, γ (and labels if conditional). */
export function modelInputs(model: Model, shape: readonly number[]): OnnxInput[] {
  const B = shape[0]!;
  const inputs: OnnxInput[] = [{ name: "x", shape: [...shape] }, { name: "t", shape: [B] }, { name: "gamma", shape: [B] }];
  return model.classes ? [...inputs, { name: "labels", shape: [B], dtype: np.int32 }] : inputs;
}

/** The ONNX bytes of model.apply(params, x, t, γ[, labels]) at batch shape `shape`. Borrows params. */
export function exportModel<P extends JsTree<Array>>(model: Model<P>, params: P, shape: readonly number[]): Uint8Array {
  return exportOnnx((x, t, gamma, labels) => model.apply(tree.ref(params), x, t, gamma, labels), modelInputs(model, shape));
}

/**
 * `model` at `params` (borrowed: keep them alive while this model is used), run by ONNX Runtime.
 * The params given to `apply` are ignored: the exported network carries its own weights.
 */
export function onnxModel<P extends JsTree<Array>>(model: Model<P>, params: P, options: SessionOptions = {}): OnnxModel<P> {
  if (model.host) throw new Error("this model already runs outside jax-js");
  const sessions = new Map<string, OnnxSession>();
  const predictor = {
    predict(xt: Array, t: Array, gamma: Array, labels?: Array): Array {
      const key = xt.shape.join("×");
      let session = sessions.get(key);
      if (!session) sessions.set(key, (session = new OnnxSession(exportModel(model, params, xt.shape), options)));
      const B = xt.shape[0]!;
      const feeds: Record<string, HostTensor> = { x: toHost(xt), t: toHost(t), gamma: toHost(gamma) };
      if (model.classes) feeds.labels = toHost(labels ?? np.full([B], model.classes, { dtype: np.int32 }));
      const out = session.run(feeds);
      return np.array(out.data as Float32Array).reshape(out.dims);
    },
  };
  return {
    target: model.target,
    classes: model.classes,
    host: predictor,
    apply(p, xt, t, gamma, labels) {
      tree.dispose(p);
      if (labels && !model.classes) {
        tree.dispose([xt, t, gamma, labels]);
        throw new Error("labels were given to an unconditional model");
      }
      return hostApply(predictor, xt, t, gamma, labels);
    },
    close() {
      for (const s of sessions.values()) s.close();
      sessions.clear();
    },
  };
}
