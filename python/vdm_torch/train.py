"""Training a vdm run in PyTorch, on one process or many (torchrun; DistributedDataParallel, gloo on CPU,
nccl on CUDA), from and to vdm's run directories. A DRAFT: fixed schedules, MLP and U-Net denoisers.

    python -m vdm_torch.train --run-dir DIR --data X.npy [--labels Y.npy] --steps N [--checkpoint-every K]
    torchrun --standalone --nproc_per_node 2 -m vdm_torch.train --run-dir DIR --data X.npy --steps N

X.npy holds the training rows as the network sees them (normalised: (x − mean)/std, images in [−1, 1]).
Step k draws its global batch from a generator seeded by (seed, k) on every rank: row indices, ε, a
stratified u_b = (u + b/B) mod 1 and the labels' classifier-free dropout, as vdm's trainer draws them
(not the same numbers: PyTorch's generator is not vdm's); rank r trains on rows [rB/W, (r+1)B/W), and
DDP's mean of the ranks' gradients is the gradient of the global batch mean. Rank 0 writes checkpoints.
"""
import argparse
import os
import sys
import time

import numpy as np
import torch
import torch.distributed as dist

from .checkpoint import load_run, save_run
from .models import Mlp, vdm_named_parameters
from .objectives import training_loss
from .optim import adam_update, ema_update, step_scalars
from .schedule import get_schedule
from .unet import UNet


def build_net(config, frequencies=None):
    kind = config["model"]["kind"]
    if kind == "mlp":
        return Mlp(config["model"]["mlp"], config["target"], frequencies)
    if kind == "unet":
        return UNet(config["model"]["unet"], config["target"])
    raise SystemExit(f'vdm_torch.train: a "{kind}" run has no PyTorch twin (mlp and unet have)')


def global_batch(config, k, seed, data, labels):
    """(x0, ε, u, labels) of step k, the same on every rank."""
    g = torch.Generator().manual_seed(seed * 1_000_003 + k)
    B = config["batch"]
    idx = torch.randint(data.shape[0], (B,), generator=g)
    x0 = data[idx]
    eps = torch.randn(x0.shape, generator=g)
    u = (torch.rand(1, generator=g) + torch.arange(B, dtype=torch.float32) / B) % 1
    y = None
    if labels is not None:
        y = labels[idx].clone()
        p = config.get("cfgDropout") or 0
        if p > 0:  # classifier-free guidance: a label dropped to "no label" (index = classes)
            y[torch.rand(B, generator=g) < p] = config["model"][config["model"]["kind"]]["classes"]
    return x0, eps, u, y


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m vdm_torch.train")
    ap.add_argument("--run-dir", required=True, help="a vdm run directory (config.json + state.safetensors), resumed and written")
    ap.add_argument("--data", required=True)
    ap.add_argument("--labels")
    ap.add_argument("--fourier", help="the MLP's Fourier frequencies [dim, F] (.npy), when it has any")
    ap.add_argument("--steps", type=int, required=True, help="total steps (the run's step count at the end)")
    ap.add_argument("--checkpoint-every", type=int, default=100)
    ap.add_argument("--seed", type=int)
    args = ap.parse_args(argv)

    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    cuda = torch.cuda.is_available()
    if world > 1:
        dist.init_process_group("nccl" if cuda else "gloo")
    device = torch.device(f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}" if cuda else "cpu")

    run = load_run(args.run_dir)
    config = run["config"]
    if config.get("task") == "classifier" or config["schedule"].startswith("learned"):
        raise SystemExit("vdm_torch.train: classifier runs and learned schedules are not supported yet")
    if config.get("timesteps", 0) != 0:
        raise SystemExit("vdm_torch.train: discrete-time runs are not supported yet (timesteps must be 0)")
    B = config["batch"]
    if B % world:
        raise SystemExit(f"vdm_torch.train: the batch {B} does not split over {world} processes")
    seed = config["seed"] if args.seed is None else args.seed
    data = torch.from_numpy(np.load(args.data)).float()
    labels = torch.from_numpy(np.load(args.labels)).long() if args.labels else None
    fourier = torch.from_numpy(np.load(args.fourier)) if args.fourier else None

    net = build_net(config, fourier).to(device)
    net.load_state_dict(run["params"])
    model = torch.nn.parallel.DistributedDataParallel(net) if world > 1 else net
    schedule = get_schedule(config["schedule"])
    named = vdm_named_parameters(net)
    m = {n: run["m"][n].to(device) for n, _ in named}
    v = {n: run["v"][n].to(device) for n, _ in named}
    ema = {n: run["ema"][n].to(device) for n, _ in named}
    losses, variances = list(run["losses"].tolist()), list(run["variances"].tolist())
    lo, hi = rank * B // world, (rank + 1) * B // world
    start = time.time()

    def checkpoint(step):
        if rank != 0:
            return
        save_run(args.run_dir, {**run, "params": {n: p.detach().cpu() for n, p in named}, "ema": {n: t.cpu() for n, t in ema.items()},
                            "m": {n: t.cpu() for n, t in m.items()}, "v": {n: t.cpu() for n, t in v.items()}, "step": step,
                            "losses": torch.tensor(losses, dtype=torch.float32), "variances": torch.tensor(variances, dtype=torch.float32)})

    for k in range(run["step"], args.steps):
        x0, eps, u, y = global_batch(config, k, seed, data, labels)
        sl = slice(lo, hi)
        per = training_loss(model, schedule, config["loss"], x0[sl].to(device), eps[sl].to(device), u[sl].to(device),
                            None if y is None else y[sl].to(device))
        net.zero_grad(set_to_none=True)
        per.mean().backward()
        scalars = step_scalars(config["adam"], k)
        params = {n: p.detach() for n, p in named}
        new, m, v = adam_update(params, {n: p.grad for n, p in named}, m, v, config["adam"], scalars)
        with torch.no_grad():
            for n, p in named:
                p.copy_(new[n])
        ema = ema_update(ema, {n: p.detach() for n, p in named}, scalars["emaDecay"])
        every = per.detach()
        if world > 1:
            parts = [torch.empty_like(every) for _ in range(world)]
            dist.all_gather(parts, every)
            every = torch.cat(parts)
        losses.append(every.mean().item())
        variances.append(every.var().item() if every.numel() > 1 else 0.0)
        done = k + 1
        if rank == 0:
            rate = (done - run["step"]) / max(time.time() - start, 1e-9)
            eta = (args.steps - done) / rate
            print(f"train {done}/{args.steps} loss {losses[-1]:.4g} {rate:.1f} it/s ETA {eta:.0f}s", file=sys.stderr)
        if done % args.checkpoint_every == 0 or done == args.steps:
            checkpoint(done)
    if world > 1:
        dist.barrier()
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
