/**
 * What the code being traced is for. Layers written for jax-js's wasm kernels choose their
 * formulation by it (see `forMatmul` and `conv3x3` in models/layers.ts, `sigmoid` in schedule):
 * - neither flag: executed by jax-js forward only (sampling, evaluation);
 * - grad:   it will be differentiated (the training step): keep no extra copies for the backward;
 * - export: it will be written to ONNX (onnx/export.ts): use the plain operators another runtime
 *           has fast kernels for. Both flags can hold (a training step exported to ONNX).
 */
export interface Tracing {
  grad: boolean;
  export: boolean;
}

let current: Tracing = { grad: false, export: false };

export function tracing(): Readonly<Tracing> {
  return current;
}

/** Run `f` (which traces) with the flags in `set` turned on; nests. */
export function tracingFor<T>(set: Partial<Tracing>, f: () => T): T {
  const outer = current;
  current = { grad: outer.grad || !!set.grad, export: outer.export || !!set.export };
  try {
    return f();
  } finally {
    current = outer;
  }
}
