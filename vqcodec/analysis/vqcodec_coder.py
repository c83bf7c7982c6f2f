"""vqcodec as one of the coders an evaluation compares (:data:`vqcodec.analysis.reference_codecs.Coder`), and
the ladder rungs it is measured at."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from vqcodec.analysis.metrics import SR
from vqcodec.analysis.reference_codecs import Coded, Coder
from vqcodec.codec import Codec, Rung
from vqcodec.compress import compress, decompress

DEFAULT_RATES = (1.0, 1.5, 2.0, 3.0, 4.0, 6.0)


def vqcodec_coder(codec: Codec, rung: Rung) -> Coder:
    """vqcodec through the bytes API; the time is in-process ``compress`` + ``decompress`` only."""

    def code(ref: np.ndarray, wav_path: Path, tmp: Path) -> Coded:
        t0 = time.perf_counter()
        data = compress(codec, ref[None], SR, rung.kbps)
        out, _ = decompress(codec, data)  # at SR: decompress restores the rate it was given
        seconds = time.perf_counter() - t0
        return Coded(out[0].numpy(), len(data), seconds)

    return code


def vqcodec_rungs(codec: Codec, rates: Sequence[float]) -> list[Rung]:
    """The distinct ladder rungs serving ``rates`` (each the highest rung at or below its rate)."""
    return sorted({codec.rung(r) for r in rates}, key=lambda r: r.kbps)


def default_rungs(codec: Codec) -> list[Rung]:
    """The rungs serving 1, 1.5, 2, 3, 4 and 6 kbps (rates below the model's lowest rung are left out);
    the whole ladder if none of them fits."""
    lowest = codec.ladder()[0].kbps
    fitting = [r for r in DEFAULT_RATES if r + 1e-9 >= lowest]
    return vqcodec_rungs(codec, fitting) if fitting else codec.ladder()


def rung_label(rung: Rung) -> str:
    """A rung as the tables name it: its rate and the codebooks it keeps, e.g. ``2.85 kbps (4t+4b)``."""
    return f"{rung.kbps:g} kbps ({rung.n_top}t+{rung.n_bottom}b)"


def warm_up(codec: Codec, kbps: float) -> None:
    """One compress/decompress of a second of noise, so that no timed call pays one-time setup costs."""
    noise = np.random.default_rng(0).normal(0, 0.05, SR).astype(np.float32)
    decompress(codec, compress(codec, noise[None], SR, kbps))
