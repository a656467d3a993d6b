"""Train a vdm run with PyTorch, on one process or many:

    torchrun --standalone --nproc_per_node N train.py --out RUN2 --steps S [--device cpu|cuda] [--batch B]

This file's directory holds vdm_torch/ and, in an export (`vdm export --format pytorch`), the run
(config.json, state.safetensors) and data/: the defaults of --from and --data-dir. `--help` lists the flags.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from vdm_torch.train import main  # noqa: E402

if __name__ == "__main__":
    main(default_from=HERE)
