/**
 * What the code being traced is for. Layers written for jax-js's wasm kernels choose their
 * formulation by it (see `forMatmul` and `conv3x3` in models/layers.ts):
 * - "run":    executed by jax-js (sampling, evaluation): fastest forward formulation;
 * - "grad":   differentiated by jax-js (the training step): no extra copies kept for the backward;
 * - "export": written to ONNX: the plain operators another runtime has fast kernels for.
 */
export type TracingPurpose = "run" | "grad" | "export";

let current: TracingPurpose = "run";

export function tracingPurpose(): TracingPurpose {
  return current;
}

/** Run `f` (which traces) with `purpose` in effect; nests. */
export function tracingFor<T>(purpose: TracingPurpose, f: () => T): T {
  const outer = current;
  current = purpose;
  try {
    return f();
  } finally {
    current = outer;
  }
}
