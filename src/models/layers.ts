/**
 * Image layers for the U-Net, in NHWC layout (the library's) or NCHW (`layout`):
 * - conv3x3: for jax-js's wasm backend (NHWC) "shift and sum" — pad once, then Σ over the nine taps
 *   of (shifted view) · W[dy, dx], each a matmul [B·H·W, Cin] × [Cin, Cout]. Under jit this ran ~50×
 *   faster than `lax.conv` here. Traced for ONNX export, or in NCHW, it is one `lax.conv` (NCHW),
 *   which ONNX Runtime runs natively: a U-Net training step took 0.60 s / 0.60 GB that way against
 *   0.54 s / 1.0 GB with the nine taps.
 * - pointwise: a dense layer at every position (a 1×1 convolution).
 * - groupNorm: per (example, group) mean/variance over H, W and the group's channels.
 * - avgPool2 / upsample2: 2×2 average pooling by reshape + mean, nearest upsampling by broadcast
 *   (jax-js has no strided slices).
 * - selfAttention: multi-head dot-product attention over the H·W positions (batched matmuls).
 * A network traced for ONNX export runs in NCHW (unet.ts): ONNX's convolutions take NCHW, so NHWC
 * needs a transpose on each side of every convolution and of its gradients (10 % of a U-Net
 * training step in ONNX Runtime), and GroupNorm's statistics then reduce over contiguous memory.
 * Every function consumes its array arguments.
 */
import { type Array, lax, nn, numpy as np } from "../engine/jax.js";
import { tracing } from "../engine/tracing.js";
import { ShapeError } from "../errors.js";
import { affine, type Dense } from "./mlp.js";

/** Where an image's channels are: last (NHWC) or second (NCHW). */
export type Layout = "NHWC" | "NCHW";

/** [B, H, W, C] of x in `layout`. */
export function imageDims(x: Array, layout: Layout): [number, number, number, number] {
  const [B, a, b, c] = x.shape as [number, number, number, number];
  return layout === "NHWC" ? [B, a, b, c] : [B, b, c, a];
}

/** The channel axis of `layout`. */
export const channelAxis = (layout: Layout) => (layout === "NHWC" ? 3 : 1);

/** A per-channel vector v ([C], or [B, C] per example) shaped to broadcast against images in `layout`. */
export function perChannel(v: Array, layout: Layout): Array {
  const [B, C] = v.shape.length === 1 ? [1, v.shape[0]!] : (v.shape as [number, number]);
  return v.reshape(layout === "NHWC" ? [B, 1, 1, C] : [B, C, 1, 1]);
}

/**
 * A view about to be read by a matmul, as its own contiguous buffer (the same values). Under
 * jit, jax-js reads a view (a slice of a padded array, reshaped) inside the consuming matmul with
 * per-element index arithmetic, which blocks its vectorised dot product; a non-view op in between
 * makes the compiler write the view out first. −(−x) is such an op and costs one pass over x.
 * Forward passes (sampling, ELBO) ran 4.7× faster with it. Training steps do better without: a
 * gradient keeps every matmul operand alive until the backward pass, and the copies cost time and
 * memory there (U-Net step, batch 32: 1.97 s and 2.4 GB with them, 1.73 s and 1.9 GB without).
 */
export function forMatmul(x: Array): Array {
  return tracing().grad || tracing().export ? x : np.negative(np.negative(x));
}

