"""Resampling a window of a longer signal, equal to resampling the whole signal and cutting.

Rates ``sr_in`` and ``sr_out`` share g = gcd(sr_in, sr_out): every ``sr_in / g`` input samples map to
exactly ``sr_out / g`` output samples (one *unit*). A window starting on a unit boundary resamples to
the same values as the whole signal, away from its edges; a margin of whole units on each side keeps the
sinc filter's edge effects outside the part we keep:

    input   |--m units--|=========== wanted ===========|--m units--|
    output        cut away        kept                  cut away
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torchaudio.functional as AF

Fetch = Callable[[int, int], torch.Tensor]  # (start, stop) -> [C, stop - start], zeros outside the signal

_MARGIN_OUT = 64  # output samples of margin; torchaudio's default kernel reaches ~6 input periods


def resampled_length(n: int, sr_in: int, sr_out: int) -> int:
    """Length of ``n`` samples resampled from ``sr_in`` to ``sr_out`` (as torchaudio computes it)."""
    return math.ceil(n * sr_out / sr_in)


def resample_window(fetch: Fetch, sr_in: int, sr_out: int, start: int, stop: int) -> torch.Tensor:
    """Output-rate samples ``[start, stop)`` of the signal that ``fetch`` reads at the input rate.

    Returns:
        [C, stop - start] float32.
    """
    if sr_in == sr_out:
        return fetch(start, stop)
    g = math.gcd(sr_in, sr_out)
    unit_in, unit_out = sr_in // g, sr_out // g
    margin = -(-_MARGIN_OUT // unit_out) + 1
    u0, u1 = start // unit_out - margin, -(-stop // unit_out) + margin
    x = fetch(u0 * unit_in, u1 * unit_in)  # [C, (u1 - u0) * unit_in]
    y = AF.resample(x, sr_in, sr_out)  # [C, (u1 - u0) * unit_out]
    off = start - u0 * unit_out
    return y[..., off: off + stop - start]
