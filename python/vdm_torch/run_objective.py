"""What a run's training step minimises, by its config (the twin of runObjective in
src/train/objectives/index.ts): the VDM objective with a learned schedule, else the denoising loss of the
run's weighting on its fixed schedule, in continuous time or on its T-step chain."""
import torch

from .learned import LearnedObjective, is_learned
from .objectives import training_loss
from .schedule import gamma_table, get_schedule


class DenoisingObjective:
    """`objective(model, x0, eps, u, labels)` → the per-example loss [B] of `weighting` ("simple" or "elbo") on a
    fixed schedule, T = 0 (continuous) or T > 0 (levels from the chain's γ table, cast to float32 as vdm's);
    `estimates` after a call holds the losses (vdm logs their batch variance)."""

    def __init__(self, schedule, T, weighting):
        self.schedule, self.weighting = schedule, weighting
        self.table = gamma_table(schedule, T).float() if T > 0 else None
        self.estimates = None

    def __call__(self, model, x0, eps, u, labels=None):
        losses = training_loss(model, self.schedule, self.weighting, x0, eps, u, labels, self.table)
        self.estimates = losses.detach()
        return losses


def objective_for(config, batch_mean=torch.mean):
    """The run's objective: a callable (model, x0, eps, u, labels=None) → per-example losses [B] whose
    `.mean().backward()` gives vdm's gradients. `model` is the network twin (Mlp, UNet), or with a learned
    schedule a LearnedDenoiser (network + schedule), possibly inside DDP. u: stratified uniforms in continuous
    time, independent ones in discrete time (as vdm draws them). `batch_mean` (learned schedules, continuous
    time) is the whole batch's mean: under DDP, the mean over every rank's examples."""
    if config.get("task") == "classifier":
        raise ValueError("a classifier run's objective (cross-entropy on noisy data) has no PyTorch twin")
    T = config.get("timesteps", 0)
    if is_learned(config["schedule"]):
        return LearnedObjective(T, config["data"].get("decoder") or "gaussian", batch_mean)
    return DenoisingObjective(get_schedule(config["schedule"]), T, config["loss"])
