"""Parity of the PyTorch twins with vdm: the same checkpoint, inputs and noise give the same
predictions and per-example losses to a relative 1e-5 (largest difference / largest reference value).

Each case trains a small run with the built CLI (node bin/vdm.js train), lets vdm itself compute the
reference values (python/tests/dump.mjs), then recomputes them with vdm_torch. The U-Net cases first
overwrite the run's weights with random ones (through vdm_torch's writer): after a few steps its
zero-initialised last convolutions would leave most of the network out of the comparison.
Run from the repository root after `npm run build`:  PYTHON -m unittest discover -s python/tests -v
(PARITY_CASE=name runs that case alone.)
"""
import copy
import json
import math
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

from vdm_torch import (  # noqa: E402
    LearnedDenoiser, Mlp, UNet, adam_update, ema_update, gamma_table, get_schedule, is_learned, levels, objective_for, q_sample,
    read_safetensors, step_scalars, subtree, training_loss, vdm_named_parameters, write_safetensors,
)

RTOL = 1e-5
#: the twin's float32 gradient against the float64 twin's (see the report)
GRAD_RTOL = 1e-4
#: vdm's float32 gradient against the float64 twin's, and so against the twin's: vdm's own rounding, measured
#: up to 1.4e-4 on a U-Net leaf whose gradient is small (up.0.block.time.w, unet-conditional), where the
#: twin's is 7e-5; a different function would differ by orders of magnitude more
VDM_GRAD_RTOL = 5e-4
#: a learned schedule's γ(t) sums its monotone network's 1024 hidden units (values ≈ 350) and normalises
#: (γ̃(t) − γ̃(0))/(γ̃(1) − γ̃(0)): vdm's own float32 γ is 3.7e-5 from float64's (the twin's 1.5e-5), which
#: moves losses by up to 1.4e-4 (relative; a discrete chain's reconstruction term at γ_1 ≈ −12.5 weighs
#: (x_0 − x̂_0)² by e^{12.5}) and the gradients, whose schedule part sums ∂L/∂γ_b · ∂γ_b/∂η over the batch,
#: by up to 5e-3 (vdm against the float64 twin; the twin's float32: 5e-5 and 1e-3)
LEARNED_RTOL = 5e-4
LEARNED_GRAD_RTOL = 1e-2

#: name → extra `vdm train` flags (all on moons, 20 steps, batch 64)
MLP_CASES = {
    "default": [],  # log-snr-linear, eps, continuous ELBO
    "cosine-v-fourier-conditional": ["--schedule", "cosine", "--target", "v", "--fourier-features", "8", "--conditional"],
    "ncsn": ["--net", "ncsn"],  # VE input scaling, geometric ladder, simple loss
    "linear-x0": ["--schedule", "linear", "--target", "x0", "--loss", "simple"],
    "sqrt-score": ["--schedule", "sqrt", "--target", "score", "--loss", "simple"],
    # discrete time: levels from the chain's γ table (linear: DDPM's own β_i; cosine: β_i from γ, clipped)
    "discrete-linear-elbo": ["--schedule", "linear", "--timesteps", "50", "--conditional"],
    "discrete-cosine-simple": ["--schedule", "cosine", "--timesteps", "20", "--loss", "simple", "--target", "v"],
    # learned schedules: the VDM objective (continuous "learned": the interior follows the variance)
    "learned": ["--schedule", "learned"],
    "learned-linear-conditional": ["--schedule", "learned-linear", "--conditional", "--target", "v"],
    "learned-discrete": ["--schedule", "learned", "--timesteps", "30"],
}
#: name → extra `vdm train` flags (fashion-mnist, 2 steps, batch 4, base 8)
UNET_CASES = {
    "unet-conditional": ["--multipliers", "1,2", "--attention", "1", "--conditional"],
    "unet-3-levels-v": ["--multipliers", "1,2,2", "--attention", "0,2", "--target", "v", "--schedule", "cosine"],
    "unet-discrete-elbo": ["--multipliers", "1,2", "--attention", "1", "--timesteps", "30", "--loss", "elbo", "--conditional"],
    "unet-learned": ["--multipliers", "1,2", "--attention", "1", "--schedule", "learned"],  # the discretised decoder
}


