"""vdm_torch's safetensors reader and writer: a checkpoint written by vdm reads back and re-writes byte for byte."""
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "python"))

from vdm_torch import read_safetensors, write_safetensors  # noqa: E402


class Safetensors(unittest.TestCase):
    def test_round_trip_of_a_vdm_checkpoint(self):
        with tempfile.TemporaryDirectory(prefix="vdm-torch-st-") as tmp:
            run = os.path.join(tmp, "run")
            cmd = ["node", "bin/vdm.js", "train", "--data", "moons", "--steps", "3", "--batch", "16", "--out", run, "--no-report"]
            subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True)
            path = os.path.join(run, "state.safetensors")
            tensors, metadata = read_safetensors(path)
            self.assertEqual(metadata, {"step": "3", "format": "vdm-1"})
            self.assertEqual(list(tensors["rng"].shape), [2])
            copy = os.path.join(tmp, "copy.safetensors")
            write_safetensors(copy, {k: (v, "U32") if k == "rng" else v for k, v in tensors.items()}, metadata)
            with open(path, "rb") as a, open(copy, "rb") as b:
                self.assertEqual(a.read(), b.read())


if __name__ == "__main__":
    unittest.main()
