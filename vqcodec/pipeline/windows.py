"""Window arithmetic of windowed coding (:mod:`vqcodec.pipeline.coder`, every backend). No torch here.

Lengths are in top frames unless named otherwise. A window keeps frames ``[a, b)`` and sees ``context``
frames on each side::

    encoding:  |--context--|===== kept [a, b) =====|--context--|     (zeros past the signal's end)
    decoding:  the same, the context cut at frame 0 and at the last frame
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

# Memory per window grows with its channels: a window holding more than WINDOW_CHANNELS channels is made
# shorter in proportion, so 255 channels cost what 32 do; the model codes at most ROWS_PER_CALL at once.
WINDOW_CHANNELS = 32
ROWS_PER_CALL = 8


def resampled_length(n: int, sr_in: int, sr_out: int) -> int:
    """Length of ``n`` samples resampled from ``sr_in`` to ``sr_out``: ceil(n * sr_out / sr_in)."""
    return -(-n * sr_out // sr_in)


def window_frames(chunk_frames: int, channels: int) -> int:
    """Top frames kept per window when ``channels`` share it (``chunk_frames`` up to WINDOW_CHANNELS)."""
    return max(1, chunk_frames * WINDOW_CHANNELS // max(channels, WINDOW_CHANNELS))


def kept_windows(frames: int, step: int) -> Iterator[tuple[int, int]]:
    """The kept spans ``[a, b)`` that tile ``frames`` top frames, ``step`` at a time."""
    for a in range(0, frames, step):
        yield a, min(a + step, frames)


def encode_span(a: int, b: int, context: int) -> tuple[int, int]:
    """Top frames an encoding window reads to keep ``[a, b)``: context on both sides, none before frame 0.
    Every window reaches ``context`` past its last kept frame (into zeros at the end), so a signal codes
    the same alone, in a batch or in chunks."""
    return max(0, a - context), b + context


def decode_span(a: int, b: int, frames: int, context: int) -> tuple[int, int]:
    """Top frames a decoding window decodes to keep ``[a, b)`` of a ``frames``-frame signal."""
    return max(0, a - context), min(frames, b + context)


# A decoding window's harmonic source starts its phase afresh, so where two windows meet in voiced speech
# the harmonics jump (a click). With a pitch stream the decoder knows where speech is unvoiced before it
# decodes, and moves each boundary to the nearest top frame, within QUIET_SEARCH of where it would be, whose
# surrounding pitch codes are all unvoiced (QUIET_CODES bottom frames on each side: the head's STFT window
# spans two of them), so the jump falls where there are no harmonics to hear it.
QUIET_SEARCH = 25
QUIET_CODES = 2


def decode_windows(frames: int, step: int, pitch: np.ndarray | None = None) -> list[tuple[int, int]]:
    """The kept spans ``[a, b)`` of the decoding windows of a ``frames``-frame signal, about ``step`` apart.

    Args:
        pitch: ``[C, 1, r * frames]`` pitch codes (0: unvoiced) of a model with a pitch stream, or None
            (the spans of :func:`kept_windows`).
    """
    if pitch is None or frames <= step:
        return list(kept_windows(frames, step))
    quiet = _quiet_frames(np.asarray(pitch), frames)
    cuts, nominal = [0], step
    while nominal < frames:
        near = [t for t in range(nominal - QUIET_SEARCH, nominal + QUIET_SEARCH + 1) if cuts[-1] < t < frames]
        found = [t for t in near if quiet[t]]
        cut = min(found, key=lambda t: (abs(t - nominal), t)) if found else nominal
        cuts.append(cut)
        nominal = cut + step
    return list(zip(cuts, [*cuts[1:], frames], strict=True))


def _quiet_frames(pitch: np.ndarray, frames: int) -> np.ndarray:
    """``[frames]`` bool: whether a boundary at each top frame has QUIET_CODES unvoiced pitch codes on each
    side in every channel."""
    voiced = (pitch[:, 0] > 0).any(axis=0)  # [r * frames]
    r = voiced.shape[-1] // max(frames, 1)
    padded = np.concatenate([np.zeros(QUIET_CODES, bool), voiced, np.zeros(QUIET_CODES, bool)])
    starts = np.arange(frames) * r  # the first bottom frame after each boundary, in `padded` + QUIET_CODES
    return np.array([not padded[s : s + 2 * QUIET_CODES].any() for s in starts])
