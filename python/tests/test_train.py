"""vdm_torch.train (python/train.py): 20 steps on 2 processes (torchrun, gloo) equal 20 steps on one with the
same global batch and vdm resumes the run; bf16 autocast on the CPU; --scratch; the command line's errors."""
import contextlib
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import unittest
from unittest import mock

import torch

from helpers import LAUNCHER, MoonsRunCase, copy_run, quiet_env, trainer, vdm
from vdm_torch import load_run, read_safetensors, save_run, write_safetensors
from vdm_torch.job import Guard, Interrupted
from vdm_torch.train import main


class Train(MoonsRunCase):
    def path(self, name):
        return os.path.join(self.inputs, name)

    def test_two_processes_equal_one_and_vdm_resumes(self):
        one, two = self.path("one"), self.path("two")
        args = ["--from", self.source, "--data-dir", self.data, "--steps", "25", "--checkpoint-every", "10"]
        trainer(*args, "--out", one)
        r = trainer(*args, "--out", two, procs=2)
        summary = json.loads(r.stdout.strip().splitlines()[-1])
        self.assertEqual((summary["steps"], summary["step"], summary["world_size"], summary["batch"]), (20, 25, 2, 64))
        self.assertIn("train 25/25", r.stderr)
        a, b = load_run(one), load_run(two)
        self.assertEqual((a["step"], b["step"]), (25, 25))
        for key in ("params", "ema", "m", "v"):
            for name, t in a[key].items():
                rel = (t - b[key][name]).abs().max().item() / max(t.abs().max().item(), 1e-30)
                self.assertLess(rel, 1e-5, f"{key}.{name}: 1 process against 2 differ by {rel:.2e} (relative)")
        self.assertLess((a["losses"] - b["losses"]).abs().max().item(), 1e-4)
        vdm("train", "--out", two, "--resume", "--steps", "30", "--no-report")
        self.assertEqual(load_run(two)["step"], 30)

    def test_bf16_on_the_cpu(self):
        """bfloat16 rounds matmul inputs to 8 significant bits (relative 2⁻⁹ ≈ 0.2 %), so the network's outputs move
        by about 1 %; a batch mean of 64 losses moves less. 10 steps: the losses stay within 2 % of float32's
        (measured 0.07 %), the parameters within 5 % of their largest entry (measured 0.7 %: Adam's steps are
        ±lr where gradients are small, whatever their rounding)."""
        args = ["--from", self.source, "--data-dir", self.data, "--steps", "15"]
        trainer(*args, "--out", self.path("fp32"))
        trainer(*args, "--out", self.path("bf16"), "--bf16")
        a, b = load_run(self.path("fp32")), load_run(self.path("bf16"))
        self.assertTrue(torch.isfinite(b["losses"]).all())
        rel = ((a["losses"][5:] - b["losses"][5:]).abs() / a["losses"][5:].abs()).max().item()
        self.assertLess(rel, 0.02, f"bf16 losses differ from float32's by {rel:.2e} (relative)")
        for name, t in a["params"].items():
            p = (t - b["params"][name]).abs().max().item() / t.abs().max().item()
            self.assertLess(p, 0.05, f"{name}: bf16 against float32 {p:.2e} (relative)")

    def test_scratch_and_resume(self):
        """--scratch: step 0, the same config; --resume continues RUN2; vdm resumes it after."""
        out = self.path("scratch")
        trainer("--from", self.source, "--data-dir", self.data, "--out", out, "--scratch", "--steps", "4", "--batch", "32")
        run = load_run(out)
        self.assertEqual((run["step"], len(run["losses"]), run["config"]["batch"], run["config"]["steps"]), (4, 4, 32, 4))
        self.assertEqual(run["rng"].tolist(), [0, run["config"]["seed"]])
        trainer("--data-dir", self.data, "--out", out, "--resume", "--steps", "6")
        self.assertEqual(load_run(out)["step"], 6)
        vdm("train", "--out", out, "--resume", "--steps", "8", "--no-report")
        self.assertEqual(len(load_run(out)["losses"]), 8)

    def test_a_signal_inside_a_checkpoint_write_waits_for_it(self):
        """SIGTERM while save_run writes: the checkpoint is finished, then the job stops (job.Guard)."""
        out, run = self.path("guarded"), load_run(self.source)

        def save_signalled(*args):
            os.kill(os.getpid(), signal.SIGTERM)
            save_run(*args)

        handlers = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
        guard = Guard()
        try:
            with mock.patch("vdm_torch.job.save_run", save_signalled), self.assertRaises(Interrupted) as stop:
                guard.save(out, {**run, "step": 9})
        finally:
            guard.release()
        self.assertEqual({s: signal.getsignal(s) for s in handlers}, handlers)
        self.assertEqual(str(stop.exception), "SIGTERM")
        self.assertEqual((load_run(out)["step"], guard.saved), (9, 9))
        self.assertEqual(sorted(os.listdir(out)), ["config.json", "state.safetensors"])
        config = os.path.join(out, "config.json")
        inode = os.stat(config).st_ino
        save_run(out, {**run, "step": 10})
        self.assertEqual(os.stat(config).st_ino, inode, "config.json is rewritten only when it changes")
        save_run(out, {**run, "config": {**run["config"], "steps": 10}, "step": 10})
        self.assertNotEqual(os.stat(config).st_ino, inode)

    def test_sigterm_between_steps(self):
        out = self.path("stopped")
        p = subprocess.Popen([sys.executable, LAUNCHER, "--from", self.source, "--data-dir", self.data, "--out", out, "--steps", "100000",
                              "--checkpoint-every", "3"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=quiet_env())
        try:
            deadline = time.time() + 60
            while not os.path.exists(os.path.join(out, "state.safetensors")) and time.time() < deadline:
                time.sleep(0.05)
            p.send_signal(signal.SIGTERM)
            _, stderr = p.communicate(timeout=60)
        finally:
            if p.poll() is None:
                p.kill()
        self.assertEqual(p.returncode, 1)
        step = load_run(out)["step"]
        self.assertEqual(step % 3, 0)
        last = stderr.strip().splitlines()[-1]
        self.assertRegex(last, rf"^vdm_torch\.train: stopped at step \d+ \(another rank failed or the job was interrupted: SIGTERM\); "
                               rf"the last checkpoint in {re.escape(out)} is step {step} and intact$")

    def assertFails(self, args, message, code=1, procs=0):
        """The trainer refuses `args` with one line naming `message` and exit status `code`: in this process
        (procs = 0: main() raises SystemExit), else as 1 process or under torchrun (only the status is torchrun's)."""
        if procs:
            r = trainer(*args, check=False, procs=procs)
            status, stderr = r.returncode, r.stderr
        else:
            err = io.StringIO()
            with contextlib.redirect_stderr(err), self.assertRaises(SystemExit) as exit_:
                main(list(args), default_from=self.inputs)
            status, stderr = exit_.exception.code, err.getvalue()
        self.assertEqual(status, code if procs < 2 else 1, stderr)
        ours = [line for line in stderr.splitlines() if line.startswith("vdm_torch.train: ")]
        self.assertEqual(len(ours), 1, stderr)
        if procs < 2:
            self.assertEqual(stderr.strip(), ours[0], "one line, no traceback")
        self.assertIn(message, ours[0])
        return ours[0]

    def test_errors(self):
        common = ["--data-dir", self.data, "--steps", "7"]
        state = os.path.join(self.source, "state.safetensors")
        with open(state, "rb") as f:
            before = f.read()
        line = self.assertFails(["--from", self.source, "--out", self.source, *common], "already holds a checkpoint", 2, procs=1)
        self.assertIn("--resume continues it", line)
        with open(state, "rb") as f:
            self.assertEqual(f.read(), before, "the checkpoint in --out was touched")
        self.assertFails(["--out", self.path("none"), "--resume", *common], "holds no checkpoint to continue", 2)
        self.assertFails(["--from", self.source, "--out", self.path("x"), "--scratch", "--resume", *common], "give one of them", 2)
        text = copy_run(self.source, self.path("text"))
        with open(os.path.join(text, "config.json")) as f:
            config = json.load(f)
        config["data"]["spec"], config["model"] = "text:restaurants", {"kind": "text", "text": {}}
        with open(os.path.join(text, "config.json"), "w") as f:
            json.dump(config, f)
        self.assertFails(["--from", text, "--out", self.path("x"), *common], 'data.spec "text:restaurants", model.kind "text": text runs')
        classifier = copy_run(self.source, self.path("classifier"), task="classifier")
        self.assertFails(["--from", classifier, "--out", self.path("x"), *common], 'task "classifier"')
        distilled = copy_run(self.source, self.path("distilled"), distill={"teacher": self.source, "steps": 4, "sampler": "ddim", "spacing": "trailing"})
        self.assertFails(["--from", distilled, "--out", self.path("x"), *common], "distill: a distilled run (vdm distill) trains against its teacher")
        weights = copy_run(self.source, self.path("weights"))
        tensors, _ = read_safetensors(state)
        write_safetensors(os.path.join(weights, "state.safetensors"), {k: t for k, t in tensors.items() if k.startswith("ema.")},
                          {"format": "vdm-weights-1"})
        self.assertFails(["--from", weights, "--out", self.path("x"), *common], "it samples, but cannot be resumed; --scratch")
        self.assertFails(["--from", self.source, "--out", self.path("x"), "--data-dir", self.inputs, "--steps", "7"], "holds neither x.npy")
        rows_only = self.path("rows-only")
        os.makedirs(rows_only)
        shutil.copy(os.path.join(self.data, "x.npy"), rows_only)
        with open(os.path.join(self.source, "config.json")) as f:
            model = json.load(f)["model"]
        conditional = copy_run(self.source, self.path("conditional"), model={**model, "mlp": {**model["mlp"], "classes": 2}})
        self.assertFails(["--from", conditional, "--out", self.path("x"), "--data-dir", rows_only, "--steps", "7"], "holds no labels (labels.npy)")
        fourier = copy_run(self.source, self.path("fourier"), model={**model, "mlp": {**model["mlp"], "fourierFeatures": 8}})
        self.assertFails(["--from", fourier, "--out", self.path("x"), *common], "fourier.npy (written by vdm export --format pytorch) is missing")
        self.assertFails(["--from", self.source, "--out", self.path("x"), *common, "--steps", "5"], "nothing left to train: the run has done 5 steps", 2)
        if not torch.cuda.is_available():
            self.assertFails(["--from", self.source, "--out", self.path("x"), *common, "--device", "cuda"], "PyTorch sees no CUDA device", 2)
        self.assertFails(["--from", self.source, "--out", self.path("x"), *common, "--batch", "63"], "the batch 63 does not split over 2", procs=2)
        self.assertFalse(os.path.exists(self.path("x")))


if __name__ == "__main__":
    unittest.main()
