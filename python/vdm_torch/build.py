"""A run's denoiser from its config.json (src/train/build.ts buildModel), its trained parameters (the denoiser,
with a learned schedule beside it), and what the twins cannot train."""
from .learned import LearnedDenoiser, is_learned
from .models import Mlp
from .unet import UNet


def check_trainable(config):
    """Raise a ValueError naming the config.json field for a run the PyTorch twins cannot train."""
    if config["data"]["spec"].startswith("text:") or config["model"]["kind"] == "text":
        raise ValueError(f'data.spec "{config["data"]["spec"]}", model.kind "{config["model"]["kind"]}": text runs (the transformer) have no PyTorch twin; train them with vdm train')
    if config.get("task") == "classifier":
        raise ValueError('task "classifier": classifier runs have no PyTorch twin; train them with vdm train')
    if config.get("distill"):
        raise ValueError('distill: a distilled run (vdm distill) trains against its teacher, which has no PyTorch twin; train it with vdm distill --resume')
    if config["model"]["kind"] not in ("mlp", "unet"):
        raise ValueError(f'model.kind "{config["model"]["kind"]}" has no PyTorch twin (mlp and unet have)')


def build_model(config, frequencies=None, math_kind="torch"):
    """The twin of the run's denoiser, freshly initialised: Mlp (with the Fourier `frequencies` [dim, F] when it
    has Fourier features) or UNet, predicting config.target; `math_kind` as in models.MATH."""
    check_trainable(config)
    kind = config["model"]["kind"]
    if kind == "mlp":
        return Mlp(config["model"]["mlp"], config["target"], frequencies, math_kind)
    return UNet(config["model"]["unet"], config["target"], math_kind)


def build_run_model(config, frequencies=None, math_kind="torch"):
    """Everything the run trains, as one module whose vdm_named_parameters are state.safetensors' params.*: the
    denoiser (build_model) for a fixed schedule; LearnedDenoiser (denoiser.*, schedule.*) for a learned one."""
    network = build_model(config, frequencies, math_kind)
    return LearnedDenoiser(network, config) if is_learned(config["schedule"]) else network