def npy(d, name):
    return torch.from_numpy(np.load(os.path.join(d, f"{name}.npy")))


def scaled_diff(got, want):
    """(max |got − want|, that / max |want|)."""
    diff = (got.detach().double() - want.double()).abs().max().item()
    return diff, diff / max(want.double().abs().max().item(), 1e-30)


def randomize(path, seed):
    """Overwrite the network's params.* and ema.* of a state file with random values (norm scales around 1, the rest
    N(0, 0.3²/fan-in-ish)); a learned schedule's are kept."""
    tensors, metadata = read_safetensors(path)
    g = torch.Generator().manual_seed(seed)
    for name, t in tensors.items():
        if name.startswith(("params.", "ema.")) and ".schedule." not in name:
            noise = torch.randn(t.shape, generator=g)
            fan = t.shape[-2] * (9 if t.dim() == 4 else 1) if t.dim() >= 2 else 1
            tensors[name] = (1 + 0.2 * noise) if name.endswith(".scale") else noise * (1 / math.sqrt(fan))
    write_safetensors(path, {k: (v, "U32") if k == "rng" else v for k, v in tensors.items()}, metadata)



def denoiser(config, network):
    """The run's parameters as a twin: the network, or with a learned schedule network + schedule."""
    return LearnedDenoiser(network, config) if is_learned(config["schedule"]) else network


