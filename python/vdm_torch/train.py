"""Training a vdm run in PyTorch, on one process or many (torchrun; DistributedDataParallel, gloo on CPU,
nccl on CUDA), from and to vdm's run directories (src/cli/commands/train.ts is vdm's own trainer).

    torchrun --standalone --nproc_per_node N DIR/train.py --out RUN2 --steps S [--batch B] [--device cpu|cuda]
    python DIR/train.py --out RUN2 --steps S          python -m vdm_torch.train --from RUN --out RUN2 ...

DIR (an export of `vdm export --format pytorch`) holds the launcher train.py, vdm_torch/, the run (config.json,
state.safetensors: the default of --from) and data/ (the default of --data-dir; see data.py). Step k draws its
global batch from a generator seeded by (seed, k) on every rank: row indices, ε, the level uniforms (stratified,
u_b = (u + b/B) mod 1, in continuous time; independent on a T-step chain) and the labels' classifier-free
dropout, as vdm's trainer draws them (src/train/step.ts, levelUniforms in src/diffusion/process.ts; not the
same numbers: PyTorch's generator is not vdm's); rank r trains on rows [rB/W, (r+1)B/W), and DDP's mean of
the ranks' gradients is the gradient of the global batch mean, so W ranks at B/W each equal one rank at B.
The loss is the run's objective (run_objective.objective_for: fixed or learned schedule, continuous or
discrete time); a learned schedule's interior in continuous time is scaled by the mean of d² over the global
batch (an all_reduce). Rank 0 loads the starting checkpoint and hands it to the others, and writes RUN2's
checkpoints.
"""
import argparse
import json
import os
import sys
import time
import warnings

import torch
import torch.distributed as dist

from .build import build_run_model, check_trainable
from .checkpoint import load_run
from .data import classes_of, fourier_frequencies, training_data
from .job import Guard, Interrupted, Stop, broadcast, everywhere, first_line, join
from .models import vdm_named_parameters
from .optim import adam_update, ema_update, step_scalars
from .run_objective import objective_for

PROG = "vdm_torch.train"


class Parser(argparse.ArgumentParser):
    def error(self, message):
        raise Stop(message, 2)


def parse(argv, home):
    ap = Parser(prog=PROG, description="Train a vdm run with PyTorch (torchrun for several processes); writes a vdm run.")
    ap.add_argument("--out", required=True, metavar="RUN2", help="the run directory written (RUN2); never overwritten without --resume")
    ap.add_argument("--from", dest="source", metavar="RUN", default=home, help=f"the run to start from (default: {home})")
    ap.add_argument("--resume", action="store_true", help="continue the checkpoint already in --out")
    ap.add_argument("--scratch", action="store_true", help="fresh parameters (the twin's init), zero moments, step 0, the same config")
    ap.add_argument("--steps", type=int, metavar="S", help="the run's step count at the end, as vdm train --steps (default: config.json's steps)")
    ap.add_argument("--data-dir", metavar="D", default=os.path.join(home, "data"),
                    help="x.npy [+ labels.npy, fourier.npy] or IDX files (default: %(default)s)")
    ap.add_argument("--batch", type=int, metavar="B", help="the global batch, split over the processes (default: config.json's batch)")
    ap.add_argument("--device", choices=("cpu", "cuda"), default="cuda" if torch.cuda.is_available() else "cpu",
                    help="cuda (nccl; LOCAL_RANK picks the GPU) or cpu (gloo); default: cuda when PyTorch sees one")
    ap.add_argument("--bf16", action="store_true", help="bfloat16 autocast around the forward pass")
    ap.add_argument("--checkpoint-every", type=int, metavar="K", help="steps between checkpoints (default: config.json's checkpointEvery)")
    ap.add_argument("--seed", type=int, help="seeds the per-step draws and --scratch's init (default: config.json's seed)")
    ap.add_argument("--math", choices=("torch", "jax-wasm"), default="torch",
                    help="the embeddings' exp/sin/cos: PyTorch's (correctly rounded) or jax-js's wasm kernels (what vdm's default backend computes)")
    args = ap.parse_args(argv)
    if args.resume and args.scratch:
        raise Stop("--resume continues the checkpoint in --out and --scratch starts afresh: give one of them", 2)
    for flag in ("steps", "batch", "checkpoint_every"):
        if getattr(args, flag) is not None and getattr(args, flag) < 1:
            raise Stop(f"--{flag.replace('_', '-')} must be a positive integer, got {getattr(args, flag)}", 2)
    return args


