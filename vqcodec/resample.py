"""Resampling with torch, for training and analysis (the codec, on every backend, resamples with its numpy twin
:mod:`vqcodec.pipeline.sinc`, on the same kernel table): a window of a longer signal, equal to resampling the
whole signal and cutting.

Output sample ``n`` sits at input time ``tau = n * sr_in / sr_out`` and is a windowed-sinc sum of the
input samples around it (the kernel of torchaudio's default: Hann-windowed sinc, 6 zero crossings,
cut-off at 0.99 of the lower Nyquist frequency). It depends only on the input within the kernel's reach
of ``tau``, so a window of the output is computed from a window of the input and equals the same samples
of the whole signal's output: the codec codes long files chunk by chunk with the codes of a whole-file pass.

Two ways to the same sums, by the rates' ratio reduced by their gcd g (``sr_in / g : sr_out / g``):

- **small ratio** (every common pair: 44100:16000 is 441:160): torchaudio's polyphase convolution on
  input windows aligned to whole *units* of ``sr_in / g`` samples, with a margin of units on each side
  that keeps the filter's edges outside the part we keep::

    input   |--m units--|=========== wanted ===========|--m units--|
    output        cut away        kept                  cut away

- **any other ratio** (coprime rates such as 22051:16000): the polyphase kernel would have ``sr_out / g``
  rows of ``sr_in / g`` taps (gigabytes), so each output sample takes its own taps from a table of the
  kernel at ``PHASES`` fractional positions (the nearest one: a timing error below 1/(2 * PHASES) of an
  input sample, an error below -80 dB at the Nyquist frequency). Time and memory are linear in the
  signal, whatever the rates' gcd (22051 -> 16000 Hz: 3 s of audio in 0.02 s, not 25 s and 6 GB).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torchaudio.functional as AF

from vqcodec.pipeline.sinc import TABLE as _TABLE  # noqa: F401  (the table's bound, for tests)
from vqcodec.pipeline.sinc import kernel_table, small_ratio
from vqcodec.pipeline.windows import resampled_length

__all__ = ["Fetch", "resample", "resample_window", "resampled_length", "window_of"]

Fetch = Callable[[int, int], torch.Tensor]  # (start, stop) -> [C, stop - start], zeros outside the signal

_MARGIN_OUT = 64  # output samples of margin; torchaudio's default kernel reaches ~6 input periods
_BLOCK = 1 << 22  # values gathered at once by the any-ratio path


def window_of(x: torch.Tensor, start: int, stop: int) -> torch.Tensor:
    """Samples ``[start, stop)`` of a ``[C, T]`` signal, zero-filled outside ``[0, T)``: the :data:`Fetch`
    of an in-memory signal."""
    out = torch.zeros(x.shape[0], stop - start, dtype=x.dtype)
    lo, hi = max(start, 0), min(stop, x.shape[1])
    if lo < hi:
        out[:, lo - start : hi - start] = x[:, lo:hi]
    return out


def resample(x: torch.Tensor, sr_in: int, sr_out: int) -> torch.Tensor:
    """A whole signal ``[..., T]`` resampled: ``[..., resampled_length(T)]`` float32.

    For the rate pairs torchaudio handles cheaply this is ``torchaudio.functional.resample``; for any other
    pair (coprime rates) the same kernel at arbitrary ratio, whose cost stays linear in the signal.
    """
    flat = x.reshape(-1, x.shape[-1]).float()  # [C, T]
    if sr_in == sr_out or small_ratio(sr_in, sr_out):
        return AF.resample(flat, sr_in, sr_out).reshape(*x.shape[:-1], -1)

    def fetch(start: int, stop: int) -> torch.Tensor:
        return window_of(flat, start, stop)

    y = resample_window(fetch, sr_in, sr_out, 0, resampled_length(flat.shape[1], sr_in, sr_out))
    return y.reshape(*x.shape[:-1], y.shape[-1])


def resample_window(fetch: Fetch, sr_in: int, sr_out: int, start: int, stop: int) -> torch.Tensor:
    """Output-rate samples ``[start, stop)`` of the signal that ``fetch`` reads at the input rate.

    Returns:
        [C, stop - start] float32.
    """
    if sr_in == sr_out:
        return fetch(start, stop)
    if small_ratio(sr_in, sr_out):
        return _polyphase(fetch, sr_in, sr_out, start, stop)
    return _interpolate(fetch, sr_in, sr_out, start, stop)


def _polyphase(fetch: Fetch, sr_in: int, sr_out: int, start: int, stop: int) -> torch.Tensor:
    """torchaudio's polyphase resampling of a unit-aligned window with margins, cut to ``[start, stop)``."""
    g = math.gcd(sr_in, sr_out)
    unit_in, unit_out = sr_in // g, sr_out // g
    margin = -(-_MARGIN_OUT // unit_out) + 1
    u0, u1 = start // unit_out - margin, -(-stop // unit_out) + margin
    x = fetch(u0 * unit_in, u1 * unit_in)  # [C, (u1 - u0) * unit_in]
    y = AF.resample(x, sr_in, sr_out)  # [C, (u1 - u0) * unit_out]
    off = start - u0 * unit_out
    return y[..., off : off + stop - start]


def _interpolate(fetch: Fetch, sr_in: int, sr_out: int, start: int, stop: int) -> torch.Tensor:
    """Each output sample from the tabulated kernel at its own fractional input position.

    Output n sits at tau = k0 + p / phases input samples (exact integer arithmetic: no drift over hours)
    and sums x[k0 + j] * table[p, j] over taps j in (-reach, reach], in blocks of outputs whose taps hold
    at most _BLOCK values: memory is bounded, time is linear in the input and output.
    """
    table = _kernel_table(sr_in, sr_out)  # [phases, taps]
    phases, taps = table.shape
    reach = taps // 2

    def position(n: torch.Tensor | int):
        """(k0, p): tau of output n in 1/phases input samples, rounded, split into whole and fraction."""
        pos = (n * sr_in * phases + sr_out // 2) // sr_out
        return pos // phases, pos % phases

    if stop <= start:
        return fetch(0, 0)[:, :0]
    k_first, k_last = position(start)[0], position(stop - 1)[0]
    x = fetch(k_first - reach + 1, k_last + reach + 1)  # [C, span]: tap 0 of every output is in it
    offsets = torch.arange(taps)  # tap j = offset - reach + 1
    block = max(1, _BLOCK // (taps * max(1, x.shape[0])))
    y = torch.empty(x.shape[0], stop - start)
    for b in range(start, stop, block):
        k0, phase = position(torch.arange(b, min(b + block, stop), dtype=torch.int64))  # [B] each
        idx = (k0 - k_first)[:, None] + offsets  # [B, taps] into x
        y[:, b - start : b - start + len(k0)] = (x[:, idx] * table[phase]).sum(-1)  # [C, B, taps] -> [C, B]
    return y


def _kernel_table(sr_in: int, sr_out: int) -> torch.Tensor:
    """[phases, taps] float32: :func:`vqcodec.pipeline.sinc.kernel_table`, the one table of the codec's resampler."""
    return torch.from_numpy(kernel_table(sr_in, sr_out))
