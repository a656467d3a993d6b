"""The JAX peer of bench/cases.ts: the same architectures as bench/peer.py (src/models/mlp.ts,
src/models/unet.ts) written in plain JAX (NHWC, like ours), each unit of work one jitted call.

- training steps: loss, gradient, clipping at global norm 1, Adam and the EMA, all inside one
  `jax.jit` with the state donated (updated in place), the batch's noise drawn inside;
- sampling: the whole chain inside one jit (`lax.scan` over the levels), as a JAX user writes it.

Run by bench/bench.ts as `bench/.venv/bin/python bench/peer_jax.py CASE RUNS WARMUP` (`npm run
bench:setup` makes the environment); threads through XLA_FLAGS (peer_common.parse) and the
taskset the bench runs it under. Prints one JSON line (peer_common.report).
"""
import functools
import math

import numpy as onp

from peer_common import RECIPE, dpm_coefficients, epochs, fmnist_train, mlp_shape, parse, recipe_scalars, report

KIND, SIZE, THREADS, RUNS, WARMUP = parse()  # sets XLA_FLAGS before jax loads

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
from jax import lax  # noqa: E402

# ---- layers ---------------------------------------------------------------------------------


def dense(key, fan_in, fan_out, scale=1.0):
    return {"w": jax.random.normal(key, (fan_in, fan_out)) * scale * math.sqrt(2 / fan_in), "b": jnp.zeros(fan_out)}


def affine(x, p):
    return x @ p["w"] + p["b"]


def time_embedding(t, E):
    half = E // 2
    freqs = jnp.exp(jnp.arange(half, dtype=jnp.float32) * (-math.log(10000) / half))
    angles = (t * 1000)[:, None] * freqs[None, :]
    return jnp.concatenate([jnp.sin(angles), jnp.cos(angles)], 1)


# ---- the 2-D MLP (src/models/mlp.ts) -------------------------------------------------------


def mlp_init(key, dim, hidden, layers, E):
    ks = iter(jax.random.split(key, 2 * layers + 3))
    return {
        "embed": dense(next(ks), E, hidden),
        "input": dense(next(ks), dim, hidden),
        "time": [jax.random.normal(next(ks), (hidden, hidden)) / math.sqrt(hidden) for _ in range(layers)],
        "hidden": [dense(next(ks), hidden, hidden) for _ in range(layers - 1)],
        "output": dense(next(ks), hidden, dim, 0.1),
    }


def mlp_apply(p, x, t, E=32):
    e = jax.nn.silu(affine(time_embedding(t, E), p["embed"]))
    h = jax.nn.silu(affine(x, p["input"]) + e @ p["time"][0])
    for layer, a in zip(p["hidden"], p["time"][1:]):
        h = h + jax.nn.silu(affine(h, layer) + e @ a)
    return affine(h, p["output"])


# ---- the U-Net (src/models/unet.ts), NHWC ---------------------------------------------------

BASE, MULTS, ATTN, GROUPS, TEMB = 32, (1, 2, 2), (2,), 8, 64


def conv_init(key, cin, cout, scale=1.0):
    return {"w": jax.random.normal(key, (3, 3, cin, cout)) * scale * math.sqrt(2 / (9 * cin)), "b": jnp.zeros(cout)}


