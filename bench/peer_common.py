"""What the peers (bench/peer.py: PyTorch, bench/peer_jax.py: JAX) share: the case names, the
thread settings (which must be in the environment before the library is imported), the timing
loop, the soak loop and the one JSON line each run prints.

A case name is BASE_tN: N threads (bench/bench.ts also pins every side's process to N cores with
taskset). Run as `PYTHON bench/peer[_jax].py CASE RUNS WARMUP`; a soak case takes RUNS as its
number of steps. Prints {"ms", "times", "params", "peak_rss_mb", "threads", "version"} and, for a
soak, "rss_slope_mb_per_1k_steps" and "rss_mb" (the samples).
"""
import gzip
import json
import math
import os
import re
import resource
import statistics
import sys
import time

#: BASE → (kind, batch or points); BASE_tN is the case at N threads
BASES = {
    "mlp_step_b256": ("mlp_step", 256),  # the default 2-D model: 3 hidden layers of 128
    "mlp_step_b1024": ("mlp_step", 1024),  # the larger one: 4 hidden layers of 256
    "unet_step_b32": ("unet_step", 32),
    "unet_step_b64": ("unet_step", 64),
    "unet_forward_b64": ("unet_forward", 64),
    "sample_2d_n1024": ("sample_2d", 1024),  # ancestral, all T = 1000 steps, default 2-D model
    "sample_fmnist_n64": ("sample_fmnist", 64),  # DPM-Solver++ 2M, 20 steps, default U-Net
    "soak_2d_b256": ("soak_2d", 256),
    "soak_unet_b32": ("soak_unet", 32),
    # run by bench/recipe.ts only: the Fashion-MNIST recipe's training, 500 steps on the real images
    "recipe_fmnist_s500": ("recipe_fmnist", 500),
}


def mlp_shape(batch):
    """(hidden, layers) of the 2-D MLP of a step at `batch`: the default model, or the larger one."""
    return (128, 3) if batch == 256 else (256, 4)


def parse():
    """(kind, size, threads, runs, warmup) from argv; sets the thread environment first."""
    name, runs, warmup = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    m = re.fullmatch(r"(.+)_t(\d+)", name)
    if not m or m.group(1) not in BASES:
        raise SystemExit(f"unknown case {name!r} (known: {', '.join(b + '_tN' for b in BASES)})")
    threads = int(m.group(2))
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(threads)
    # XLA's CPU client: Eigen's thread pool and the intra-op pool at `threads` (1: no pool)
    flags = [f"--xla_cpu_multi_thread_eigen={'true' if threads > 1 else 'false'}", f"intra_op_parallelism_threads={threads}"]
    os.environ["XLA_FLAGS"] = " ".join([os.environ.get("XLA_FLAGS", ""), *flags]).strip()
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    kind, size = BASES[m.group(1)]
    return kind, size, threads, runs, warmup


def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def slope_per_1k(steps, values):
    """Least-squares slope of values against steps, per 1,000 steps."""
    n = len(steps)
    if n < 2:
        return 0.0
    ms, mv = sum(steps) / n, sum(values) / n
    den = sum((s - ms) ** 2 for s in steps)
    return 1000 * sum((s - ms) * (v - mv) for s, v in zip(steps, values)) / den if den else 0.0


