"""vdm_torch reads a vdm run, trains it one step in PyTorch, writes it back in vdm's format, and vdm resumes it."""
import json
import os
import subprocess
import sys
import tempfile
import unittest

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "python"))

from vdm_torch import (  # noqa: E402
    Mlp, adam_update, ema_update, get_schedule, load_run, save_run, step_scalars, training_loss, vdm_named_parameters,
)


def vdm(*args):
    return subprocess.run(["node", "bin/vdm.js", *args], cwd=ROOT, check=True, capture_output=True, text=True)


class Checkpoint(unittest.TestCase):
    def test_save_is_byte_identical(self):
        """state.safetensors byte for byte; config.json as JSON (Python writes 1e-8 as 1e-08)."""
        with tempfile.TemporaryDirectory(prefix="vdm-torch-ckpt-") as tmp:
            a, b = os.path.join(tmp, "a"), os.path.join(tmp, "b")
            vdm("train", "--data", "moons", "--steps", "3", "--batch", "16", "--out", a, "--no-report")
            save_run(b, load_run(a))
            with open(os.path.join(a, "state.safetensors"), "rb") as x, open(os.path.join(b, "state.safetensors"), "rb") as y:
                self.assertEqual(x.read(), y.read())
            with open(os.path.join(a, "config.json")) as x, open(os.path.join(b, "config.json")) as y:
                self.assertEqual(json.load(x), json.load(y))

    def test_a_torch_step_then_vdm_resumes(self):
        with tempfile.TemporaryDirectory(prefix="vdm-torch-ckpt-") as tmp:
            run_dir = os.path.join(tmp, "run")
            vdm("train", "--data", "moons", "--steps", "5", "--batch", "32", "--out", run_dir, "--no-report")
            run = load_run(run_dir)
            config = run["config"]
            net = Mlp(config["model"]["mlp"], config["target"])
            net.load_state_dict(run["params"])
            g = torch.Generator().manual_seed(0)
            B, D = config["batch"], config["data"]["dim"]
            x0, eps, u = torch.randn(B, D, generator=g), torch.randn(B, D, generator=g), torch.rand(B, generator=g)
            per_example = training_loss(net, get_schedule(config["schedule"]), config["loss"], x0, eps, u)
            loss = per_example.mean()
            loss.backward()
            named = vdm_named_parameters(net)
            scalars = step_scalars(config["adam"], run["step"])
            params = {n: p.detach() for n, p in named}
            params, run["m"], run["v"] = adam_update(params, {n: p.grad for n, p in named}, run["m"], run["v"], config["adam"], scalars)
            run["ema"] = ema_update(run["ema"], params, scalars["emaDecay"])
            run["params"] = params
            run["step"] += 1
            run["losses"] = torch.cat([run["losses"], loss.detach().reshape(1)])
            run["variances"] = torch.cat([run["variances"], per_example.detach().var().reshape(1)])
            save_run(run_dir, run)
            vdm("train", "--out", run_dir, "--resume", "--steps", "8", "--no-report")
            after = load_run(run_dir)
            self.assertEqual(after["step"], 8)
            self.assertEqual(len(after["losses"]), 8)
            self.assertEqual(after["losses"][5].item(), loss.item())  # the torch step's loss stays in the history
            with open(os.path.join(run_dir, "config.json")) as f:
                self.assertEqual(json.load(f)["steps"], 8)


if __name__ == "__main__":
    unittest.main()
