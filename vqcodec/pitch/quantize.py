"""Pitch codes: F0 per bottom frame <-> integers, and codes -> the F0 a decoder's frames are driven by.

Code 0 is unvoiced; codes 1 .. 2**bits - 1 sit on a uniform grid of log F0 from F0_MIN to F0_MAX (7 bits:
a step of 31.6 cents, so at most 16 cents of rounding). No torch here.
"""

from __future__ import annotations

import numpy as np

from vqcodec.pitch.tracker import F0_MAX, F0_MIN, track_frames

_OCTAVES = float(np.log2(F0_MAX / F0_MIN))


def steps(bits: int) -> int:
    """Grid steps between F0_MIN and F0_MAX for ``bits``-bit codes (one code is kept for unvoiced)."""
    return 2**bits - 2


def quantize(f0: np.ndarray, bits: int) -> np.ndarray:
    """F0 in Hz (0: unvoiced) ``[..., T]`` -> int64 codes ``[..., T]`` in ``[0, 2**bits)``."""
    f0 = np.asarray(f0, dtype=np.float64)
    pos = np.log2(np.clip(f0, F0_MIN, F0_MAX) / F0_MIN) / _OCTAVES * steps(bits)
    return np.where(f0 > 0, 1 + np.rint(pos), 0).astype(np.int64)


def track_codes(x: np.ndarray, sample_rate: int, hop: int, bits: int) -> np.ndarray:
    """[R, T] signals -> their pitch codes [R, T // hop]: what encoding sends, in both runtimes."""
    return quantize(track_frames(np.asarray(x, dtype=np.float64), sample_rate, hop), bits)


def dequantize(codes: np.ndarray, bits: int) -> np.ndarray:
    """Codes ``[..., T]`` -> F0 in Hz ``[..., T]`` (float32, 0 where unvoiced)."""
    codes = np.asarray(codes)
    hz = F0_MIN * np.exp2((codes - 1).clip(min=0) / steps(bits) * _OCTAVES)
    return np.where(codes > 0, hz, 0.0).astype(np.float32)


def frame_f0(codes: np.ndarray, bits: int, upsample: int) -> np.ndarray:
    """Pitch codes ``[..., T]`` (frames at ``k * hop``) -> F0 in Hz ``[..., T * upsample]`` on the decoder's
    frames (at ``j * hop / upsample``), 0 where unvoiced.

    Between two voiced codes, log F0 is interpolated linearly; a decoder frame after the last voiced code of
    a run keeps that code's F0 (voicing ends where the next code says so).
    """
    f0 = dequantize(codes, bits)
    nxt = np.concatenate([f0[..., 1:], f0[..., -1:]], axis=-1)  # the next frame's F0, the last repeated
    both = (f0 > 0) & (nxt > 0)
    log_now, log_next = np.log2(np.maximum(f0, 1.0)), np.log2(np.maximum(nxt, 1.0))
    frac = np.arange(upsample, dtype=np.float32) / upsample  # [upsample]
    inter = np.exp2(log_now[..., None] + frac * (log_next - log_now)[..., None])
    out = np.where(both[..., None], inter, f0[..., None])  # [..., T, upsample]
    return out.reshape(*f0.shape[:-1], -1).astype(np.float32)
