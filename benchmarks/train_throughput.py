"""Training throughput of a recipe on this machine: audio-seconds trained per second.

    python benchmarks/train_throughput.py recipes/speech16k/config.json --data ../shared/speech --steps 20

Builds the recipe's model from scratch (its seed) and its loader over ``--max-files`` evenly spaced files
of the recipe's split (the cost of a step does not depend on the corpus size; 0 takes every file), runs
one untimed warm-up step, then times ``--steps`` optimiser steps (batch, forward, losses, backward,
update; no logging, validation or checkpoints) and prints one line. Nothing is written. On a busy machine
the number is a lower bound: run it when nothing else trains.
"""

from __future__ import annotations

import argparse
import dataclasses
import platform
import sys
import tempfile
import time
from pathlib import Path

import torch

from vqcodec.distributed import Context
from vqcodec.io.corpus import evenly_spaced, with_lengths
from vqcodec.train.config import load_train_config
from vqcodec.train.data import (
    SegmentSampler,
    StreamingSegments,
    StreamSampler,
    list_audio,
    list_entries,
    load_corpus,
)
from vqcodec.train.loop import Trainer

REPO = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("recipe", nargs="?", default=str(REPO / "recipes" / "speech16k" / "config.json"))
    p.add_argument(
        "--data", default=str(REPO.parent / "shared" / "speech"), help="folder or manifest (default: ../shared/speech)"
    )
    p.add_argument("--steps", type=int, default=20, help="timed steps (default 20)")
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    p.add_argument("--batch-size", type=int, help="override the recipe's batch size")
    p.add_argument("--loader", choices=("memory", "stream"), help="override the recipe's loader")
    p.add_argument("--num-workers", type=int, help="override the recipe's loader processes (stream)")
    p.add_argument("--max-files", type=int, default=200, help="files of the split to use (default 200; 0: all)")
    p.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    p.add_argument("--amp", action="store_true", help="bf16 autocast (CUDA, or a CPU with bfloat16)")
    p.add_argument("--compile", action="store_true", help="torch.compile (CUDA)")
    p.add_argument("--segment-frames", type=int, help="override the recipe's segment length (top frames)")
    p.add_argument("--pitch-workers", type=int, default=0, help="pitch-tracking processes (default 0: in-process)")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    cfg = load_train_config(args.recipe, batch_size=args.batch_size, loader=args.loader, num_workers=args.num_workers)
    cfg = dataclasses.replace(
        cfg, steps=max(cfg.steps, args.steps + 1), segment_frames=args.segment_frames or cfg.segment_frames
    )
    segment = cfg.segment_frames * cfg.model.top_hop
    t = time.time()
    if cfg.loader == "memory":
        sampler = SegmentSampler(
            load_corpus(evenly_spaced(list_audio(args.data, cfg.split), args.max_files), cfg.model.sample_rate),
            segment,
            seed=cfg.seed,
        )
    else:
        entries = evenly_spaced(list_entries(args.data, cfg.split, lengths=False), args.max_files)
        stream = StreamingSegments(with_lengths(entries), segment, cfg.model.sample_rate, cfg.batch_size, seed=cfg.seed)
        sampler = StreamSampler(stream, cfg.num_workers)
    load_s = time.time() - t
    device = torch.device(args.device)
    with tempfile.TemporaryDirectory() as tmp:
        trainer = Trainer(
            cfg,
            sampler,
            Path(tmp),
            Context(device=device),
            amp=args.amp,
            compile=args.compile,
            pitch_workers=args.pitch_workers,
        )
        trainer.train_step()  # warm-up (and compilation), untimed
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        t = time.time()
        for _ in range(args.steps):
            trainer.train_step()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        elapsed = time.time() - t
        trainer.close()
    if isinstance(sampler, StreamSampler):
        sampler.close()
    audio = args.steps * cfg.batch_size * segment / cfg.model.sample_rate
    print(
        f"train_throughput: {Path(args.recipe).parent.name} loader={cfg.loader} batch={cfg.batch_size}x"
        f"{segment / cfg.model.sample_rate:.2f}s steps={args.steps} device={device} threads={args.threads}"
        f"{' amp' if trainer.amp else ''}{' compile' if trainer.compiled else ''}"
        f"{f' pitch-workers={args.pitch_workers}' if args.pitch_workers else ''}: "
        f"{audio / elapsed:.2f} audio-s/s ({elapsed / args.steps:.2f} s/step; data set-up {load_s:.1f} s; "
        f"torch {torch.__version__}, {platform.machine()})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
