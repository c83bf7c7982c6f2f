"""Pitch codes of a signal tracked on blocks fixed in the signal, whatever windows the codec codes it in.
No torch here: both runtimes use it.

Praat's tracker is not local: its silence threshold is relative to the loudest sample of what it is given,
and its best path runs through all of it. Tracked on each coding window, a file's pitch codes changed with
the window split, which changes with ``chunk_frames`` and with the channels sharing a window (a batch of
more than WINDOW_CHANNELS files): 60 of 1988 codes of a 40 s dev signal at ``chunk_frames=100``. Here each
source is tracked on blocks of BLOCK_FRAMES top frames from its start, with CONTEXT_FRAMES on each side (as
the codec's windows: none before the signal, zeros after it), so its codes are a function of its audio
alone. For a source of up to WINDOW_CHANNELS channels the blocks are the default windows of the shipped model
(250 kept frames, 16 of context): its codes are those its coding alone in default windows gives.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from vqcodec.pitch.quantize import track_codes

BLOCK_FRAMES = 250  # top frames kept per block (20 s for the shipped model; fewer for many channels) ...
CONTEXT_FRAMES = 16  # ... seeing this many on each side

Read = Callable[[int, int], np.ndarray]  # (start, stop) -> [C, stop - start] samples, zeros past the end


class PitchBlocks:
    """The pitch codes of one source, tracked block by block as windows ask for them.

    Args:
        read: the source at the model rate; it is read at ``block_span(k)`` for block ``k``, once.
        frames: the source's length in top frames.
        block: top frames kept per block: ``window_frames(BLOCK_FRAMES, channels)`` of the source (a source of
            many channels has shorter blocks, as the codec's windows, to bound memory).
        sample_rate, top_hop, hop, bits: the model's rate, top and bottom hops, and pitch code bits.
    """

    def __init__(self, read: Read, frames: int, block: int, sample_rate: int, top_hop: int, hop: int, bits: int):
        self.read, self.frames, self.block = read, frames, block
        self.sample_rate, self.top_hop, self.hop, self.bits = sample_rate, top_hop, hop, bits
        self.ratio = top_hop // hop  # pitch codes per top frame
        self.cached: tuple[int, np.ndarray] | None = None

    def codes(self, a: int, b: int) -> np.ndarray:
        """Pitch codes of top frames ``[a, b)``: ``[C, 1, r (b - a)]`` int64 (``r`` codes per top frame)."""
        parts = []
        for k in range(a // self.block, -(-b // self.block)):
            lo, hi = max(a, k * self.block), min(b, (k + 1) * self.block)
            first = lo - self.block_span(k)[0]
            parts.append(self._block(k)[:, self.ratio * first : self.ratio * (first + hi - lo)])
        return np.concatenate(parts, axis=-1)[:, None]

    def block_span(self, k: int) -> tuple[int, int]:
        """Top frames block ``k`` is tracked on: its kept frames, context before them (none before frame 0)
        and after them (past the source's last frame, zeros; they do not move the tracker's frames)."""
        return max(0, k * self.block - CONTEXT_FRAMES), min((k + 1) * self.block, self.frames) + CONTEXT_FRAMES

    def _block(self, k: int) -> np.ndarray:
        """Codes of every frame of block ``k``'s span, ``[C, r * span]`` (the last block asked for is kept)."""
        if self.cached is None or self.cached[0] != k:
            w0, w1 = self.block_span(k)
            x = self.read(w0 * self.top_hop, w1 * self.top_hop)  # [C, n]
            rows = [track_codes(row[None], self.sample_rate, self.hop, self.bits)[0] for row in x]
            self.cached = k, np.stack(rows)
        return self.cached[1]
