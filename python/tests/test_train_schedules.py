"""vdm_torch.train beyond fixed continuous-time schedules: 2 processes at B/2 equal 1 process at B for a learned
schedule in continuous time (its interior's gradient scaled by the mean of d² over the global batch) and for a
conditional run on a fixed schedule's 10-step chain; a vdm run with a learned schedule, trained further by
train.py, keeps its tensor names and is resumed and evaluated by vdm."""
import json
import math
import os
import shutil
import struct
import tempfile
import unittest

from helpers import trainer, vdm, vdm_run
from vdm_torch import load_run


def tensor_names(state):
    """The tensor names of a safetensors file, in the order of its header."""
    with open(state, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        return [k for k in json.loads(f.read(n)) if k != "__metadata__"]


class TrainSchedules(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="vdm-torch-schedules-")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def path(self, name):
        return os.path.join(self.tmp, name)

    def one_and_two(self, name, steps, *flags):
        """vdm trains `name` 5 steps (batch 64, FLAGS); train.py takes it to `steps` on 1 process and on 2:
        (source, data, one, two)."""
        source = self.path(name)
        data = vdm_run(source, "--data", "moons", "--steps", "5", "--batch", "64", *flags)
        one, two = self.path(name + "-one"), self.path(name + "-two")
        args = ["--from", source, "--data-dir", data, "--steps", str(steps)]
        trainer(*args, "--out", one)
        trainer(*args, "--out", two, procs=2)
        return source, data, load_run(one), load_run(two)

    def assertSameRun(self, a, b, tolerance, losses):
        for key in ("params", "ema", "m", "v"):
            self.assertEqual(list(a[key]), list(b[key]))
            for name, t in a[key].items():
                rel = (t - b[key][name]).abs().max().item() / max(t.abs().max().item(), 1e-30)
                self.assertLess(rel, tolerance, f"{key}.{name}: 1 process against 2 differ by {rel:.2e} (relative)")
        for key in ("losses", "variances"):
            rel = ((a[key] - b[key]).abs() / a[key].abs()).max().item()
            self.assertLess(rel, losses, f"{key}: 1 process against 2 differ by {rel:.2e} (relative)")

    def test_learned_schedule_continuous_time(self):
        """Agree to 1e-5 after one step (gradients), measured 1.9e-3 after 10 (Adam's ±lr steps turn the float32
        noise of the interior's small gradients into parameter differences); with each rank's own mean of d² in
        the interior's scale instead of the global batch's, they differ by 0.27 after 10 steps. Then vdm resumes
        RUN2 and evaluates it (bits/dim do not depend on the sampler: 2 sampling steps keep it quick)."""
        source, _, a, b = self.one_and_two("learned", 15, "--schedule", "learned")
        self.assertEqual(list(a["params"])[-7:], ["schedule.gammaMin", "schedule.gammaMax", "schedule.interior.w1", "schedule.interior.b1",
                                                  "schedule.interior.w2", "schedule.interior.b2", "schedule.interior.w3"])
        self.assertSameRun(a, b, 1e-2, 1e-3)
        two = self.path("learned-two")
        self.assertEqual(tensor_names(os.path.join(two, "state.safetensors")), tensor_names(os.path.join(source, "state.safetensors")))
        vdm("train", "--out", two, "--resume", "--steps", "18", "--no-report")
        self.assertEqual(load_run(two)["step"], 18)
        metrics = json.loads(vdm("eval", "--model", two, "--n", "200", "--json", "--sample-steps", "2").stdout)
        self.assertTrue(math.isfinite(metrics["bpd"]), metrics)

    def test_conditional_discrete_time(self):
        """A 10-step chain (independent uniforms), labels with classifier-free dropout: measured 7e-7."""
        _, _, a, b = self.one_and_two("chain", 20, "--timesteps", "10", "--conditional")
        self.assertEqual(a["config"]["timesteps"], 10)
        self.assertSameRun(a, b, 1e-5, 1e-5)


if __name__ == "__main__":
    unittest.main()
