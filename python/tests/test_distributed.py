"""The trainer under torchrun when things go wrong or span machines: a killed rank ends the job with a clear
error and RUN2's last checkpoint intact (vdm resumes it); a simulated two-node launch (two torchrun agents
meeting at a c10d rendezvous on 127.0.0.1) trains as world size 2 and writes one checkpoint."""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from helpers import LAUNCHER, TORCHRUN, MoonsRunCase, free_port, quiet_env, vdm
from vdm_torch import load_run


def children(pid):
    """The pids whose parent is `pid` (field 4 of /proc/PID/stat, after the parenthesised command name)."""
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    return out


def environ(pid):
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            return dict(kv.split("=", 1) for kv in f.read().decode(errors="replace").split("\0") if "=" in kv)
    except OSError:
        return {}


def wait_for(condition, timeout, what):
    deadline = time.time() + timeout
    while not condition():
        if time.time() > deadline:
            raise AssertionError(f"no {what} after {timeout} s")
        time.sleep(0.05)


class Distributed(MoonsRunCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="vdm-torch-dist-")
        self.logs = []

    def tearDown(self):
        for f in self.logs:
            f.close()
        shutil.rmtree(self.tmp)

    def launch(self, launcher_args, *args):
        out, err = (open(os.path.join(self.tmp, f"{len(self.logs) // 2}.{n}"), "w+") for n in ("out", "err"))
        self.logs += [out, err]
        p = subprocess.Popen([*TORCHRUN, *launcher_args, LAUNCHER, "--from", self.source, "--data-dir", self.data, *args],
                             stdout=out, stderr=err, env=quiet_env())
        return p, out, err

    def test_a_killed_rank_ends_the_job_and_the_checkpoint_survives(self):
        run2 = os.path.join(self.tmp, "run2")
        p, _, err = self.launch(["--standalone", "--nproc_per_node", "2"], "--out", run2, "--steps", "100000", "--checkpoint-every", "5")
        try:
            wait_for(lambda: os.path.exists(os.path.join(run2, "state.safetensors")), 60, "checkpoint in RUN2")
            ranks = {environ(c).get("RANK"): c for c in children(p.pid)}
            self.assertIn("1", ranks, f"torchrun's workers: {ranks}")
            os.kill(ranks["1"], signal.SIGKILL)
            self.assertNotEqual(p.wait(timeout=60), 0)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        err.seek(0)
        stderr = err.read()
        ours = re.search(r"vdm_torch\.train: stopped at step (\d+) \(another rank failed or the job was interrupted.*\); "
                         r"the last checkpoint in (.*) is step (\d+) and intact", stderr)
        self.assertTrue(ours or "SIGKILL" in stderr, f"no clear error:\n{stderr[-3000:]}")
        step = load_run(run2)["step"]
        self.assertEqual(step % 5, 0)
        if ours:
            self.assertEqual((ours.group(2), int(ours.group(3))), (run2, step))
        vdm("train", "--out", run2, "--resume", "--steps", str(step + 5), "--no-report")
        self.assertEqual(load_run(run2)["step"], step + 5)

    def test_two_nodes_at_one_rendezvous(self):
        run2 = os.path.join(self.tmp, "run2")
        # the underscore spellings, which every torchrun accepts (the dashed ones came later)
        rdzv = ["--nnodes", "2", "--nproc_per_node", "1", "--rdzv_backend", "c10d", "--rdzv_endpoint", f"127.0.0.1:{free_port()}",
                "--rdzv_id", f"vdm-test-{os.getpid()}"]
        nodes = [self.launch(rdzv, "--out", run2, "--steps", "10") for _ in range(2)]
        try:
            codes = [p.wait(timeout=120) for p, _, _ in nodes]
        finally:
            for p, _, _ in nodes:
                if p.poll() is None:
                    p.kill()
                    p.wait()
        logs = []
        for _, out, err in nodes:
            out.seek(0)
            err.seek(0)
            logs.append((out.read(), err.read()))
        self.assertEqual(codes, [0, 0], logs)
        summaries = [json.loads(o.strip().splitlines()[-1]) for o, _ in logs if o.strip()]
        self.assertEqual(len(summaries), 1, "rank 0 alone prints the summary")
        self.assertEqual((summaries[0]["world_size"], summaries[0]["step"]), (2, 10))
        dirs = sorted(d for d in os.listdir(self.tmp) if os.path.isdir(os.path.join(self.tmp, d)))
        self.assertEqual(dirs, ["run2"], "one checkpoint directory written")
        self.assertEqual(sorted(os.listdir(run2)), ["config.json", "state.safetensors"])
        self.assertEqual(load_run(run2)["step"], 10)


if __name__ == "__main__":
    unittest.main()
