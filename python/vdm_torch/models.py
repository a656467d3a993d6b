"""PyTorch twins of vdm's networks whose parameter names are vdm's tensor names.

A module's state_dict() keys are the leaf paths of vdm's parameter tree (src/io/state.ts
`namedLeaves`) without the "params."/"ema." prefix, and its parameters are registered in the order
of that tree (the order of state.safetensors), so `model.load_state_dict(subtree(tensors, "ema"))`
loads a checkpoint and `named_parameters()` walks the same leaves Adam's moments are stored under.
"""
import math

import torch
from torch import nn

from . import wasm_math
from .schedule import alpha, sigmoid


def unwrapped(model):
    """The twin itself: inside DistributedDataParallel or the trainer's bfloat16 wrapper, both of which hold it as `.module`."""
    return model.module if hasattr(model, "module") else model


def vdm_named_parameters(module):
    """[(name, parameter)] in vdm's order (the order of its parameter tree and of state.safetensors).
    PyTorch's named_parameters() lists a module's own parameters before its submodules' (a conditional
    network's `label` would come first); a twin lists its top-level names in vdm's order as VDM_ORDER (a
    child with a VDM_ORDER of its own is walked by it)."""
    out = []
    for name in module.VDM_ORDER:
        child = getattr(module, name, None)
        if child is None:
            continue
        if isinstance(child, nn.Parameter):
            out.append((name, child))
        elif hasattr(child, "VDM_ORDER"):
            out.extend((f"{name}.{n}", p) for n, p in vdm_named_parameters(child))
        else:
            out.extend(child.named_parameters(prefix=name))
    assert len(out) == len(list(module.parameters())), "VDM_ORDER misses a parameter"
    return out


def silu(x):
    """x · sigmoid(x) with vdm's stable sigmoid."""
    return x * sigmoid(x)


class Dense(nn.Module):
    """x W + b with w [in, out] and b [out] (vdm's layout, the transpose of nn.Linear's)."""

    def __init__(self, fan_in, fan_out, scale=1.0):
        super().__init__()
        self.w = nn.Parameter(torch.randn(fan_in, fan_out) * (scale * math.sqrt(2 / fan_in)))
        self.b = nn.Parameter(torch.zeros(fan_out))

    def forward(self, x):
        return x @ self.w + self.b


#: the float32 exp/sin/cos of the embeddings: "jax-wasm" repeats jax-js's wasm kernels bit for bit (what a
#: run trained by vdm's default jax backend saw), "torch" uses PyTorch's (correctly rounded; closer to
#: what a run trained with --backend onnx saw)
MATH = {"jax-wasm": (wasm_math.exp, wasm_math.sin, wasm_math.cos), "torch": (torch.exp, torch.sin, torch.cos)}


def time_embedding(t, E, math_kind="jax-wasm"):
    """[sin(1000 t ω_k), cos(1000 t ω_k)], ω_k = 10000^{−k/(E/2)}: [B] → [B, E] (float32 as vdm computes it)."""
    exp, sin, cos = MATH[math_kind]
    half = E // 2
    freqs = exp(torch.arange(half, dtype=torch.float32) * (-math.log(10000) / half))
    angles = (t * 1000).reshape(-1, 1) * freqs.reshape(1, half)
    return torch.cat([sin(angles), cos(angles)], 1)


class Mlp(nn.Module):
    """The twin of src/models/mlp.ts:
        e = silu(W_e emb(t) + b_e) [+ label[y]],  x̃ = x ⊕ sin(2π x B) ⊕ cos(2π x B),
        h_1 = silu(W_in x̃ + b_in + e A_1),  h_{l+1} = h_l + silu(W_l h_l + b_l + e A_{l+1}),  out = W_out h_L + b_out.
    `config` is config.json's model.mlp. The Fourier frequencies B [dim, F] are not trained and not in
    the checkpoint (vdm draws them from Rng(fourierSeed)); pass them as `frequencies` when F > 0.
    `math_kind` chooses the embeddings' exp/sin/cos (see MATH).
    """

    VDM_ORDER = ("embed", "input", "time", "hidden", "output", "label")

    def __init__(self, config, target="eps", frequencies=None, math_kind="jax-wasm"):
        super().__init__()
        if math_kind not in MATH:
            raise ValueError(f"math_kind must be one of {', '.join(MATH)}, got {math_kind!r}")
        self.math_kind = math_kind
        self.config = dict(config)
        self.target = target
        dim, H, L, E = config["dim"], config["hidden"], config["layers"], config["timeEmbedding"]
        F = config.get("fourierFeatures", 0)
        if E % 2:
            raise ValueError(f"timeEmbedding must be even, got {E}")
        self.classes = config.get("classes") or 0
        self.ve = config.get("inputScaling") == "ve"
        # registration order = vdm's initMlp key order: embed, input, time, hidden, output, label
        self.embed = Dense(E, H)
        self.input = Dense(dim + 2 * F, H)
        self.time = nn.ParameterList([nn.Parameter(torch.randn(H, H) * math.sqrt(1 / H)) for _ in range(L)])
        self.hidden = nn.ModuleList([Dense(H, H) for _ in range(L - 1)])
        self.output = Dense(H, config.get("outputs") or dim, 0.1)
        if self.classes:
            self.label = nn.Parameter(torch.randn(self.classes + 1, H) * 0.1)
        if F > 0:
            if frequencies is None:
                raise ValueError(f"fourierFeatures = {F}: pass the Fourier frequencies [dim, F] (vdm's Rng({config['fourierSeed']}) draws)")
            self.register_buffer("frequencies", torch.as_tensor(frequencies, dtype=torch.float32).reshape(dim, F), persistent=False)
        else:
            self.frequencies = None

    def network(self, x, t, labels=None):
        """The network on x [B, D] at t [B] (labels [B] int, or None = "no label")."""
        e = silu(self.embed(time_embedding(t, self.config["timeEmbedding"], self.math_kind).to(self.embed.w.dtype)))
        if self.classes:
            ids = labels if labels is not None else torch.full((x.shape[0],), self.classes, dtype=torch.long)
            e = e + self.label[ids.long()]
        elif labels is not None:
            raise ValueError("labels were given to an unconditional model")
        if self.frequencies is not None:
            _, sin, cos = MATH[self.math_kind]
            proj = (x @ self.frequencies) * (2 * math.pi)
            x = torch.cat([x, sin(proj), cos(proj)], 1)
        h = silu(self.input(x) + e @ self.time[0])
        for layer, a in zip(self.hidden, list(self.time)[1:]):
            h = h + silu(layer(h) + e @ a)
        return self.output(h)

    def forward(self, xt, t, gamma, labels=None):
        """The denoiser's prediction of `target` from x_t at (t, γ): VP sees x_t, VE sees x_t/α_t."""
        x = xt / alpha(gamma).reshape(-1, *([1] * (xt.dim() - 1))) if self.ve else xt
        return self.network(x, t, labels)
