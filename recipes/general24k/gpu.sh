#!/usr/bin/env bash
# The general-audio model's first stage on a GPU machine (recipes/general24k/README.md, "On a GPU"): run from
# the repository root there, with gpu_data/general (gpu_subset.py's parts and manifest) and .whl (the wheels
# the machine lacks) carried. Trains recipes/general24k/gpu.json for at most MINUTES wall minutes (default 8;
# the run stops at the recipe's steps or at the limit, whichever comes first) and leaves in $OUT what comes
# back: the model in 15 MiB pieces (cat model.safetensors.part* > model.safetensors), the logs and the
# validation numbers.
set -uo pipefail
MINUTES=${1:-8}
OUT=${OUT:?set by the device machine}
DEVICE=${DEVICE:-cuda}  # DEVICE=cpu: a smoke test of this script on a machine without a GPU
if ls .whl/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site:${PYTHONPATH:-}
fi
export PYTHONPATH=$PWD:${PYTHONPATH:-} PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader > "$OUT/gpu.txt" 2>&1
timeout --signal=INT "$((MINUTES * 60))" python3 -m vqcodec.train recipes/general24k/gpu.json \
  --data gpu_data/general --out runs/general-gpu --amp --device "$DEVICE" --progress lines 2>&1 | tail -n 400 > "$OUT/train.log"
python3 - <<'EOF'
# a stopped run's newest model: the last checkpoint's weights, as the trainer writes them at each checkpoint
import os, shutil
src, out = "runs/general-gpu", os.environ["OUT"]
for name in ("log.jsonl", "valid.jsonl", "config.json"):
    if os.path.exists(f"{src}/{name}"):
        shutil.copy(f"{src}/{name}", out)
if os.path.exists(f"{src}/model.safetensors"):
    data = open(f"{src}/model.safetensors", "rb").read()
    for i in range(0, len(data), 15 << 20):
        open(f"{out}/model.safetensors.part{i // (15 << 20)}", "wb").write(data[i : i + (15 << 20)])
EOF
ls -la "$OUT"
