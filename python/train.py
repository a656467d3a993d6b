"""Trains the run in this directory with PyTorch (vdm_torch.train): python train.py --steps S --out RUN2,
or torchrun --nproc_per_node N train.py --steps S --out RUN2."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from vdm_torch.train import main  # noqa: E402

main(default_from=HERE)
