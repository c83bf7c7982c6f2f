"""Throughput of batch token extraction (``vqcodec tokens``): audio-hours per hour, by batch size.

    python benchmarks/tokens_throughput.py --data ../shared/speech/dev --limit 10 --batch-sizes 1 8

Extracts the same files per batch size, each time into a fresh folder, in this process (the model is
loaded once and warmed up first), ``--repeat`` times, and prints one table row per batch size with the
fastest run (the machine may be busy): files, audio, wall time, files/s and
audio-hours per hour (= times real time). The last line says whether every run gave identical tokens
(it must: batching never changes codes).
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from _common import list_files

import vqcodec
from vqcodec.tokens import extract, load_shard


def tokens_of(outdir: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    out = {}
    for shard in sorted(outdir.glob("shard-*.npz")):
        out.update(load_shard(shard))
    return out


def same(a: dict, b: dict) -> bool:
    """Every stream of every utterance equal: top, bottom and, for a model with a pitch stream, pitch."""
    return a.keys() == b.keys() and all(
        len(a[k]) == len(b[k]) and all(np.array_equal(x, y) for x, y in zip(a[k], b[k], strict=True)) for k in a
    )


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, required=True, help="folder of audio files (recursive)")
    p.add_argument("--limit", type=int, default=10, help="use N evenly spaced files (default 10)")
    p.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 8])
    p.add_argument("--bitrate", type=float, default=None, help="kbps (default 3)")
    p.add_argument("--model", default=None, help="model file (default: the shipped model)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    p.add_argument("--repeat", type=int, default=3, help="runs per row; the fastest is reported (default 3)")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    files = list_files(args.data, args.limit)
    codec = vqcodec.load(args.model, device=args.device)
    codec.encode(np.zeros(codec.sample_rate, np.float32), codec.sample_rate)  # warm-up
    print(
        f"{len(files)} files from {args.data}, model {codec.name} ({codec.hash.hex()}), {args.device}, "
        f"{args.threads} threads, torch {torch.__version__}, {platform.processor() or platform.machine()}"
    )
    print("| batch | files | audio (min) | wall (s) | files/s | audio-h per hour |")
    print("|---:|---:|---:|---:|---:|---:|")
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, batch in enumerate(args.batch_sizes):
            walls = []
            for j in range(max(1, args.repeat)):
                out = Path(tmp) / f"run{i}-{j}"
                t0 = time.perf_counter()
                r = extract(codec, files, out, bitrate=args.bitrate, batch_size=batch, progress=False)
                walls.append(time.perf_counter() - t0)
            wall = min(walls)
            results.append(tokens_of(out))
            print(
                f"| {batch} | {r.extracted} | {r.audio_s / 60:.2f} | {wall:.1f} | "
                f"{r.extracted / wall:.2f} | {r.audio_s / wall:.1f} |",
                flush=True,
            )
    print(f"identical tokens in every run: {all(same(results[0], x) for x in results[1:])}")


if __name__ == "__main__":
    main()
