"""Window arithmetic of windowed coding, shared by the torch codec (:mod:`vqcodec.codec`) and the light
runtime (:mod:`vqcodec.runtime.codec`), so that both cut a signal into the same windows. No torch here.

Lengths are in top frames unless named otherwise. A window keeps frames ``[a, b)`` and sees ``context``
frames on each side::

    encoding:  |--context--|===== kept [a, b) =====|--context--|     (zeros past the signal's end)
    decoding:  the same, the context cut at frame 0 and at the last frame
"""

from __future__ import annotations

from collections.abc import Iterator

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
