"""A candidate's light-runtime graphs against the shipped ones, timed interleaved in one process.

    python benchmarks/graph_ab.py CANDIDATE.onnx.json [--seconds 10] [--rounds 15] [--threads 1]

Export a candidate first (``vqcodec export --model M.safetensors DIR``). Each round encodes the same noise
(``--seconds`` long) with every codebook through both encoder graphs, then decodes the shipped codes (and a
steady voiced pitch code) through both decoder graphs, alternating shipped and candidate so that load on the
machine falls on both alike.
Prints the medians and candidate / shipped ratios (> 1: the candidate is slower). What issue 21's bar 5 asks
of each candidate, per graph; the folder mode's ratio to Opus is ``benchmarks/light_speed.py``'s.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

from vqcodec.backends.exported import read_manifest
from vqcodec.backends.onnxruntime import OnnxBackend
from vqcodec.pretrained import default_onnx_path


def timed(call) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("candidate", type=Path, help="the candidate's .onnx.json")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    pair = [OnnxBackend(read_manifest(p), args.threads) for p in (default_onnx_path(), args.candidate)]
    config = pair[0].config
    frames = max(1, round(args.seconds * config.sample_rate / config.top_hop))
    x = (np.random.default_rng(0).standard_normal((1, 1, frames * config.top_hop)) * 0.1).astype(np.float32)
    codes = pair[0].encode(x, config.codebooks)
    if config.pitch_bits:  # a steady voiced pitch code on every bottom frame: the source runs as for speech
        codes.append(np.full((1, 1, codes[-1].shape[-1]), 2 ** (config.pitch_bits - 1), np.int64))
    times = {(g, i): [] for g in ("encoder", "decoder") for i in (0, 1)}
    for _ in range(args.rounds):
        for i, backend in enumerate(pair):
            times["encoder", i].append(timed(lambda b=backend: b.encode(x, config.codebooks)))
            times["decoder", i].append(timed(lambda b=backend: b.decode(codes, 0)))
    seconds = frames * config.top_hop / config.sample_rate
    print(f"{seconds:.1f} s of audio, {args.rounds} rounds, {args.threads} thread(s)")
    for graph in ("encoder", "decoder"):
        shipped, cand = (statistics.median(times[graph, i]) for i in (0, 1))
        print(f"{graph}: shipped {1000 * shipped:.1f} ms, candidate {1000 * cand:.1f} ms, ratio {cand / shipped:.3f}")


if __name__ == "__main__":
    main()
