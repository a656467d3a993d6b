"""vdm_torch.train (the DRAFT trainer): 20 steps on 2 processes (torchrun, gloo) equal 20 steps on one
with the same global batch, and vdm resumes the run it wrote."""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PYTHON_DIR = os.path.join(ROOT, "python")
sys.path.insert(0, PYTHON_DIR)

from vdm_torch import load_run  # noqa: E402


def run(cmd, **kw):
    env = {**os.environ, "PYTHONPATH": PYTHON_DIR + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run(cmd, check=True, capture_output=True, text=True, env=env, **kw)


class Train(unittest.TestCase):
    def test_two_processes_equal_one_and_vdm_resumes(self):
        with tempfile.TemporaryDirectory(prefix="vdm-torch-train-") as tmp:
            one, two = os.path.join(tmp, "one"), os.path.join(tmp, "two")
            run(["node", "bin/vdm.js", "train", "--data", "moons", "--steps", "5", "--batch", "64", "--out", one, "--no-report"], cwd=ROOT)
            shutil.copytree(one, two)
            data = os.path.join(tmp, "x.npy")
            np.save(data, np.random.default_rng(0).standard_normal((1000, 2)).astype(np.float32))
            args = ["-m", "vdm_torch.train", "--data", data, "--steps", "25", "--checkpoint-every", "10"]
            run([sys.executable, *args, "--run-dir", one])
            torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
            run([*torchrun, *args, "--run-dir", two])
            a, b = load_run(one), load_run(two)
            self.assertEqual((a["step"], b["step"]), (25, 25))
            for key in ("params", "ema", "m", "v"):
                for name, t in a[key].items():
                    rel = (t - b[key][name]).abs().max().item() / max(t.abs().max().item(), 1e-30)
                    self.assertLess(rel, 1e-5, f"{key}.{name}: 1 process against 2 differ by {rel:.2e} (relative)")
            self.assertLess((a["losses"] - b["losses"]).abs().max().item(), 1e-4)
            run(["node", "bin/vdm.js", "train", "--out", two, "--resume", "--steps", "30", "--no-report"], cwd=ROOT)
            self.assertEqual(load_run(two)["step"], 30)


if __name__ == "__main__":
    unittest.main()