/** y[b,i,j,o] = bias[o] + Σ_{dy,dx,c} x[b, i+dy−1, j+dx−1, c]·w[dy,dx,c,o] (zero padding; x and y in `layout`). */
export function conv3x3(x: Array, w: Array, bias: Array, layout: Layout = "NHWC"): Array {
  const O = w.shape[3]!;
  if (tracing().export || layout === "NCHW") {
    // one convolution operator (NCHW, kernel [O, C, 3, 3]) for runtimes with a native kernel
    const y = lax
      .conv(
        layout === "NCHW" ? x : x.transpose([0, 3, 1, 2]),
        w.transpose([3, 2, 0, 1]),
        [1, 1],
        [
          [1, 1],
          [1, 1],
        ],
      )
      .add(perChannel(bias, "NCHW"));
    return layout === "NCHW" ? y : y.transpose([0, 2, 3, 1]);
  }
  const [B, H, W, C] = x.shape as [number, number, number, number];
  const padded = np.pad(x, [
    [0, 0],
    [1, 1],
    [1, 1],
    [0, 0],
  ]);
  let out: Array | null = null;
  for (let dy = 0; dy < 3; dy++) {
    for (let dx = 0; dx < 3; dx++) {
      const view = forMatmul(padded.ref.slice([], [dy, dy + H], [dx, dx + W], []).reshape([B * H * W, C]));
      const term = np.matmul(view, w.ref.slice(dy, dx));
      out = out ? out.add(term) : term;
    }
  }
  padded.dispose();
  w.dispose();
  return out!.add(bias).reshape([B, H, W, O]);
}

/** y[b,i,j,o] = b[o] + Σ_c x[b,i,j,c]·w[c,o]: a dense layer { w [C, O], b [O] } at every position (a 1×1 convolution). */
export function pointwise(x: Array, layer: Dense, layout: Layout = "NHWC"): Array {
  const [B, H, W, C] = imageDims(x, layout);
  const O = layer.w.shape[1]!;
  if (layout === "NCHW")
    return lax
      .conv(
        x,
        layer.w.transpose([1, 0]).reshape([O, C, 1, 1]),
        [1, 1],
        [
          [0, 0],
          [0, 0],
        ],
      )
      .add(perChannel(layer.b, layout));
  return affine(x.reshape([B * H * W, C]), layer).reshape([B, H, W, O]);
}

/** GroupNorm: (x − μ_g)/√(σ_g² + ε)·scale + shift, statistics per example and channel group. */
export function groupNorm(x: Array, scale: Array, shift: Array, groups: number, layout: Layout = "NHWC", eps = 1e-5): Array {
  const [B, H, W, C] = imageDims(x, layout);
  if (C % groups !== 0) throw new ShapeError(`groupNorm: ${C} channels do not split into ${groups} groups`);
  // [B, HW, G, C/G] reduced over axes 1 and 3 (NHWC), or [B, G, C/G·HW] over axis 2 (NCHW)
  const [grouped, axes] =
    layout === "NHWC"
      ? [
          [B, H * W, groups, C / groups],
          [1, 3],
        ]
      : [[B, groups, (C / groups) * H * W], [2]];
  const g = x.reshape(grouped);
  const mean = np.mean(g.ref, axes, { keepdims: true });
  const centred = g.sub(mean);
  const variance = np.mean(np.square(centred.ref), axes, { keepdims: true });
  const normed = centred.div(np.sqrt(variance.add(eps))).reshape(layout === "NHWC" ? [B, H, W, C] : [B, C, H, W]);
  return normed.mul(perChannel(scale, layout)).add(perChannel(shift, layout));
}

/** 2×2 average pooling: [B, H, W, C] → [B, H/2, W/2, C] (in `layout`). */
export function avgPool2(x: Array, layout: Layout = "NHWC"): Array {
  const [B, H, W, C] = imageDims(x, layout);
  if (H % 2 || W % 2) throw new ShapeError(`avgPool2 needs even height and width, got ${H}×${W}`);
  if (layout === "NCHW") {
    // pairs of columns averaged by a product with P[j, ⌊j/2⌋] = ½, then pairs of whole rows: averaging
    // (or, in the gradient, broadcasting) the innermost pairs in place runs one element at a time in ONNX Runtime
    const P = pairs(W / 2, x)
      .transpose([1, 0])
      .mul(0.5);
    return np.mean(np.matmul(x.reshape([B * C * H, W]), P).reshape([B, C, H / 2, 2, W / 2]), 3);
  }
  return np.mean(x.reshape([B, H / 2, 2, W / 2, 2, C]), [2, 4]);
}

