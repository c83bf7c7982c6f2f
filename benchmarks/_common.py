"""What the benchmarks share: their data arguments and the codec and files those give, the swap test's STFT
and cepstral envelope, the peak memory of a command in a child process, and a progress line.

The scripts run as ``python benchmarks/NAME.py``, which puts this folder on ``sys.path``: they import this
module as ``_common``. Synthetic speech comes from the package (:mod:`vqcodec.analysis.synthetic`), the file
listing and loading from :mod:`vqcodec.analysis.references`, as ``vqcodec eval`` uses them.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

from vqcodec.analysis.evaluate import add_runtime_argument
from vqcodec.analysis.references import list_files, load_reference
from vqcodec.errors import UserError

__all__ = [
    "add_data_arguments",
    "add_runtime_argument",
    "envelope",
    "istft",
    "list_files",
    "load",
    "load_reference",
    "log",
    "peak_rss_mb",
    "stft",
]

N_FFT, HOP = 640, 160  # the head's STFT at 16 kHz


def add_data_arguments(ap: argparse.ArgumentParser, limit: int | None, threads: int | None = 1) -> None:
    """``--data DIR`` (required), ``--model PATH``, ``--limit N`` (default ``limit``) and, unless ``threads`` is
    None, ``--threads N`` (default ``threads``)."""
    ap.add_argument("--data", type=Path, required=True, help="folder of audio files (searched recursively), or one")
    ap.add_argument("--model", default=None, help="model file (default: the shipped model)")
    ap.add_argument("--limit", type=int, default=limit, help=f"use N evenly spaced files (default {limit or 'all'})")
    if threads is not None:
        ap.add_argument(
            "--threads", type=int, default=threads, help=f"CPU threads, torch and onnxruntime (default {threads})"
        )


def load(args: argparse.Namespace, metrics: bool = True):
    """The model and the files that :func:`add_data_arguments`' arguments name, with the torch threads set and,
    if ``metrics``, the quality metrics checked first; a mistake in them exits with one line.

    Returns:
        ``(codec, files)``: the model on the backend of ``--runtime`` (:func:`add_runtime_argument`) where the
        script takes one, else a :class:`vqcodec.codec.Codec` (torch, for the scripts that reach into the
        model), and the evenly spaced file paths.
    """
    from vqcodec.analysis.metrics import require_eval

    if getattr(args, "threads", None):
        torch.set_num_threads(args.threads)
    try:
        if args.limit is not None and args.limit < 1:
            raise UserError("--limit must be at least 1")
        if metrics:
            require_eval()
        return _codec(args), list_files(args.data, args.limit)
    except UserError as e:
        raise SystemExit(str(e)) from None


def _codec(args: argparse.Namespace):
    import vqcodec

    if not hasattr(args, "runtime"):
        return vqcodec.load(args.model)
    from vqcodec.pipeline import files
    from vqcodec.pipeline.commands import runtime

    return files.load(args.model, getattr(args, "threads", None) or 1, runtime(args))  # as vqcodec compress picks


def stft(x: np.ndarray) -> torch.Tensor:
    """[T] -> complex [F, N] (n_fft 640, hop 160, Hann)."""
    return torch.stft(torch.from_numpy(x), N_FFT, HOP, window=torch.hann_window(N_FFT), return_complex=True)


def istft(spec: torch.Tensor, length: int) -> np.ndarray:
    """Complex [F, N] -> [length], the inverse of :func:`stft`."""
    return torch.istft(spec, N_FFT, HOP, window=torch.hann_window(N_FFT), length=length).numpy()


def envelope(mag: torch.Tensor, lifter: int) -> torch.Tensor:
    """Log-magnitude envelope [F, N] of a magnitude [F, N]: the real cepstrum truncated to ``lifter`` bins."""
    cep = torch.fft.irfft(torch.log(mag + 1e-7), dim=0)  # [2(F-1), N]
    keep = torch.zeros(cep.shape[0], 1)
    keep[:lifter] = 1
    keep[-lifter + 1 :] = 1  # the cepstrum of a real log spectrum is symmetric
    return torch.fft.rfft(cep * keep, dim=0).real


def peak_rss_mb(cmd: list[str]) -> tuple[float, float]:
    """(peak RSS in MB, wall seconds) of ``cmd`` run in a fresh child. The child runs ``cmd`` as its only
    child, so its RUSAGE_CHILDREN maximum is ``cmd``'s own (this process's would hold every earlier one)."""
    code = (
        "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code, *cmd], check=True, capture_output=True, text=True)
    return int(out.stdout.split()[-1]) / 1024, time.perf_counter() - start


def log(msg: str) -> None:
    """A progress line on stderr (stdout holds the results)."""
    print(msg, file=sys.stderr, flush=True)
