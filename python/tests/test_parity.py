"""Parity of the PyTorch twins with vdm: the same checkpoint, inputs and noise give the same
predictions and per-example losses to a relative 1e-5 (largest difference / largest reference value).

Each case trains a small run with the built CLI (node bin/vdm.js train, 20 steps), lets vdm itself
compute the reference values (python/tests/dump.mjs), then recomputes them with vdm_torch.
Run from the repository root after `npm run build`:  PYTHON -m unittest discover -s python/tests -v
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "python"))

from vdm_torch import Mlp, get_schedule, levels, q_sample, read_safetensors, subtree, training_loss  # noqa: E402

RTOL = 1e-5

#: name → extra `vdm train` flags (all on moons, 20 steps, batch 64)
CASES = {
    "default": [],  # log-snr-linear, eps, continuous ELBO
    "cosine-v-fourier-conditional": ["--schedule", "cosine", "--target", "v", "--fourier-features", "8", "--conditional"],
    "ncsn": ["--net", "ncsn"],  # VE input scaling, geometric ladder, simple loss
    "linear-x0": ["--schedule", "linear", "--target", "x0", "--loss", "simple"],
}


def npy(d, name):
    return torch.from_numpy(np.load(os.path.join(d, f"{name}.npy")))


def scaled_diff(got, want):
    """(max |got − want|, that / max |want|)."""
    diff = (got.detach().double() - want.double()).abs().max().item()
    return diff, diff / max(want.double().abs().max().item(), 1e-30)


class Parity(unittest.TestCase):
    tmp = None

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="vdm-torch-parity-")
        cls.report = []

    @classmethod
    def tearDownClass(cls):
        print("\nparity (max |torch − vdm|, relative to max |vdm|):")
        for line in cls.report:
            print("  " + line)
        cls.tmp.cleanup()

    def prepare(self, name, flags):
        run = os.path.join(self.tmp.name, name)
        dump = os.path.join(self.tmp.name, name + "-dump")
        cmd = ["node", "bin/vdm.js", "train", "--data", "moons", "--steps", "20", "--batch", "64", "--out", run, "--no-report", *flags]
        subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True)
        subprocess.run(["node", "python/tests/dump.mjs", run, dump], cwd=ROOT, check=True, capture_output=True)
        with open(os.path.join(run, "config.json")) as f:
            config = json.load(f)
        tensors, _ = read_safetensors(os.path.join(run, "state.safetensors"))
        return config, tensors, dump

    def check(self, case, what, got, want):
        diff, rel = scaled_diff(got, want)
        self.report.append(f"{case:30s} {what:18s} max diff {diff:.3e}  relative {rel:.3e}")
        self.assertLess(rel, RTOL, f"{case}: {what} differs by {diff:.3e} (relative {rel:.3e})")

    def test_mlp_forward_and_loss(self):
        for case, flags in CASES.items():
            with self.subTest(case=case):
                config, tensors, dump = self.prepare(case, flags)
                spec = config["model"]["mlp"]
                fourier = npy(dump, "fourier") if spec.get("fourierFeatures", 0) > 0 else None
                nets = {}
                for prefix in ("params", "ema"):
                    net = Mlp(spec, config["target"], fourier)
                    net.load_state_dict(subtree(tensors, prefix), strict=True)
                    nets[prefix] = net.eval()
                schedule = get_schedule(config["schedule"])
                x0, eps, u = npy(dump, "x0"), npy(dump, "eps"), npy(dump, "u")
                labels = npy(dump, "labels") if os.path.exists(os.path.join(dump, "labels.npy")) else None
                with torch.no_grad():
                    for w in ("simple", "elbo"):
                        t, gamma, _ = levels(schedule, u, w)
                        self.check(case, f"t ({w})", t, npy(dump, f"t_{w}"))
                        self.check(case, f"gamma ({w})", gamma, npy(dump, f"gamma_{w}"))
                        xt = q_sample(x0, gamma, eps)
                        self.check(case, f"x_t ({w})", xt, npy(dump, f"xt_{w}"))
                        # the networks on vdm's own inputs: the forward pass alone
                        ref_xt, ref_t, ref_g = npy(dump, f"xt_{w}"), npy(dump, f"t_{w}"), npy(dump, f"gamma_{w}")
                        self.check(case, f"pred ({w})", nets["params"](ref_xt, ref_t, ref_g, labels), npy(dump, f"pred_{w}"))
                        self.check(case, f"pred ema ({w})", nets["ema"](ref_xt, ref_t, ref_g, labels), npy(dump, f"pred_ema_{w}"))
                        loss = training_loss(nets["params"], schedule, w, x0, eps, u, labels)
                        self.check(case, f"loss ({w})", loss, npy(dump, f"loss_{w}"))

    def test_state_names(self):
        """Every parameter of the twin is a tensor of the checkpoint, in the checkpoint's order."""
        config, tensors, _ = self.prepare("names", [])
        net = Mlp(config["model"]["mlp"], config["target"])
        names = [k for k, _ in net.named_parameters()]
        self.assertEqual(["params." + n for n in names], [k for k in tensors if k.startswith("params.")])
        for prefix in ("ema", "adam.m", "adam.v"):
            self.assertEqual(["%s.%s" % (prefix, n) for n in names], [k for k in tensors if k.startswith(prefix + ".")])


if __name__ == "__main__":
    unittest.main()
