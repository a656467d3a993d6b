"""vdm's run directories (src/io/checkpoint.ts, src/io/state.ts): config.json and state.safetensors with
params.*, ema.*, adam.m.*, adam.v.* (each in vdm's leaf order), rng (U32 [2], vdm's PRNG key), losses
and loss_variances (F32 [steps]); metadata {"step": str, "format": "vdm-1"}. Exported weights
(format "vdm-weights-1") hold ema.* only and cannot be resumed."""
import json
import os

import torch

from .safetensors_io import read_safetensors, subtree, write_safetensors

TRAINING_FORMAT = "vdm-1"
WEIGHTS_FORMAT = "vdm-weights-1"


def load_run(run_dir):
    """{config, params, ema, m, v, step, rng, losses, variances} of a vdm run (dicts keyed by leaf name)."""
    with open(os.path.join(run_dir, "config.json")) as f:
        config = json.load(f)
    tensors, metadata = read_safetensors(os.path.join(run_dir, "state.safetensors"))
    if metadata.get("format") == WEIGHTS_FORMAT:
        raise ValueError(f"{run_dir} holds exported EMA weights only: it samples, but cannot be resumed")
    losses = tensors["losses"]
    return {
        "config": config,
        "params": subtree(tensors, "params"),
        "ema": subtree(tensors, "ema"),
        "m": subtree(tensors, "adam.m"),
        "v": subtree(tensors, "adam.v"),
        "step": int(metadata["step"]),
        "rng": tensors["rng"],
        "losses": losses,
        "variances": tensors.get("loss_variances", torch.full_like(losses, float("nan"))),
    }


def read_text(path):
    """The file's text, or None when there is no such file."""
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        return f.read()


def save_run(run_dir, run):
    """Write `run` (as load_run returns it) as vdm writes a checkpoint: config.json (2-space JSON and a
    newline; rewritten only when its text changes) and state.safetensors, each through a temporary file and a
    rename."""
    os.makedirs(run_dir, exist_ok=True)
    tensors = {}
    for prefix, key in (("params", "params"), ("ema", "ema"), ("adam.m", "m"), ("adam.v", "v")):
        for name, t in run[key].items():
            tensors[f"{prefix}.{name}"] = t.detach().to(torch.float32)
    tensors["rng"] = (run["rng"], "U32")
    tensors["losses"] = run["losses"].to(torch.float32)
    tensors["loss_variances"] = run["variances"].to(torch.float32)
    metadata = {"step": str(int(run["step"])), "format": TRAINING_FORMAT}
    config_path = os.path.join(run_dir, "config.json")
    state_path = os.path.join(run_dir, "state.safetensors")
    text = json.dumps(run["config"], indent=2, ensure_ascii=False) + "\n"
    if read_text(config_path) != text:
        with open(config_path + ".tmp", "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(config_path + ".tmp", config_path)
    write_safetensors(state_path + ".tmp", tensors, metadata)
    os.replace(state_path + ".tmp", state_path)
