"""The codec's resampler, for every backend: a windowed sinc in numpy, streamed, so that a file not at the
model's rate gets the same codes, and decodes to the same audio, on either backend. No torch here.
(:mod:`vqcodec.resample` is torch's twin for training and analysis, on the same kernel, within 2e-7.)

The kernel is torchaudio's default (Hann-windowed sinc, 6 zero crossings, cut-off at 0.99 of the lower
Nyquist frequency); output sample ``n`` sits at input time ``n * sr_in / sr_out``. As there, rates whose
ratio reduces (by their gcd g) to small units ``sr_in / g : sr_out / g`` take the polyphase kernel, and
any other pair (coprime rates) the kernel tabulated at 16384 fractional positions (:func:`kernel_table`).
The stream computes its output in chunks on a grid fixed from sample 0, so each output sample comes out of
the same sums whatever windows the codec then reads. (Before, the light runtime had soxr and torch
torchaudio: ~32 dB apart near Nyquist, other codes for a 44.1 kHz file on each.)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from functools import lru_cache

import numpy as np

from vqcodec.pipeline.sources import BlockReader

Read = Callable[[int, int], np.ndarray]  # (start, stop) -> [C, stop - start] float32, zeros outside the signal

_ZEROS = 6  # zero crossings of the sinc on each side (torchaudio's lowpass_filter_width)
_ROLLOFF = 0.99  # cut-off as a fraction of the lower Nyquist frequency (torchaudio's rolloff)
PHASES = 16384  # fractional positions tabulated for the any-ratio path ...
TABLE = 1 << 22  # ... unless the table would hold more values than this
POLYPHASE_MAX_UNIT = 4096  # the polyphase path when both reduced rates are at most this ...
POLYPHASE_MAX_KERNEL = 1 << 20  # ... and the kernel (sr_in / g by sr_out / g) holds at most this many taps
_CHUNK = 1 << 14  # output samples (about) computed at once by the stream
_BLOCK = 1 << 22  # values gathered at once by the any-ratio path
_PRODUCT = 1 << 18  # multiply-adds per matrix product (OpenBLAS threads larger ones)


def resampled_blocks(
    blocks: Iterator[np.ndarray], sr_in: int, sr_out: int, channels: int, length: int
) -> Iterator[np.ndarray]:
    """``[n, C]`` float32 blocks at ``sr_in`` -> ``length`` samples at ``sr_out`` in ``[n, C]`` blocks."""
    if sr_in == sr_out:
        yield from blocks
        return
    reader = BlockReader(blocks, channels)
    step = _chunk(sr_in, sr_out)
    for start in range(0, length, step):
        yield resample_window(reader.read, sr_in, sr_out, start, min(start + step, length)).T


def _chunk(sr_in: int, sr_out: int) -> int:
    """Output samples per chunk of the stream: whole polyphase units where there are some."""
    unit_out = sr_out // math.gcd(sr_in, sr_out)
    return max(1, _CHUNK // unit_out) * unit_out if small_ratio(sr_in, sr_out) else _CHUNK


def resample_window(read: Read, sr_in: int, sr_out: int, start: int, stop: int) -> np.ndarray:
    """Output samples ``[start, stop)`` of the signal ``read`` gives at ``sr_in``: ``[C, stop - start]``
    float32. Reads one span of input, which moves forward with ``start``."""
    if small_ratio(sr_in, sr_out):
        return _polyphase(read, sr_in, sr_out, start, stop)
    return _interpolate(read, sr_in, sr_out, start, stop)


def small_ratio(sr_in: int, sr_out: int) -> bool:
    """Whether torchaudio's polyphase kernel (sr_out / g rows of about sr_in / g taps) is small (both
    runtimes take the polyphase path then, the tabulated kernel otherwise)."""
    g = math.gcd(sr_in, sr_out)
    unit_in, unit_out = sr_in // g, sr_out // g
    return max(unit_in, unit_out) <= POLYPHASE_MAX_UNIT and unit_in * unit_out <= POLYPHASE_MAX_KERNEL


def _polyphase(read: Read, sr_in: int, sr_out: int, start: int, stop: int) -> np.ndarray:
    """Output unit ``u`` (samples ``u * unit_out + p``) is ``kernel[p] . x[u * unit_in - width + j]`` over
    taps ``j``: torchaudio's polyphase convolution, on the units that cover ``[start, stop)``."""
    g = math.gcd(sr_in, sr_out)
    unit_in, unit_out = sr_in // g, sr_out // g
    kernel, width = _polyphase_kernel(unit_in, unit_out)  # [unit_out, taps]
    u0, u1 = start // unit_out, -(-stop // unit_out)
    x = read(u0 * unit_in - width, u1 * unit_in + width)  # [C, (u1 - u0) * unit_in + 2 width]
    frames = np.lib.stride_tricks.sliding_window_view(x, kernel.shape[1], axis=-1)[:, ::unit_in]  # [C, U, taps]
    y = _product(np.ascontiguousarray(frames), kernel).reshape(x.shape[0], -1)  # [C, U * unit_out]
    off = start - u0 * unit_out
    return np.ascontiguousarray(y[:, off : off + stop - start], dtype=np.float32)


