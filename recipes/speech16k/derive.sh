#!/usr/bin/env bash
# Re-derive everything issue 13 ships from the shipped weights, in one command (run from the repository root):
#
#     recipes/speech16k/derive.sh [DATA] [PRIOR_MINUTES]      # defaults: ../shared/speech, 25
#
# 1. tokens of DATA/train and DATA/dev at the top rung (every codebook) with the shipped model, in tokens/derive/;
# 2. the entropy tables (vqcodec/pretrained/default.tables.safetensors.gz), contexts chosen on dev, and the
#    golden files (tests/golden/make.py), which hold an entropy-coded stream;
# 3. the prior (vqcodec/pretrained/default.prior.safetensors, int8), PRIOR_MINUTES of training on one thread;
# 4. the README's spectrograms of the prior (docs/prior.png) and its entropy-coding table
#    (bench_out/entropy/entropy.md; copy it into the README by hand).
# Each artefact records the weights hash it came from; tests fail while one of them is stale.
set -euo pipefail
data=${1:-../shared/speech}
minutes=${2:-25}
out=tokens/derive
export OMP_NUM_THREADS=1
rm -rf "$out" && mkdir -p "$out"
vqcodec tokens "$data/dev" -o "$out/dev" -b 100 --threads 1 -q &
vqcodec tokens "$data/train" -o "$out/train" -b 100 --threads 1 -q
wait
python -m vqcodec.entropy.fit "$out/train" "$out/dev" -o vqcodec/pretrained/default.tables.safetensors.gz \
  --report "$out/candidates.json"
python tests/golden/make.py > /dev/null
vqcodec train-prior "$out/train" --dev "$out/dev" -o vqcodec/pretrained/default.prior.safetensors \
  --minutes "$minutes" --threads 1 --precision int8 --force
python benchmarks/prior_samples.py --seed 1 --out docs/prior.png
python benchmarks/entropy.py --data "$data/dev" --out bench_out/entropy
