#!/bin/sh
# `npm run bench:setup`: the benchmark's peers in a virtual environment bench/.venv (git-ignored):
# PyTorch 2 (CPU) and JAX (jax, jaxlib), installed by pip from what pip is configured to read,
# with no network needed where the wheels lie on this machine: PyTorch's wheel in pip's find-links
# folder (/opt/wheels here), jax/jaxlib/numpy in the local package index. PyTorch's CPU wheel is
# only built for some Pythons (here cp311): PYTHON chooses the interpreter (default: the first of
# python3.11, /usr/bin/python3, python3). VDM_BENCH_PIP_ARGS replaces the index arguments
# (default: the local indexes /opt/pypi and /opt/pypi-more, so pip never waits on an unreachable
# public index). Re-running it updates the environment in place.
set -eu
cd "$(dirname "$0")"
if [ -z "${PYTHON:-}" ]; then
  for p in python3.11 /usr/bin/python3 python3; do
    if command -v "$p" >/dev/null 2>&1; then PYTHON=$p; break; fi
  done
fi
echo "bench:setup: bench/.venv from $PYTHON ($("$PYTHON" --version 2>&1))"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
if [ -z "${VDM_BENCH_PIP_ARGS+x}" ]; then
  VDM_BENCH_PIP_ARGS=""
  for d in /opt/pypi/simple /opt/pypi-more/simple; do
    if [ -d "$d" ]; then
      if [ -z "$VDM_BENCH_PIP_ARGS" ]; then VDM_BENCH_PIP_ARGS="--index-url file://$d"; else VDM_BENCH_PIP_ARGS="$VDM_BENCH_PIP_ARGS --extra-index-url file://$d"; fi
    fi
  done
  [ -d /opt/wheels ] && VDM_BENCH_PIP_ARGS="$VDM_BENCH_PIP_ARGS --find-links /opt/wheels"
fi
# shellcheck disable=SC2086 # the arguments are meant to split
.venv/bin/python -m pip install --disable-pip-version-check $VDM_BENCH_PIP_ARGS "torch>=2" jax jaxlib numpy
.venv/bin/python -c "import torch, jax; print('bench:setup: torch', torch.__version__, '| jax', jax.__version__, '| bench/.venv ready')"
