"""A training job's processes (torch.distributed): joining the group, agreeing on errors before training,
handing rank 0's state to every rank, and stopping on SIGTERM/SIGINT without tearing a checkpoint."""
import os
import re
import signal

import numpy as np
import torch
import torch.distributed as dist

from .checkpoint import save_run


class Stop(Exception):
    """A problem the user can act on: one line `vdm_torch.train: …` on stderr and exit status `code` (2: usage),
    printed unless `quiet` (default: by one process per node, LOCAL_RANK 0)."""

    def __init__(self, message, code=1, quiet=None):
        super().__init__(message)
        self.code = code
        self.quiet = int(os.environ.get("LOCAL_RANK", "0")) != 0 if quiet is None else quiet


class Interrupted(Exception):
    """SIGTERM or SIGINT (torchrun sends SIGTERM to the surviving ranks when one fails)."""


class Guard:
    """SIGTERM/SIGINT handler: at once between steps (Interrupted), after the checkpoint being written inside one."""

    def __init__(self, saved=None):
        self.saving, self.pending, self.stopping = False, None, False
        self.saved = saved  # the step of the last checkpoint written (None: none yet)
        self.previous = {s: signal.signal(s, self) for s in (signal.SIGTERM, signal.SIGINT)}

    def release(self):
        """The handlers from before (training is over: the last checkpoint is written)."""
        for s, handler in self.previous.items():
            signal.signal(s, handler)

    def __call__(self, signum, frame):
        if self.stopping:
            return
        if self.saving:
            self.pending = signum
        else:
            self.stopping = True
            raise Interrupted(signal.Signals(signum).name)

    def save(self, out, run):
        self.saving = True
        try:
            save_run(out, run)
            self.saved = run["step"]
        finally:
            self.saving = False
        if self.pending is not None:
            self.stopping = True
            raise Interrupted(signal.Signals(self.pending).name)


def join(device_flag):
    """(world, rank, device) of this process (torchrun's WORLD_SIZE, RANK, LOCAL_RANK picks the GPU), in the
    process group when world > 1 (nccl on CUDA, gloo on the CPU)."""
    world, rank = int(os.environ.get("WORLD_SIZE", "1")), int(os.environ.get("RANK", "0"))
    if device_flag == "cuda":
        if not torch.cuda.is_available():
            raise Stop("--device cuda: PyTorch sees no CUDA device (--device cpu trains on the CPU)", 2)
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    else:
        device = torch.device("cpu")
    if world > 1:
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return world, rank, device


def collective(op, *args, **kw):
    """A setup collective; a rank that died first makes it fail (gloo: "Connection closed by peer")."""
    try:
        return op(*args, **kw)
    except RuntimeError as e:
        raise Stop(f"another rank failed before training began ({first_line(e)})") from None


def first_line(e):
    """An exception's first sentence, without the source location gloo puts first:
    "[…/pair.cc:537] Read error [127.0.0.1]:15562: Connection reset by peer. This is typically …"
    → "Read error [127.0.0.1]:15562: Connection reset by peer"."""
    text = re.sub(r"^\[[^\]]*\.(?:cc|cpp|h):\d+\]\s*", "", str(e).strip())
    return text.splitlines()[0].split(". ")[0].rstrip(".") if text else type(e).__name__


def everywhere(world, rank, attempt):
    """attempt() on every rank; if it raised on any, every rank raises the first rank's Stop (printed by rank 0)."""
    try:
        value, error = attempt(), None
    except Stop as e:
        value, error = None, (str(e), e.code)
    except ValueError as e:
        value, error = None, (str(e), 1)
    errors = [error]
    if world > 1:
        errors = [None] * world
        collective(dist.all_gather_object, errors, error)
    for r, e in enumerate(errors):
        if e is not None:
            raise Stop(e[0] if world == 1 or r == 0 else f"rank {r}: {e[0]}", e[1], quiet=rank != 0)
    return value


def as_arrays(v):
    """Tensors (also inside dicts) as numpy arrays, the rest as is."""
    if isinstance(v, dict):
        return {k: as_arrays(x) for k, x in v.items()}
    return v.numpy() if isinstance(v, torch.Tensor) else v


def as_tensors(v):
    """as_arrays undone."""
    if isinstance(v, dict):
        return {k: as_tensors(x) for k, x in v.items()}
    return torch.from_numpy(v) if isinstance(v, np.ndarray) else v


def broadcast(world, value):
    """Rank 0's `value` (tensors, in dicts too) on every rank; tensors travel as numpy arrays (torch 2.13 could
    not unpickle the tensor storages broadcast_object_list sent)."""
    if world == 1:
        return value
    box = [as_arrays(value)]
    collective(dist.broadcast_object_list, box, src=0)
    return as_tensors(box[0])
