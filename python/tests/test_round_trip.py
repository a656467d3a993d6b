"""The hand-off end to end: `vdm train` 500 steps → `vdm export --format pytorch` → 500 more steps on two
torchrun processes (gloo, CPU) → `vdm eval` scores the PyTorch-trained run better than the 500-step one on
the 2,000 held-out points: a lower ELBO in bits/dim, and a log-likelihood through the probability-flow ODE
(40 fixed steps, exact divergence) higher
by more than three standard errors (the ELBO's one draw of t per point leaves its standard error near the gain
itself; the ODE's is four times smaller) — and `vdm train --resume` continues it."""
import json
import math
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "python"))

from vdm_torch import load_run  # noqa: E402


def vdm(*args):
    return subprocess.run(["node", os.path.join(ROOT, "bin", "vdm.js"), *args], check=True, capture_output=True, text=True, cwd=ROOT)


def held_out(run):
    """(ELBO bits/dim, ODE nats, the ODE nats' standard error) of `vdm eval` on the 2,000 held-out points."""
    out = json.loads(vdm("eval", "--model", run, "--n", "2000", "--likelihood", "ode", "--ode-steps", "40", "--json").stdout)
    return out["bpd"], out["ode"]["nats"], out["ode"]["natsStdError"]


class RoundTrip(unittest.TestCase):
    def test_vdm_then_torchrun_then_vdm(self):
        with tempfile.TemporaryDirectory(prefix="vdm-round-trip-") as tmp:
            first, exported, second = (os.path.join(tmp, n) for n in ("first", "exported", "second"))
            vdm("train", "--data", "moons", "--steps", "500", "--out", first, "--no-report", "--quiet")
            vdm("export", "--format", "pytorch", "--model", first, "--out", exported)
            torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
            subprocess.run([*torchrun, os.path.join(exported, "train.py"), "--steps", "1000", "--out", second, "--device", "cpu"],
                           check=True, capture_output=True, text=True)
            self.assertEqual(load_run(second)["step"], 1000)
            bpd_first, nats_first, se_first = held_out(first)
            bpd_second, nats_second, se_second = held_out(second)
            gain = nats_first - nats_second
            se = math.hypot(se_first, se_second)
            print(f"\nround trip: ELBO {bpd_first:.4f} bits/dim after 500 vdm steps, {bpd_second:.4f} after 500 more in PyTorch; "
                  f"ODE likelihood gain {gain:.4f} ± {se:.4f} nats", file=sys.stderr)
            self.assertLess(bpd_second, bpd_first)
            self.assertGreater(gain, 3 * se, "the exact likelihood's gain is within three standard errors")
            vdm("train", "--out", second, "--resume", "--steps", "1010", "--no-report", "--quiet")
            self.assertEqual(load_run(second)["step"], 1010)


if __name__ == "__main__":
    unittest.main()
