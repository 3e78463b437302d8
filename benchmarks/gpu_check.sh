#!/usr/bin/env bash
# The GPU check, ready for the day a GPU is lent: under 8 minutes on one GPU, it prints
#   [1] data generation on the GPU against the CPU, as ratios, and the two devices' difference;
#   [2] one epoch of the paper's forward net on the GPU (and the CPU's seconds a batch beside it);
#   [3] the inverse net's physics mode, GPU against CPU;
#   [4] a smoke study with resources.gpus_per_trial=0.5, checking from MLflow that every trial
#       computed on the GPU (the scalefree.device tag of its run).
# Without a GPU it says so in one line and exits 0.
# Usage, from the repository root: bash benchmarks/gpu_check.sh   (after `make study` or
# `pip install -e .`; PY=python3 picks another interpreter)
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PY=${PY:-}
if [[ -z "$PY" ]]; then
    if [[ -x .venv/bin/python ]]; then PY=.venv/bin/python; else PY=python3; fi
fi
if ! "$PY" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
    echo "gpu_check: no CUDA GPU visible to torch ($PY) on this machine; nothing to check."
    exit 0
fi
export PYTHONUNBUFFERED=1 PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
status=0
"$PY" benchmarks/gpu_check.py "$@" || status=1

if ! "$PY" -c 'import ray, mlflow, optuna, powerlaw, study.cli' 2>/dev/null; then
    echo "[4] smoke study on the GPU: skipped, the project is not installed for $PY" \
         "(ray, mlflow, optuna, powerlaw: run make study first)"
    exit $status
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
start=$(date +%s)
if (cd "$work" && "$PY" -m study.cli launch smoke --name gpu-check \
        --set resources.gpus_per_trial=0.5 > launch.log 2>&1); then
    echo "[4] smoke study with gpus_per_trial=0.5: finished in $(( $(date +%s) - start )) s"
    (cd "$work" && "$PY" - <<'PYEOF') || status=1
import sys

import mlflow

mlflow.set_tracking_uri("sqlite:///mlflow.db")
runs = mlflow.search_runs(search_all_experiments=True, output_format="list")
trials = [r for r in runs if r.data.tags.get("scalefree.trial_id")]
devices = [r.data.tags.get("scalefree.device", "?") for r in trials]
on_gpu = sum(d.startswith("cuda") for d in devices)
print(f"    {on_gpu} of {len(devices)} trials computed on the GPU: {', '.join(devices) or 'none'}")
sys.exit(0 if devices and on_gpu == len(devices) else 1)
PYEOF
else
    echo "[4] smoke study with gpus_per_trial=0.5: FAILED after $(( $(date +%s) - start )) s;" \
         "the last lines of its output:"
    tail -n 15 "$work/launch.log"
    status=1
fi
exit $status
