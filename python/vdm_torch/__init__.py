"""PyTorch twins of vdm's networks, schedules and objectives, reading and writing vdm's checkpoints."""
from .checkpoint import load_run, save_run
from .models import Dense, Mlp, silu, time_embedding, vdm_named_parameters
from .unet import UNet
from .optim import adam_update, ema_update, global_norm, step_scalars
from .objectives import kl_weight, levels, q_sample, steps_from_uniform, to_eps, to_x0, training_loss
from .elbo import discretized_log_likelihood, gaussian_log_likelihood, prior_kl
from .learned import LearnedDenoiser, LearnedObjective, LearnedSchedule, is_learned
from .run_objective import DenoisingObjective, objective_for
from .safetensors_io import read_safetensors, subtree, write_safetensors
from .schedule import gamma_table, get_schedule, sigmoid, softplus

__all__ = [
    "load_run", "save_run", "Dense", "Mlp", "UNet", "vdm_named_parameters", "silu", "time_embedding", "kl_weight", "levels", "q_sample",
    "steps_from_uniform", "to_eps", "to_x0", "training_loss", "discretized_log_likelihood", "gaussian_log_likelihood", "prior_kl",
    "LearnedDenoiser", "LearnedObjective", "LearnedSchedule", "is_learned", "DenoisingObjective", "objective_for",
    "adam_update", "ema_update", "global_norm", "step_scalars", "read_safetensors", "subtree", "write_safetensors", "gamma_table", "get_schedule",
    "sigmoid", "softplus",
]
