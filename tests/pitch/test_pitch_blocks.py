"""Tests for vqcodec.pitch.blocks: a source's pitch codes are tracked on blocks fixed in it, so any split of
its frames into windows gives the same codes, and each block is read once, on its own span."""

from __future__ import annotations

import numpy as np
from conftest import speech_like

from vqcodec.pitch.blocks import CONTEXT_FRAMES, PitchBlocks
from vqcodec.pitch.quantize import track_codes

SR, TOP_HOP, HOP, BITS = 16000, 1280, 320, 7


def _blocks(x: np.ndarray, block: int, reads: list) -> PitchBlocks:
    """PitchBlocks over ``x`` [C, T], zeros outside it, noting each read."""

    def read(start: int, stop: int) -> np.ndarray:
        reads.append((start, stop))
        out = np.zeros((x.shape[0], stop - start), np.float32)
        lo, hi = max(start, 0), min(stop, x.shape[1])
        out[:, lo - start : hi - start] = x[:, lo:hi]
        return out

    return PitchBlocks(read, -(-x.shape[1] // TOP_HOP), block, SR, TOP_HOP, HOP, BITS)


def test_any_split_gives_the_codes_of_the_whole_and_reads_each_block_once() -> None:
    x = np.stack([speech_like(7.0, SR, seed=1), 0.3 * speech_like(7.0, SR, seed=2)])  # 88 top frames
    frames = -(-x.shape[1] // TOP_HOP)
    whole_reads: list = []
    whole = _blocks(x, 40, whole_reads).codes(0, frames)
    assert whole.shape == (2, 1, 4 * frames) and (whole > 0).any()
    for cuts in ([0, 3, 41, 50, frames], [0, 39, 40, 80, 81, frames]):
        reads: list = []
        pitch = _blocks(x, 40, reads)
        parts = [pitch.codes(a, b) for a, b in zip(cuts, cuts[1:], strict=False)]
        np.testing.assert_array_equal(np.concatenate(parts, axis=-1), whole)
        assert reads == whole_reads  # block k on [40k - 16, min(40(k + 1), frames) + 16) frames, once
    assert whole_reads[0] == (0, (40 + CONTEXT_FRAMES) * TOP_HOP)
    assert whole_reads[-1] == ((80 - CONTEXT_FRAMES) * TOP_HOP, (frames + CONTEXT_FRAMES) * TOP_HOP)


def test_a_source_of_one_block_is_tracked_as_a_whole() -> None:
    """Up to a block long, the codes are those of the whole signal with context after it."""
    x = speech_like(2.0, SR, seed=3)[None]
    frames = -(-x.shape[1] // TOP_HOP)
    want = track_codes(np.pad(x, ((0, 0), (0, (frames + CONTEXT_FRAMES) * TOP_HOP - x.shape[1]))), SR, HOP, BITS)
    np.testing.assert_array_equal(_blocks(x, 250, []).codes(0, frames)[:, 0], want[:, : 4 * frames])