def report(run, params, threads, runs, warmup, version, soak=False):
    """Time `run` (`runs` timed calls after `warmup`) or, for a soak, run it `runs` times sampling RSS."""
    out = {}
    if soak:
        # RSS sampled 50 times; the slope is fitted after the first quarter (the warm-up)
        every = max(1, runs // 50)
        times, samples = [], []
        for k in range(runs):
            start = time.perf_counter()
            run()
            times.append((time.perf_counter() - start) * 1000)
            if (k + 1) % every == 0:
                samples.append((k + 1, rss_mb()))
        after = [(s, v) for s, v in samples if s > runs // 4]
        out["rss_slope_mb_per_1k_steps"] = slope_per_1k([s for s, _ in after], [v for _, v in after])
        out["rss_mb"] = [round(v, 1) for _, v in samples]
    else:
        for _ in range(warmup):
            run()
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            run()
            times.append((time.perf_counter() - start) * 1000)
    print(json.dumps({
        "ms": statistics.median(times),
        "times": times if not soak else [],
        "params": params,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "threads": threads,
        "version": version,
        **out,
    }))


def dpm_coefficients(N):
    """DPM-Solver++ 2M on N levels evenly spaced in γ of the log-SNR-linear schedule (the last to the data):
    x ← a·x + b·x̂₀ + c·x̂₀_prev per step, as src/sample/dpm-solver.ts computes it."""
    gammas = [-math.inf] + [-13.3 + 18.3 * (i / N) for i in range(1, N + 1)]
    lam = [-g / 2 for g in gammas]
    sig = lambda g: math.sqrt(1 / (1 + math.exp(-g))) if g != -math.inf else 0.0  # noqa: E731
    alp = lambda g: math.sqrt(1 / (1 + math.exp(g))) if g != -math.inf else 1.0  # noqa: E731
    out = []
    for i in range(N, 0, -1):
        k = N - i
        order = min(2, k + 1, N - k)
        h = lam[i - 1] - lam[i]
        phi1 = -math.expm1(-h)
        a, b, c = sig(gammas[i - 1]) / sig(gammas[i]), alp(gammas[i - 1]) * phi1, 0.0
        if order == 2:
            r0 = (lam[i] - lam[i + 1]) / h
            w = alp(gammas[i - 1]) * phi1 * 0.5 / r0
            b, c = b + w, -w
        out.append((i / N, gammas[i], a, b, c))
    return out


# ---- the Fashion-MNIST recipe (docs/images.md), as `vdm train --data fashion-mnist --conditional
# --lr-decay cosine --ema-decay 0.9995 --steps N --no-report` trains it ----------------------------

#: batch, classes, label dropout to "no label" (index CLASSES), peak learning rate, its cosine floor, EMA decay
RECIPE = {"batch": 32, "classes": 10, "dropout": 0.15, "lr": 1e-3, "final": 0.1, "ema": 0.9995}
DEBIAN_FMNIST = "/usr/share/datasets/fashion-mnist"
BUNDLED_FMNIST = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "fashion-mnist")


def fmnist_train():
    """The training images as float32 [N, 28, 28] in [−1, 1] and their labels, from the folder
    `vdm train` reads by default (Debian's full set when installed, else the bundled subset)."""
    folder = DEBIAN_FMNIST if os.path.isdir(DEBIAN_FMNIST) else BUNDLED_FMNIST

    def idx(name, offset):
        path = os.path.join(folder, name)
        opener = gzip.open if os.path.exists(path + ".gz") else open
        with opener(path + ".gz" if opener is gzip.open else path, "rb") as f:
            return f.read()[offset:]

    import numpy

    images = numpy.frombuffer(idx("train-images-idx3-ubyte", 16), dtype=numpy.uint8).reshape(-1, 28, 28)
    labels = numpy.frombuffer(idx("train-labels-idx1-ubyte", 8), dtype=numpy.uint8).astype(numpy.int64)
    return images.astype(numpy.float32) / 127.5 - 1, labels


def recipe_scalars(k, steps):
    """(learning rate, EMA decay) of step k (0-based) of a run of `steps`, as src/train/adam.ts's
    stepScalars: warm-up over min(200, ⌈steps/20⌉) steps, cosine decay to RECIPE["final"]·lr, EMA warm-up."""
    warmup = min(200, math.ceil(steps / 20))
    f = RECIPE["final"]
    lr = RECIPE["lr"] * min(1, (k + 1) / warmup) * (f + (1 - f) * 0.5 * (1 + math.cos(math.pi * min(k, steps) / steps)))
    return lr, min(RECIPE["ema"], (1 + k) / (10 + k))


def epochs(n, batch, rng):
    """Batches of indices: a fresh permutation of the n examples per epoch."""
    while True:
        order = rng.permutation(n)
        for i in range(0, n - batch + 1, batch):
            yield order[i : i + batch]
