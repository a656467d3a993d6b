#!/bin/sh
# `sh bench/handoff.sh [OUT]`: steps/s of the same run trained by `vdm train` and by the PyTorch hand-off
# (`vdm export --format pytorch`, then train.py on 1 process and torchrun on 2, gloo, CPU), each on both
# cores (vdm: 2 ONNX Runtime threads; train.py: PyTorch's 2 threads; torchrun: 1 thread per process), one after the
# other on a quiet machine: the default moons MLP (3,000 steps each) and the Fashion-MNIST U-Net at batch
# 32 (60 steps each; the full set or the bundled subset, whichever `vdm train` reads). Needs a build and
# bench/.venv (`npm run build`, `npm run bench:setup`). Prints one JSON line per measurement.
set -eu
cd "$(dirname "$0")/.."
OUT=${1:-$(mktemp -d /tmp/vdm-handoff-XXXXXX)}
PY=${VDM_PYTHON:-bench/.venv/bin/python}
vdm() { node bin/vdm.js "$@"; }

measure() { # name, first steps, more steps, vdm train flags...
  name=$1 first=$2 more=$3
  shift 3
  total=$((first + more))
  vdm train "$@" --steps "$first" --out "$OUT/$name" --no-report --quiet >/dev/null
  vdm export --format pytorch --model "$OUT/$name" --out "$OUT/$name-torch" >/dev/null
  cp -r "$OUT/$name" "$OUT/$name-vdm"
  vdm train --out "$OUT/$name-vdm" --resume --steps "$total" --onnx-threads 2 --no-report --quiet >/dev/null
  node -e "const m = require('$OUT/$name-vdm/metrics.json'); console.log(JSON.stringify({ case: '$name', trainer: 'vdm train', steps: $more, stepsPerSecond: m.stepsPerSecond }))"
  "$PY" "$OUT/$name-torch/train.py" --steps "$total" --out "$OUT/$name-p1" --device cpu 2>/dev/null |
    sed "s/^/{\"case\": \"$name\", \"trainer\": \"train.py, 1 process\", \"summary\": /; s/\$/}/"
  "$PY" -m torch.distributed.run --standalone --nproc_per_node 2 "$OUT/$name-torch/train.py" --steps "$total" \
    --out "$OUT/$name-p2" --device cpu 2>/dev/null |
    sed "s/^/{\"case\": \"$name\", \"trainer\": \"torchrun, 2 processes\", \"summary\": /; s/\$/}/"
}

measure moons-mlp 100 3000 --data moons
measure fashion-unet 5 60 --data fashion-mnist --conditional
