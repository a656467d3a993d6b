"""What the trainer's tests share: vdm's CLI (the built dist/), vdm's training rows (rows.mjs), the trainer's
launcher python/train.py run as one process or under torchrun (`python -m torch.distributed.run`)."""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PYTHON_DIR = os.path.join(ROOT, "python")
LAUNCHER = os.path.join(PYTHON_DIR, "train.py")
TORCHRUN = [sys.executable, "-m", "torch.distributed.run"]
sys.path.insert(0, PYTHON_DIR)


def vdm(*args):
    """node bin/vdm.js ARGS (checked)."""
    return subprocess.run(["node", "bin/vdm.js", *args], cwd=ROOT, check=True, capture_output=True, text=True)


def vdm_run(out, *flags):
    """A run vdm trained: `vdm train --out OUT --no-report FLAGS`, and its training rows in OUT-data (x.npy,
    labels.npy, normalised.npy: python/tests/rows.mjs); returns the data directory."""
    vdm("train", "--out", out, "--no-report", *flags)
    data = out + "-data"
    subprocess.run(["node", "python/tests/rows.mjs", out, data], cwd=ROOT, check=True, capture_output=True, text=True)
    return data


def trainer(*args, procs=1, check=True, timeout=120):
    """python/train.py ARGS as one process (procs = 1) or under torchrun --standalone with `procs` processes."""
    launch = [sys.executable] if procs == 1 else [*TORCHRUN, "--standalone", "--nproc_per_node", str(procs)]
    return subprocess.run([*launch, LAUNCHER, *args], check=check, capture_output=True, text=True, timeout=timeout, env=quiet_env())


def quiet_env():
    """The environment with OMP_NUM_THREADS = 1 (torchrun's own default, and its warning silenced)."""
    return {**os.environ, "OMP_NUM_THREADS": "1"}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def copy_run(src, dst, **config_changes):
    """A copy of run directory `src` with config.json's top-level fields replaced (None: removed)."""
    shutil.copytree(src, dst)
    path = os.path.join(dst, "config.json")
    with open(path) as f:
        config = json.load(f)
    for k, v in config_changes.items():
        if v is None:
            config.pop(k, None)
        else:
            config[k] = v
    with open(path, "w") as f:
        json.dump(config, f, indent=2)
    return dst


class MoonsRunCase(unittest.TestCase):
    """Tests over one vdm-trained moons run (5 steps, batch 64): `source`, its rows in `data`, under `inputs`."""

    @classmethod
    def setUpClass(cls):
        cls.inputs = tempfile.mkdtemp(prefix="vdm-torch-")
        cls.source = os.path.join(cls.inputs, "moons")
        cls.data = vdm_run(cls.source, "--data", "moons", "--steps", "5", "--batch", "64")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.inputs)