def starting_point(args):
    """Rank 0's start: {config, params, m, v, ema, step, rng, losses, variances} (or {config, scratch} for --scratch)."""
    held = [n for n in ("config.json", "state.safetensors") if os.path.exists(os.path.join(args.out, n))]
    if args.resume and "state.safetensors" not in held:
        raise Stop(f"--resume: {args.out} holds no checkpoint to continue (no state.safetensors)", 2)
    if not args.resume and held:
        raise Stop(f"{args.out} already holds a checkpoint ({', '.join(held)}); --resume continues it, or choose another --out", 2)
    source = args.out if args.resume else args.source
    config_path = os.path.join(source, "config.json")
    if not os.path.exists(config_path):
        raise Stop(f"{source} holds no run (no config.json): --from names a run directory")
    with open(config_path, encoding="utf-8") as f:
        config = json.load(f)
    check_trainable(config)
    if args.scratch:
        return {"config": config, "scratch": True}
    if not os.path.exists(os.path.join(source, "state.safetensors")):
        raise Stop(f"{source} holds no state.safetensors to start from (--scratch starts from fresh parameters)")
    try:
        return load_run(source)
    except ValueError as e:  # exported weights (vdm-weights-1)
        raise Stop(f"{e}; --scratch trains the same config from fresh parameters") from None


def global_batch(config, k, seed, data, labels):
    """(x0, ε, u, labels) of step k, the same on every rank."""
    g = torch.Generator().manual_seed(seed * 1_000_003 + k)
    B = config["batch"]
    idx = torch.randint(data.shape[0], (B,), generator=g)
    x0 = data[idx]
    eps = torch.randn(x0.shape, generator=g)
    if config.get("timesteps", 0) > 0:
        u = torch.rand(B, generator=g)
    else:
        u = (torch.rand(1, generator=g) + torch.arange(B, dtype=torch.float32) / B) % 1
    y = None
    if labels is not None:
        y = labels[idx].clone()
        p = config.get("cfgDropout") or 0
        if p > 0:  # classifier-free guidance: a label dropped to "no label" (index = classes)
            y[torch.rand(B, generator=g) < p] = classes_of(config)
    return x0, eps, u, y


class Bfloat16:
    """The network under bfloat16 autocast, its prediction returned in float32: the weights, the optimiser and
    the loss around it stay float32. `module` is the twin (as DDP's): the objectives read its `target` and, for a
    learned schedule, its `schedule` (evaluated outside the autocast)."""

    def __init__(self, model, module, device_type):
        self.model, self.module, self.device_type = model, module, device_type

    def __call__(self, *inputs):
        with torch.autocast(device_type=self.device_type, dtype=torch.bfloat16):
            return self.model(*inputs).float()


def fresh_state(net, config, seed):
    """--scratch: the twin's init (seeded, so every rank draws the same), EMA = parameters, zero moments, step 0,
    vdm's random.key(seed) as the checkpoint's rng."""
    named = vdm_named_parameters(net)
    params = {n: p.detach().clone() for n, p in named}
    zeros = {n: torch.zeros_like(p) for n, p in params.items()}
    empty = torch.zeros(0)
    return {"config": config, "params": params, "ema": {n: p.clone() for n, p in params.items()}, "m": zeros,
            "v": {n: z.clone() for n, z in zeros.items()}, "step": 0, "rng": torch.tensor([0, seed]), "losses": empty, "variances": empty}


def duration(seconds):
    s = int(round(seconds))
    return f"{s // 3600}h{s // 60 % 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"


def global_mean(world):
    """v ↦ the mean of v over every rank's examples (equal shares: the mean of the ranks' means)."""
    if world == 1:
        return torch.mean

    def mean(v):
        m = v.mean()
        dist.all_reduce(m)
        return m / world

    return mean


def gathered(v, world):
    """[W·b]: every rank's v [b], in rank order."""
    if world == 1:
        return v
    parts = [torch.empty_like(v) for _ in range(world)]
    dist.all_gather(parts, v)
    return torch.cat(parts)


