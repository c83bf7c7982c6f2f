#!/usr/bin/env bash
# Ship a trained general-audio model as the package's second model (issue 26), in one command from the
# repository root:
#
#     recipes/general24k/ship.sh MODEL [DATA] [PKG]   # DATA: ../shared-data/general; PKG: vqcodec/pretrained
#
# 1. MODEL (a trainer's model.safetensors, config content "general") -> PKG/general.safetensors, named ga24k, its large
#    weights stored as int8 with a scale per output channel (vqcodec.train.pack), and its two ONNX graphs and manifest (general.encoder.onnx, general.decoder.onnx, general.onnx.json), which read
#    their weights from that one file;
# 2. tokens at the top rung (every codebook) of every 8th training file and of dev, in tokens/general/;
# 3. the entropy tables fitted on them, contexts chosen on dev: PKG/general.tables.safetensors.gz.
# No prior is trained for it (`vqcodec sample -m general` says so in one line). Each artefact records the
# weights hash it came from. PKG other than the package's folder: a dry run that touches nothing shipped.
set -euo pipefail
model=${1:?usage: ship.sh MODEL [DATA] [PKG]}
data=${2:-../shared-data/general}
pkg=${3:-vqcodec/pretrained}
out=tokens/general
export OMP_NUM_THREADS=1
python - "$model" <<'EOF'
import sys
from vqcodec.io.weights import load_model
c = load_model(sys.argv[1]).config
if c.content != "general":
    sys.exit(f"{sys.argv[1]}: its config's content is {c.content!r}, not 'general'")
EOF
mkdir -p "$pkg"
python -m vqcodec.train.pack "$model" -o "$pkg/general.safetensors" --precision int8 --name ga24k
vqcodec export -m "$pkg/general.safetensors" "$pkg" -q
rm -rf "$out" && mkdir -p "$out"
root=$(realpath "$data")
awk -F, -v root="$root" 'NR > 1 && $2 == "train" && (++n % 8) == 1 { print root "/" $1 }' "$data/manifest.csv" > "$out/train.txt"
vqcodec tokens "$data/dev" -o "$out/dev" -m "$pkg/general.onnx.json" -b 100 --threads 1 -q &
vqcodec tokens "$out/train.txt" -o "$out/train" -m "$pkg/general.onnx.json" -b 100 --threads 1 -q
wait
python -m vqcodec.entropy.fit "$out/train" "$out/dev" -o "$pkg/general.tables.safetensors.gz" \
  --report "$out/candidates.json"
ls -l "$pkg"/general.*
