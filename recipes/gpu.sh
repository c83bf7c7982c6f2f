#!/usr/bin/env bash
# A time-limited training run on a GPU machine (the device tool's `run`; the recipes' "On a GPU" sections):
#
#   bash recipes/gpu.sh RECIPE DATA MINUTES [vqcodec train options ...]
#
# Run from the repository root there, with DATA (recipes/gpu_subset.py's parts and manifest) and .whl (the
# wheels the machine lacks) carried. Trains RECIPE for at most MINUTES wall minutes (the run stops at the
# recipe's steps or at the limit, whichever comes first; on the limit the trainer is interrupted and its last
# checkpoint is what comes back) and leaves in $OUT: the model in 15 MiB pieces (cat model.safetensors.part* >
# model.safetensors), the logs and the validation numbers. The options after MINUTES go to `vqcodec train`
# (--init, --pitch-workers, --name ...). DEVICE=cpu OUT=/tmp/o bash recipes/gpu.sh ... checks the script on a
# machine without a GPU.
set -uo pipefail
RECIPE=${1:?recipe}
DATA=${2:?data folder}
MINUTES=${3:?minutes}
shift 3
OUT=${OUT:?set by the device machine}
DEVICE=${DEVICE:-cuda}
RUN=runs/gpu-$(basename "$(dirname "$RECIPE")")-$(basename "$RECIPE" .json)
if ls .whl/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site:${PYTHONPATH:-}
fi
export PYTHONPATH=$PWD:${PYTHONPATH:-} PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader > "$OUT/gpu.txt" 2>&1
timeout --signal=INT "$((MINUTES * 60))" python3 -m vqcodec.train "$RECIPE" --data "$DATA" --out "$RUN" --amp \
  --device "$DEVICE" --progress lines "$@" 2>&1 | tail -n 400 > "$OUT/train.log"
RUN=$RUN python3 - <<'PY'
# a stopped run's newest model: the last checkpoint's weights, as the trainer writes them at each checkpoint
import os, shutil
src, out = os.environ["RUN"], os.environ["OUT"]
for name in ("log.jsonl", "valid.jsonl", "config.json"):
    if os.path.exists(f"{src}/{name}"):
        shutil.copy(f"{src}/{name}", out)
if os.path.exists(f"{src}/model.safetensors"):
    data = open(f"{src}/model.safetensors", "rb").read()
    for i in range(0, len(data), 15 << 20):
        open(f"{out}/model.safetensors.part{i // (15 << 20)}", "wb").write(data[i : i + (15 << 20)])
PY
ls -la "$OUT"