def _product(frames: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """``[C, U, taps] @ [unit_out, taps].T`` -> ``[C, U, unit_out]`` float32, in products of at most _PRODUCT
    multiply-adds, which OpenBLAS computes on the calling thread: its own threads spin while they wait, and
    beside a busy core they made the whole light runtime 2 to 4x slower at 44.1 kHz."""
    rows = max(1, _PRODUCT // kernel.size)
    out = np.empty((*frames.shape[:2], kernel.shape[0]), np.float32)
    for i in range(0, frames.shape[1], rows):
        out[:, i : i + rows] = frames[:, i : i + rows] @ kernel.T
    return out


@lru_cache(maxsize=8)
def _polyphase_kernel(unit_in: int, unit_out: int) -> tuple[np.ndarray, int]:
    """torchaudio's ``_get_sinc_resample_kernel`` (``sinc_interp_hann``), computed in float32 step by step as
    it is for float32 audio: ``[unit_out, 2 width + unit_in]`` and ``width``."""
    f32 = np.float32
    base = min(unit_in, unit_out) * _ROLLOFF
    width = math.ceil(_ZEROS * unit_in / base)
    idx = np.arange(-width, width + unit_in, dtype=f32)[None] / f32(unit_in)  # [1, taps]
    t = (np.arange(0, -unit_out, -1, dtype=f32)[:, None] / f32(unit_out) + idx) * f32(base)  # [unit_out, taps]
    t = t.clip(-_ZEROS, _ZEROS).astype(f32)
    window = np.cos(t * f32(math.pi / _ZEROS / 2)) ** 2
    t = t * f32(math.pi)
    with np.errstate(invalid="ignore", divide="ignore"):
        kernel = np.where(t == 0, f32(1.0), np.sin(t) / t)
    return np.ascontiguousarray(kernel * (window * f32(base / unit_in)), dtype=f32), width


def _interpolate(read: Read, sr_in: int, sr_out: int, start: int, stop: int) -> np.ndarray:
    """Each output sample from the tabulated kernel at its own fractional input position (as
    :func:`vqcodec.resample._interpolate`, on the same :func:`kernel_table`): ``tau = k0 + p / phases`` in
    exact integer arithmetic."""
    table = kernel_table(sr_in, sr_out)  # [phases, taps]
    phases, taps = table.shape
    reach = taps // 2

    def position(n):
        pos = (n * sr_in * phases + sr_out // 2) // sr_out
        return pos // phases, pos % phases

    k_first, k_last = position(start)[0], position(max(start, stop - 1))[0]
    x = read(k_first - reach + 1, k_last + reach + 1)  # [C, span]
    y = np.empty((x.shape[0], stop - start), np.float32)
    block = max(1, _BLOCK // (taps * max(1, x.shape[0])))
    for b in range(start, stop, block):
        k0, phase = position(np.arange(b, min(b + block, stop), dtype=np.int64))  # [B] each
        idx = (k0 - k_first)[:, None] + np.arange(taps)  # [B, taps] into x
        y[:, b - start : b - start + len(k0)] = (x[:, idx] * table[phase]).sum(-1)
    return y


@lru_cache(maxsize=8)
def kernel_table(sr_in: int, sr_out: int) -> np.ndarray:
    """[phases, taps] float32: the kernel at fractional position p / phases, tap j from -reach + 1 (as
    :func:`vqcodec.resample.kernel_table`)."""
    cutoff = _ROLLOFF * min(1.0, sr_out / sr_in)
    reach = math.floor(_ZEROS / cutoff) + 1
    phases = max(1, min(PHASES, TABLE // (2 * reach)))
    j = np.arange(-reach + 1, reach + 1, dtype=np.float64)[None]  # [1, taps]
    frac = np.arange(phases, dtype=np.float64)[:, None] / phases  # [P, 1]
    t = ((j - frac) * cutoff).clip(-_ZEROS, _ZEROS)  # [P, taps], in zero crossings
    window = np.cos(t * math.pi / _ZEROS / 2) ** 2
    return np.ascontiguousarray(cutoff * np.sinc(t) * window, dtype=np.float32)