def conv3x3(x, p):
    return lax.conv_general_dilated(x, p["w"], (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")) + p["b"]


def norm_init(C):
    return {"scale": jnp.ones(C), "shift": jnp.zeros(C)}


def group_norm(x, p, eps=1e-5):
    B, H, W, C = x.shape
    g = x.reshape(B, H * W, GROUPS, C // GROUPS)
    mean = g.mean((1, 3), keepdims=True)
    var = ((g - mean) ** 2).mean((1, 3), keepdims=True)
    return ((g - mean) / jnp.sqrt(var + eps)).reshape(B, H, W, C) * p["scale"] + p["shift"]


def res_init(key, cin, cout, E):
    k = jax.random.split(key, 4)
    p = {"norm1": norm_init(cin), "conv1": conv_init(k[0], cin, cout), "time": dense(k[1], E, cout), "norm2": norm_init(cout), "conv2": conv_init(k[2], cout, cout, 0.0)}
    if cin != cout:
        p["skip"] = dense(k[3], cin, cout)
    return p


def res_apply(h, e, p):
    a = conv3x3(jax.nn.silu(group_norm(h, p["norm1"])), p["conv1"]) + affine(e, p["time"])[:, None, None, :]
    r = conv3x3(jax.nn.silu(group_norm(a, p["norm2"])), p["conv2"])
    return (affine(h, p["skip"]) if "skip" in p else h) + r


def attn_init(key, C):
    k = jax.random.split(key, 2)
    return {"norm": norm_init(C), "qkv": dense(k[0], C, 3 * C, math.sqrt(0.5)), "out": dense(k[1], C, C, 0.0)}


def attn_apply(h, p, heads=1):
    B, H, W, C = h.shape
    d = C // heads
    qkv = affine(group_norm(h, p["norm"]).reshape(B, H * W, C), p["qkv"]).reshape(B, H * W, 3, heads, d)
    q, k, v = (qkv[:, :, i].transpose(0, 2, 1, 3) for i in range(3))
    w = jax.nn.softmax(q @ k.transpose(0, 1, 3, 2) / math.sqrt(d), -1)
    o = (w @ v).transpose(0, 2, 1, 3).reshape(B, H * W, C)
    return h + affine(o, p["out"]).reshape(B, H, W, C)


def unet_init(key, cin=1, classes=0):
    E = 4 * BASE
    ks = iter(jax.random.split(key, 33))
    p = {"embed": [dense(next(ks), TEMB, E), dense(next(ks), E, E)], "input": conv_init(next(ks), cin, BASE), "down": [], "up": []}
    if classes:  # a conditional model's label embedding (last row: "no label"), added to the time embedding
        p["label"] = jax.random.normal(next(ks), (classes + 1, E)) * 0.1
    c = BASE
    for l, m in enumerate(MULTS):
        C = BASE * m
        p["down"].append({"block": res_init(next(ks), c, C, E), **({"attn": attn_init(next(ks), C)} if l in ATTN else {})})
        c = C
    p["middle"] = {"first": res_init(next(ks), c, c, E), "attn": attn_init(next(ks), c), "second": res_init(next(ks), c, c, E)}
    up = [None] * len(MULTS)
    for l in reversed(range(len(MULTS))):
        C = BASE * MULTS[l]
        up[l] = {"block": res_init(next(ks), c + C, C, E), **({"attn": attn_init(next(ks), C)} if l in ATTN else {})}
        c = C
    p["up"] = up
    p["output"] = {"norm": norm_init(c), "conv": conv_init(next(ks), c, cin, 0.0)}
    return p


def level_apply(h, e, p):
    h = res_apply(h, e, p["block"])
    return attn_apply(h, p["attn"]) if "attn" in p else h


def unet_apply(p, x, t, labels=None):
    e = affine(jax.nn.silu(affine(time_embedding(t, TEMB), p["embed"][0])), p["embed"][1])
    e = jax.nn.silu(e + p["label"][labels] if labels is not None else e)
    h = conv3x3(x, p["input"])
    skips = []
    L = len(MULTS)
    for l in range(L):
        h = level_apply(h, e, p["down"][l])
        skips.append(h)
        if l < L - 1:
            B, H, W, C = h.shape
            h = h.reshape(B, H // 2, 2, W // 2, 2, C).mean((2, 4))
    m = p["middle"]
    h = res_apply(attn_apply(res_apply(h, e, m["first"]), m["attn"]), e, m["second"])
    for l in reversed(range(L)):
        if l < L - 1:
            h = jnp.repeat(jnp.repeat(h, 2, 1), 2, 2)
        h = level_apply(jnp.concatenate([h, skips[l]], -1), e, p["up"][l])
    return conv3x3(jax.nn.silu(group_norm(h, p["output"]["norm"])), p["output"]["conv"])


# ---- training step: loss, gradient, clipping, Adam, EMA in one jit --------------------------


def gamma_cosine(t):
    s = 0.008
    a2 = jnp.cos(math.pi / 2 * (t + s) / (1 + s)) ** 2 / math.cos(math.pi / 2 * s / (1 + s)) ** 2
    a2 = jnp.clip(a2, 1e-5, 1 - 1e-5)
    return jnp.log((1 - a2) / a2)


def gamma_log_snr_linear(t):
    return -13.3 + 18.3 * t


def adam_ema(state, grads, lr, decay, b1=0.9, b2=0.999, eps=1e-8, clip=1.0):
    """Clipping at global norm `clip`, one Adam step at `lr` and the EMA at `decay`: the new state."""
    params, m, v, ema, k = state
    norm = jnp.sqrt(sum(jnp.sum(g * g) for g in jax.tree.leaves(grads)))
    scale = jnp.minimum(1.0, clip / (norm + 1e-12))
    grads = jax.tree.map(lambda g: g * scale, grads)
    k = k + 1
    m = jax.tree.map(lambda mi, g: b1 * mi + (1 - b1) * g, m, grads)
    v = jax.tree.map(lambda vi, g: b2 * vi + (1 - b2) * g * g, v, grads)
    c1, c2 = 1 - b1**k, 1 - b2**k
    params = jax.tree.map(lambda p, mi, vi: p - lr * (mi / c1) / (jnp.sqrt(vi / c2) + eps), params, m, v)
    ema = jax.tree.map(lambda e, p: decay * e + (1 - decay) * p, ema, params)
    return params, m, v, ema, k


def eps_loss(apply, params, key, x0, gamma_of, *labels):
    """The simple ε loss at t ~ U(0, 1), noise drawn from `key`."""
    k1, k2 = jax.random.split(key)
    noise = jax.random.normal(k1, x0.shape)
    t = jax.random.uniform(k2, (x0.shape[0],))
    g = gamma_of(t).reshape(-1, *([1] * (x0.ndim - 1)))
    xt = jnp.sqrt(jax.nn.sigmoid(-g)) * x0 + jnp.sqrt(jax.nn.sigmoid(g)) * noise
    return ((apply(params, xt, t, *labels) - noise) ** 2).reshape(x0.shape[0], -1).mean(1).mean()


def make_step(apply, shape, gamma_of, lr=1e-3, decay=0.999):
    """A step on a batch drawn inside (x_0 ~ N(0, I)), state donated."""

    def step(state, key):
        k0, k1 = jax.random.split(key)
        loss, grads = jax.value_and_grad(lambda p: eps_loss(apply, p, k1, jax.random.normal(k0, shape), gamma_of))(state[0])
        return adam_ema(state, grads, lr, decay), loss

    return jax.jit(step, donate_argnums=(0,))


def fresh_state(params):
    zeros = lambda: jax.tree.map(jnp.zeros_like, params)  # noqa: E731
    return (params, zeros(), zeros(), jax.tree.map(jnp.copy, params), jnp.zeros((), jnp.float32))


def recipe(steps):
    """The recipe's training (peer_common.RECIPE) on the real images: conditional U-Net, labels
    dropped to "no label", warm-up and cosine decay, clipping, Adam, EMA; then the state saved."""
    import os
    import tempfile

    images, labels = fmnist_train()
    images = images[..., None]
    params = unet_init(jax.random.key(0), classes=RECIPE["classes"])

    @functools.partial(jax.jit, donate_argnums=(0,))
    def step(state, key, x0, y, lr, decay):
        k0, k1 = jax.random.split(key)
        y = jnp.where(jax.random.uniform(k0, y.shape) < RECIPE["dropout"], RECIPE["classes"], y)
        loss, grads = jax.value_and_grad(lambda p: eps_loss(unet_apply, p, k1, x0, gamma_log_snr_linear, y))(state[0])
        return adam_ema(state, grads, lr, decay), loss

    batches = epochs(len(labels), RECIPE["batch"], onp.random.default_rng(0))
    box = [fresh_state(params)]

    def run(key):
        for k in range(steps):
            key, sub = jax.random.split(key)
            idx = next(batches)
            box[0], loss = step(box[0], sub, images[idx], labels[idx].astype(onp.int32), *recipe_scalars(k, steps))
        float(loss)
        with tempfile.TemporaryDirectory() as d:
            onp.savez(os.path.join(d, "state.npz"), *[onp.asarray(a) for a in jax.tree.leaves(box[0])])

    return params, keyed_run(run, 5)


def keyed_run(f, seed):
    """A timed unit that calls f(key) with a fresh PRNG key split from a stream seeded by seed."""
    key = [jax.random.key(seed)]

    def run():
        key[0], sub = jax.random.split(key[0])
        return f(sub)

    return run


def trainer(params, apply, shape, gamma_of):
    state = [fresh_state(params)]
    step = make_step(apply, shape, gamma_of)

    def run(key):
        state[0], loss = step(state[0], key)
        return float(loss)

    return keyed_run(run, 1)


# ---- samplers: the whole chain in one jit -----------------------------------------------------


def ancestral(params, n, T=1000):
    levels = gamma_cosine(jnp.arange(T + 1, dtype=jnp.float32) / T)

    @jax.jit
    def sample(params, key):
        key, k0 = jax.random.split(key)

        def body(x, i_key):
            i, k = i_key
            gs, gt = levels[i - 1], levels[i]
            a_s, a_t = jnp.sqrt(jax.nn.sigmoid(-gs)), jnp.sqrt(jax.nn.sigmoid(-gt))
            s2_s, s2_t = jax.nn.sigmoid(gs), jax.nn.sigmoid(gt)
            eps_hat = mlp_apply(params, x, jnp.full((n,), i / T))
            x0 = (x - jnp.sqrt(s2_t) * eps_hat) / a_t
            a_ts = a_t / a_s
            s2_ts = s2_t - a_ts**2 * s2_s
            mean = (a_ts * s2_s / s2_t) * x + (a_s * s2_ts / s2_t) * x0
            noise = jnp.where(i > 1, jnp.sqrt(s2_ts * s2_s / s2_t), 0.0) * jax.random.normal(k, x.shape)
            return mean + noise, None

        steps = jnp.arange(T, 0, -1)
        x, _ = lax.scan(body, jax.random.normal(k0, (n, 2)), (steps, jax.random.split(key, T)))
        return x

    return keyed_run(lambda key: sample(params, key).block_until_ready(), 2)


def dpm(params, shape, N=20):
    """DPM-Solver++ 2M, the coefficients of peer.py's dpm_coefficients, scanned over the N levels."""
    co = onp.array(dpm_coefficients(N), dtype=onp.float32)

    @jax.jit
    def sample(params, key):
        def body(carry, c):
            x, prev = carry
            t, g, a, b, cc = c[0], c[1], c[2], c[3], c[4]
            s, al = jnp.sqrt(jax.nn.sigmoid(g)), jnp.sqrt(jax.nn.sigmoid(-g))
            m = (x - s * unet_apply(params, x, jnp.full((shape[0],), t))) / al
            return (a * x + b * m + cc * prev, m), None

        x0 = jax.random.normal(key, shape)
        (x, _), _ = lax.scan(body, (x0, jnp.zeros(shape)), jnp.asarray(co))
        return x

    return keyed_run(lambda key: sample(params, key).block_until_ready(), 3)


def case():
    """(params, callable that runs one timed unit)."""
    key = jax.random.key(0)
    if KIND in ("mlp_step", "soak_2d"):
        hidden, layers = mlp_shape(SIZE)
        params = mlp_init(key, 2, hidden, layers, 32)
        return params, trainer(params, mlp_apply, (SIZE, 2), gamma_cosine)
    if KIND == "sample_2d":
        params = mlp_init(key, 2, *mlp_shape(256), 32)
        return params, ancestral(params, SIZE)
    if KIND in ("unet_step", "soak_unet"):
        params = unet_init(key)
        return params, trainer(params, unet_apply, (SIZE, 28, 28, 1), gamma_log_snr_linear)
    if KIND == "unet_forward":
        params = unet_init(key)
        f = jax.jit(unet_apply)

        def forward(key):
            k0, k1 = jax.random.split(key)
            return float(f(params, jax.random.normal(k0, (SIZE, 28, 28, 1)), jax.random.uniform(k1, (SIZE,))).sum())

        return params, keyed_run(forward, 4)
    if KIND == "sample_fmnist":
        params = unet_init(key)
        return params, dpm(params, (SIZE, 28, 28, 1))
    if KIND == "recipe_fmnist":
        return recipe(SIZE)
    raise SystemExit(f"no JAX case {KIND!r}")


def main():
    params, run = case()
    count = sum(int(onp.prod(p.shape)) for p in jax.tree.leaves(params))
    report(run, count, THREADS, RUNS, WARMUP, f"jax {jax.__version__}", soak=KIND.startswith("soak"))


if __name__ == "__main__":
    main()
