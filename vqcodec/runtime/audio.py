"""Audio in and out of the light runtime, streamed: a file is read and written block by block (and resampled
by :mod:`vqcodec.runtime.sinc`), so memory does not grow with its length."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from vqcodec.errors import UserError

_BLOCK = 1 << 16  # input samples read per step


def exact(blocks: Iterator[np.ndarray], length: int, channels: int) -> Iterator[np.ndarray]:
    """The blocks cut, or zero-padded, to ``length`` samples in all."""
    done = 0
    for block in blocks:
        block = block[: length - done]
        done += len(block)
        if len(block):
            yield block
    if done < length:
        yield np.zeros((length - done, channels), np.float32)


class BlockReader:
    """A stream of ``[n, C]`` blocks read as ``[C, stop - start]`` windows that move forward (a window may
    start before the previous one ends, never more than ``history`` samples before it starts); zeros outside
    ``[0, length)``."""

    def __init__(self, blocks: Iterator[np.ndarray], channels: int, history: int = 0):
        self.blocks, self.channels, self.history = blocks, channels, history
        self.buffer = np.zeros((0, channels), np.float32)  # samples [base, base + len(buffer))
        self.base = 0

    def read(self, start: int, stop: int) -> np.ndarray:
        """``[C, stop - start]`` float32."""
        if start < self.base and self.base > 0:
            raise ValueError(f"read from sample {start}, but samples before {self.base} are gone")
        keep = max(0, start - self.history - self.base)
        self.buffer, self.base = self.buffer[keep:], self.base + keep
        while self.base + len(self.buffer) < stop:
            block = next(self.blocks, None)
            if block is None:
                break
            self.buffer = np.concatenate([self.buffer, block])
        out = np.zeros((self.channels, stop - start), np.float32)
        lo, hi = max(start, self.base), min(stop, self.base + len(self.buffer))
        if lo < hi:
            out[:, lo - start : hi - start] = self.buffer[lo - self.base : hi - self.base].T
        return out


def file_blocks(file, frames: int, name: str) -> Iterator[np.ndarray]:
    """``[n, C]`` float32 blocks of an open ``soundfile.SoundFile`` (``frames`` samples in all); ``name``
    names it in errors."""
    done = 0
    while done < frames:
        block = file.read(min(_BLOCK, frames - done), dtype="float32", always_2d=True)
        if not len(block):
            break
        if not np.isfinite(block).all():
            raise UserError(f"{name}: audio holds NaN or infinite samples")
        done += len(block)
        yield block