def train(args):
    world, rank, device = join(args.device)
    start = broadcast(world, everywhere(world, rank, lambda: starting_point(args) if rank == 0 else None))
    config = dict(start["config"])

    def settings():
        B = args.batch or config["batch"]
        if B % world:
            raise Stop(f"the batch {B} does not split over {world} processes (--batch a multiple of {world})", 2)
        step = 0 if args.scratch else start["step"]
        steps = args.steps or config["steps"]
        if steps <= step:
            raise Stop(f"nothing left to train: the run has done {step} steps (--steps N above {step} trains further)", 2)
        data, labels = training_data(config, args.data_dir)
        return B, steps, data, labels, fourier_frequencies(config, args.data_dir)

    B, steps, data, labels, frequencies = everywhere(world, rank, settings)
    config.update(batch=B, steps=steps, checkpointEvery=args.checkpoint_every or config["checkpointEvery"])
    seed = config["seed"] if args.seed is None else args.seed
    torch.manual_seed(seed)
    net = build_run_model(config, frequencies, args.math)
    run = fresh_state(net, config, seed) if args.scratch else {**start, "config": config}
    net.load_state_dict(run["params"])
    net.to(device)
    named = vdm_named_parameters(net)
    m, v, ema = ({n: run[key][n].to(device) for n, _ in named} for key in ("m", "v", "ema"))
    # the U-Net keeps vdm's [3, 3, cin, cout] kernels and permutes them for conv2d, so their gradients' strides
    # are not those of DDP's buckets: DDP copies them, and warns that it does (once per process)
    warnings.filterwarnings("ignore", message="Grad strides do not match bucket view strides")
    model = torch.nn.parallel.DistributedDataParallel(net) if world > 1 else net
    network = Bfloat16(model, net, device.type) if args.bf16 else model
    objective = objective_for(config, batch_mean=global_mean(world))
    losses, variances = run["losses"].tolist(), run["variances"].tolist()
    first, lo, hi = run["step"], rank * B // world, (rank + 1) * B // world
    guard = Guard(saved=first if args.resume else None) if rank == 0 else None
    done, began, shown = first, time.time(), 0.0
    try:
        for k in range(first, steps):
            x0, eps, u, y = (None if t is None else t[lo:hi].to(device) for t in global_batch(config, k, seed, data, labels))
            per = objective(network, x0, eps, u, y)
            net.zero_grad(set_to_none=True)
            per.mean().backward()
            scalars = step_scalars(config["adam"], k)
            new, m, v = adam_update({n: p.detach() for n, p in named}, {n: p.grad for n, p in named}, m, v, config["adam"], scalars)
            with torch.no_grad():
                for n, p in named:
                    p.copy_(new[n])
            ema = ema_update(ema, {n: p.detach() for n, p in named}, scalars["emaDecay"])
            every, estimates = gathered(torch.stack([per.detach(), objective.estimates]), world).reshape(world, 2, -1).unbind(1)
            losses.append(every.mean().item())
            variances.append(estimates.var().item() if estimates.numel() > 1 else 0.0)
            done = k + 1
            if rank != 0:
                continue
            now = time.time()
            if now - shown >= 1 or done == steps:
                shown, rate = now, (done - first) / max(now - began, 1e-9)
                # one write: a signal between a line and its newline would glue the stop message to it
                sys.stderr.write(f"train {done}/{steps} loss {losses[-1]:.4g} {rate:.1f} steps/s ETA {duration((steps - done) / rate)}\n")
                sys.stderr.flush()
            if done % config["checkpointEvery"] == 0 or done == steps:
                cpu = lambda d: {n: t.detach().cpu() for n, t in d.items()}  # noqa: E731
                guard.save(args.out, {**run, "params": cpu(dict(named)), "ema": cpu(ema), "m": cpu(m), "v": cpu(v), "step": done,
                                      "losses": torch.tensor(losses), "variances": torch.tensor(variances)})
    except (Interrupted, RuntimeError) as e:
        if isinstance(e, RuntimeError) and world == 1:
            raise
        if guard:
            guard.stopping = True
        cause = first_line(e)
        if rank != 0:
            raise Stop(f"rank {rank} stopped at step {done} (another rank failed or the job was interrupted: {cause})", quiet=False) from None
        saved = guard.saved
        kept = f"the last checkpoint in {args.out} is step {saved} and intact" if saved is not None else f"{args.out} holds no checkpoint yet"
        raise Stop(f"stopped at step {done} (another rank failed or the job was interrupted: {cause}); {kept}") from None
    if guard:
        guard.release()
    seconds = time.time() - began
    if world > 1:
        dist.barrier()
        del model, network  # DDP's reducer holds the process group: let it go before the group does
        dist.destroy_process_group()
    if rank == 0:
        summary = {"steps": done - first, "step": done, "seconds": round(seconds, 3), "steps_per_second": round((done - first) / max(seconds, 1e-9), 3),
                   "world_size": world, "device": device.type, "batch": B, "bf16": args.bf16, "loss": losses[-1], "out": os.path.abspath(args.out)}
        print(json.dumps(summary), flush=True)
    return world


def main(argv=None, default_from=None):
    """The command line. `default_from` is the directory of the launcher train.py (an export's DIR): the default
    --from, and DIR/data the default --data-dir (default: the directory above the vdm_torch package)."""
    home = default_from or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        world = train(parse(argv, home))
    except Stop as e:
        if not e.quiet:
            print(f"{PROG}: {e}", file=sys.stderr, flush=True)
        sys.exit(e.code)
    if world > 1:
        # the run is written and the group closed; a gloo thread can still abort the interpreter's own exit
        # ("terminate called without an active exception", seen in 2 of 45 two-process runs), which torchrun
        # would report as a failed job: end the process here instead
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


if __name__ == "__main__":
    main()
