"""A run's denoiser from its config.json (src/train/build.ts buildModel), and what the twins cannot train yet."""
from .models import Mlp
from .unet import UNet


def check_trainable(config):
    """Raise a ValueError naming the config.json field for a run the PyTorch twins cannot train."""
    if config["data"]["spec"].startswith("text:") or config["model"]["kind"] == "text":
        raise ValueError(f'data.spec "{config["data"]["spec"]}", model.kind "{config["model"]["kind"]}": text runs (the transformer) have no PyTorch twin; train them with vdm train')
    if config.get("task") == "classifier":
        raise ValueError('task "classifier": classifier runs have no PyTorch twin; train them with vdm train')
    if config["schedule"].startswith("learned"):
        raise ValueError(f'schedule "{config["schedule"]}": learned schedules have no PyTorch twin yet')
    if config.get("timesteps", 0) != 0:
        raise ValueError(f"timesteps {config['timesteps']}: discrete-time runs have no PyTorch twin yet (timesteps must be 0)")
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