class Parity(unittest.TestCase):
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

    def prepare(self, name, train_flags, dump_flags=(), seed=None):
        run = os.path.join(self.tmp.name, name)
        dump = os.path.join(self.tmp.name, name + "-dump")
        cmd = ["node", "bin/vdm.js", "train", "--out", run, "--no-report", *train_flags]
        subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True)
        if seed is not None:
            randomize(os.path.join(run, "state.safetensors"), seed)
        subprocess.run(["node", "python/tests/dump.mjs", run, dump, *dump_flags], cwd=ROOT, check=True, capture_output=True)
        with open(os.path.join(run, "config.json")) as f:
            config = json.load(f)
        tensors, _ = read_safetensors(os.path.join(run, "state.safetensors"))
        return config, tensors, dump

    def check(self, case, what, got, want, rtol=RTOL):
        diff, rel = scaled_diff(got, want)
        self.report.append(f"{case:30s} {what:24s} max diff {diff:.3e}  relative {rel:.3e}")
        self.assertLess(rel, rtol, f"{case}: {what} differs by {diff:.3e} (relative {rel:.3e})")

    def compare(self, case, config, tensors, dump, make):
        nets = {}
        for prefix in ("params", "ema"):
            net = make()
            net.load_state_dict(subtree(tensors, prefix), strict=True)
            self.assertEqual([k for k, _ in vdm_named_parameters(net)], list(subtree(tensors, prefix)), "vdm's order")
            nets[prefix] = net.eval()
        learned = is_learned(config["schedule"])
        schedule = nets["params"].schedule.as_schedule() if learned else get_schedule(config["schedule"])
        T = config["timesteps"]
        table = gamma_table(schedule, T).float() if T > 0 else None
        if table is not None:
            self.check(case, "gamma table", table[1:], npy(dump, "gamma_table")[1:])
        x0, eps, u = npy(dump, "x0"), npy(dump, "eps"), npy(dump, "u")
        labels = npy(dump, "labels") if os.path.exists(os.path.join(dump, "labels.npy")) else None
        with torch.no_grad():
            if labels is not None:  # "no label" is the label index `classes`, as no labels at all
                none = torch.full_like(labels, nets["params"].classes)
                self.assertTrue(torch.equal(nets["params"](x0, u, u, None), nets["params"](x0, u, u, none)), "no label")
            for w in ("simple", "elbo"):
                t, gamma, _ = levels(schedule, u, w, table)
                self.check(case, f"t ({w})", t, npy(dump, f"t_{w}"))
                self.check(case, f"gamma ({w})", gamma, npy(dump, f"gamma_{w}"))
                self.check(case, f"x_t ({w})", q_sample(x0, gamma, eps), npy(dump, f"xt_{w}"))
                # the networks on vdm's own inputs: the forward pass alone
                ref_xt, ref_t, ref_g = npy(dump, f"xt_{w}"), npy(dump, f"t_{w}"), npy(dump, f"gamma_{w}")
                self.check(case, f"pred ({w})", nets["params"](ref_xt, ref_t, ref_g, labels), npy(dump, f"pred_{w}"))
                self.check(case, f"pred ema ({w})", nets["ema"](ref_xt, ref_t, ref_g, labels), npy(dump, f"pred_ema_{w}"))
                loss = training_loss(nets["params"], schedule, w, x0, eps, u, labels, table)
                if not learned:
                    self.check(case, f"loss ({w})", loss, npy(dump, f"loss_{w}"))
                    continue
                net64 = copy.deepcopy(nets["params"]).double()
                loss64 = training_loss(net64, net64.schedule.as_schedule(), w, x0.double(), eps.double(), u, labels, table)
                self.check(case, f"loss vdm vs f64 ({w})", npy(dump, f"loss_{w}"), loss64, LEARNED_RTOL)
                self.check(case, f"loss ({w})", loss, npy(dump, f"loss_{w}"), LEARNED_RTOL)
        self.check_step(case, config, tensors, dump, nets["params"], (x0, eps, u, labels))

    def check_leaves(self, case, what, got, want, rtol):
        """Every leaf: max |got − want| / max(max |want| over the leaf, 1e-3 · max |want| over all leaves);
        reports the worst. The floor: some gradients are 0 in exact arithmetic and rounding noise in both
        (a conv bias right before a GroupNorm with one channel per group, which removes it)."""
        worst = (0.0, 0.0, "")
        floor = 1e-3 * max(ref.abs().max().item() for ref in want.values())
        for name, ref in want.items():
            diff = (got[name].detach().double() - ref.double()).abs().max().item()
            rel = diff / max(ref.abs().max().item(), floor, 1e-30)
            if rel >= worst[1]:
                worst = (diff, rel, name)
        self.report.append(f"{case:30s} {what:24s} max diff {worst[0]:.3e}  relative {worst[1]:.3e}  (worst leaf: {worst[2]})")
        self.assertLess(worst[1], rtol, f"{case}: {what} of {worst[2]} differs by {worst[0]:.3e} (relative {worst[1]:.3e})")

    def check_step(self, case, config, tensors, dump, net, batch):
        """The gradient of the run's mean loss (objective_for) on the dumped batch, the variance vdm logs, then one
        AdamW + EMA step from the checkpoint's state."""
        x0, eps, u, labels = batch
        with open(os.path.join(dump, "meta.json")) as f:
            meta = json.load(f)["step"]
        ref, _ = read_safetensors(os.path.join(dump, "step.safetensors"))
        learned = is_learned(config["schedule"])
        rtol = LEARNED_RTOL if learned else RTOL
        # an independent reference: the twin in float64 (on the same float32 levels and embedding, or a learned
        # schedule's float64 levels); measured, vdm's float32 gradient is the further of the two from it
        net64 = copy.deepcopy(net).double()
        objective = objective_for(config)
        loss64 = objective(net64, x0.double(), eps.double(), u, labels).mean()
        loss64.backward()
        grads64 = {n: p.grad for n, p in vdm_named_parameters(net64)}
        net.zero_grad()
        loss = objective(net, x0, eps, u, labels).mean()
        self.check(case, "step loss vdm vs f64", torch.tensor(meta["loss"]), loss64, rtol)
        self.check(case, "step loss", loss, torch.tensor(meta["loss"]), rtol)
        # the variance's difference relative to the estimates' second moment (the variance of nearly equal losses
        # cancels to a few digits)
        diff = abs(torch.var(objective.estimates).item() - meta["variance"])
        rel = diff / torch.mean(torch.square(objective.estimates)).item()
        self.report.append(f"{case:30s} {'step variance':24s} max diff {diff:.3e}  relative {rel:.3e}  (to the mean square)")
        self.assertLess(rel, rtol, f"{case}: the loss variance differs by {diff:.3e} (relative {rel:.3e})")
        loss.backward()
        named = vdm_named_parameters(net)
        grads = {n: p.grad for n, p in named}
        self.check_leaves(case, "grad torch vs f64", grads, grads64, LEARNED_GRAD_RTOL if learned else GRAD_RTOL)
        self.check_leaves(case, "grad vdm vs f64", subtree(ref, "grad"), grads64, LEARNED_GRAD_RTOL if learned else VDM_GRAD_RTOL)
        self.check_leaves(case, "gradient", grads, subtree(ref, "grad"), LEARNED_GRAD_RTOL if learned else VDM_GRAD_RTOL)
        params = {n: p.detach() for n, p in named}
        scalars = step_scalars(config["adam"], meta["step"])
        for k in ("lr", "correction1", "correction2", "emaDecay"):
            self.assertAlmostEqual(scalars[k], meta[k], places=12, msg=k)
        # the optimizer on vdm's own gradient: Adam normalises each coordinate, so on a gradient that is
        # 0 in exact arithmetic (see check_leaves) it turns the two sides' rounding noise into O(lr) steps
        new, m, v = adam_update(params, subtree(ref, "grad"), subtree(tensors, "adam.m"), subtree(tensors, "adam.v"), config["adam"], scalars)
        ema = ema_update(subtree(tensors, "ema"), new, scalars["emaDecay"])
        # (the update new − old itself is quantised by the parameters' float32 spacing: one ulp of a
        # weight of 0.5 is 6e-8, 3e-5 of an update of lr = 2e-3, and the two sides differ by one ulp here and there)
        self.check_leaves(case, "params after step", new, subtree(ref, "params"), RTOL)
        self.check_leaves(case, "Adam m", m, subtree(ref, "adam.m"), RTOL)
        self.check_leaves(case, "Adam v", v, subtree(ref, "adam.v"), RTOL)
        self.check_leaves(case, "EMA", ema, subtree(ref, "ema"), RTOL)

    def test_mlp(self):
        for case, flags in MLP_CASES.items():
            if os.environ.get("PARITY_CASE") and os.environ["PARITY_CASE"] != case:
                continue
            with self.subTest(case=case):
                config, tensors, dump = self.prepare(case, ["--data", "moons", "--steps", "20", "--batch", "64", *flags])
                spec = config["model"]["mlp"]
                fourier = npy(dump, "fourier") if spec.get("fourierFeatures", 0) > 0 else None
                self.compare(case, config, tensors, dump, lambda: denoiser(config, Mlp(spec, config["target"], fourier)))

    def test_unet(self):
        for k, (case, flags) in enumerate(UNET_CASES.items()):
            if os.environ.get("PARITY_CASE") and os.environ["PARITY_CASE"] != case:
                continue
            with self.subTest(case=case):
                # the bundled 2,000 images, whether or not Debian's full set is installed
                subset = os.path.join(ROOT, "data", "fashion-mnist")
                train = ["--data", "fashion-mnist", "--data-dir", subset, "--net", "unet", "--steps", "2", "--batch", "4", "--base", "8", *flags]
                config, tensors, dump = self.prepare(case, train, ["--batch", "4"], seed=k)
                spec = config["model"]["unet"]
                self.compare(case, config, tensors, dump, lambda: denoiser(config, UNet(spec, config["target"])))


if __name__ == "__main__":
    unittest.main()