/** The 0/1 matrix U [n, 2n] with U[j, 2j] = U[j, 2j + 1] = 1, in `like`'s dtype and on its device. */
function pairs(n: number, like: Array): Array {
  return np.broadcastTo(np.eye(n, n, { dtype: like.dtype, device: like.device }).reshape([n, n, 1]), [n, n, 2]).reshape([n, 2 * n]);
}

/** Nearest-neighbour 2× upsampling: [B, H, W, C] → [B, 2H, 2W, C] (in `layout`). */
export function upsample2(x: Array, layout: Layout = "NHWC"): Array {
  const [B, H, W, C] = imageDims(x, layout);
  if (layout === "NCHW") {
    // columns doubled by a product with the 0/1 matrix U[j, 2j] = U[j, 2j + 1] = 1 (exact: one term is
    // x, the others 0), rows by a broadcast over whole rows: a broadcast that doubles every element in
    // place runs one element at a time (ONNX Runtime's Expand: 11 ms of a 100 ms U-Net forward pass)
    const columns = np.matmul(x.reshape([B * C * H, W]), pairs(W, x));
    return np.broadcastTo(columns.reshape([B, C, H, 1, 2 * W]), [B, C, H, 2, 2 * W]).reshape([B, C, 2 * H, 2 * W]);
  }
  return np.broadcastTo(x.reshape([B, H, 1, W, 1, C]), [B, H, 2, W, 2, C]).reshape([B, 2 * H, 2 * W, C]);
}

/**
 * Multi-head self-attention over the positions of x [B, H, W, C] (in `layout`) with heads of size d = C/heads:
 *   [q | k | v] = x W_qkv + b_qkv,  o_h = softmax(q_h k_hᵀ/√d) v_h,  y = [o_1 … o_heads] W_o + b_o.
 * W_qkv [C, 3C] holds q, k, v (each head's d columns in order); the residual is the caller's.
 */
export function selfAttention(
  x: Array,
  qkv: { w: Array; b: Array },
  out: { w: Array; b: Array },
  heads: number,
  layout: Layout = "NHWC",
): Array {
  const [B, H, W, C] = imageDims(x, layout);
  if (C % heads !== 0) throw new ShapeError(`selfAttention: ${C} channels do not split into ${heads} heads`);
  const N = H * W;
  const d = C / heads;
  const positions =
    layout === "NHWC"
      ? x.reshape([B * N, C])
      : x
          .reshape([B, C, N])
          .transpose([0, 2, 1])
          .reshape([B * N, C]);
  const proj = np.matmul(positions, qkv.w).add(qkv.b).reshape([B, N, 3, heads, d]);
  // q, k as [B, heads, N, d] and v as [B, heads, d, N], each in its own buffer, so that both
  // matmuls below reduce over a contiguous axis of both operands (see `forMatmul`)
  const part = (k: number, axes: number[]) => forMatmul(proj.ref.slice([], [], k).transpose(axes));
  const [q, k, vT] = [part(0, [0, 2, 1, 3]), part(1, [0, 2, 1, 3]), part(2, [0, 2, 3, 1])];
  proj.dispose();
  const weights = nn.softmax(np.matmul(q, k.transpose([0, 1, 3, 2])).mul(1 / Math.sqrt(d)), -1);
  const o = np
    .matmul(weights, vT.transpose([0, 1, 3, 2]))
    .transpose([0, 2, 1, 3])
    .reshape([B * N, C]);
  const y = np.matmul(o, out.w).add(out.b);
  return layout === "NHWC" ? y.reshape([B, H, W, C]) : y.reshape([B, N, C]).transpose([0, 2, 1]).reshape([B, C, H, W]);
}

/** The embedding rows of token ids [B, L] (int32 or float) as a one-hot product, [B, L, d] (a gather's gradient would be a scatter). Consumes both. */
export function embed(ids: Array, embedding: Array): Array {
  const [B, L] = ids.shape as [number, number];
  const [V, d] = embedding.shape as [number, number];
  return np.matmul(nn.oneHot(ids.astype(np.int32).reshape([B * L]), V), embedding).reshape([B, L, d]);
}
