"""vqcodec as one of the coders an evaluation compares (:data:`vqcodec.analysis.reference_codecs.Coder`), on the
backend a user's ``vqcodec compress`` runs (:mod:`vqcodec.backends`), and the ladder rungs it is measured at."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from vqcodec.analysis.metrics import SR
from vqcodec.analysis.reference_codecs import Coded, Coder
from vqcodec.pipeline import streams
from vqcodec.pipeline.coder import Coder as Pipeline  # the codec on a backend; Coder is an evaluation's coder
from vqcodec.pipeline.rates import Rung

DEFAULT_RATES = (1.0, 1.5, 2.0, 3.0, 4.0, 6.0)


def vqcodec_coder(codec: Pipeline, rung: Rung, sample_rate: int = SR) -> Coder:
    """vqcodec through the bytes API on ``codec``'s backend, the reference given at ``sample_rate`` (16 kHz
    for speech) and decoded back to it; the time is in-process encoding to ``.vqc`` bytes and decoding them
    only."""

    def code(ref: np.ndarray, wav_path: Path, tmp: Path) -> Coded:
        t0 = time.perf_counter()
        data = streams.to_bytes(codec.encode(ref[None], sample_rate, rung.kbps), codec.config)
        out = np.asarray(codec.decode(streams.from_bytes(data)))  # [1, T] at sample_rate: the rate it was given
        seconds = time.perf_counter() - t0
        return Coded(out[0], len(data), seconds)

    return code


def backend_line(codec: Pipeline) -> str:
    """What ran the model, as reports name it: e.g. ``onnxruntime 1.22.0, 2 threads`` or
    ``torch 2.7.1, 2 threads, cpu``."""
    if codec.runtime == "onnx":
        import onnxruntime

        return f"onnxruntime {onnxruntime.__version__}, {codec.backend.threads} threads"
    import torch

    return f"torch {torch.__version__}, {torch.get_num_threads()} threads, {codec.backend.device}"


def vqcodec_rungs(codec: Pipeline, rates: Sequence[float]) -> list[Rung]:
    """The distinct ladder rungs serving ``rates`` (each the highest rung at or below its rate)."""
    return sorted({codec.rung(r) for r in rates}, key=lambda r: r.kbps)


def default_rungs(codec: Pipeline) -> list[Rung]:
    """The rungs serving 1, 1.5, 2, 3, 4 and 6 kbps (rates below the model's lowest rung are left out);
    the whole ladder if none of them fits."""
    lowest = codec.ladder()[0].kbps
    fitting = [r for r in DEFAULT_RATES if r + 1e-9 >= lowest]
    return vqcodec_rungs(codec, fitting) if fitting else codec.ladder()


def rung_label(rung: Rung) -> str:
    """A rung as the tables name it: its rate and the codebooks it keeps, e.g. ``2.85 kbps (4t+4b)``."""
    return f"{rung.kbps:g} kbps ({rung.n_top}t+{rung.n_bottom}b)"


def warm_up(codec: Pipeline, kbps: float) -> None:
    """One coding of a second of noise to bytes and back, so that no timed call pays one-time setup costs (the
    graphs loading, the first allocations)."""
    noise = np.random.default_rng(0).normal(0, 0.05, SR).astype(np.float32)
    codec.decode(streams.from_bytes(streams.to_bytes(codec.encode(noise[None], SR, kbps), codec.config)))
