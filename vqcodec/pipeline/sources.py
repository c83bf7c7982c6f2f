"""Audio into the pipeline, streamed: a source is read block by block (and resampled by
:mod:`vqcodec.pipeline.sinc`), so memory does not grow with its length. No torch here.

A *source* has ``sample_rate``, ``channels``, ``num_samples`` and either ``blocks()`` (``[n, C]`` float32
blocks, in order: a file, a pipe) or ``read(start, stop)`` (``[C, stop - start]``, numpy or a CPU tensor,
zeros outside the signal: an array in memory, :class:`vqcodec.io.audio.FileSource`)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

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


def source_blocks(source: Any) -> Iterator[np.ndarray]:
    """The ``[n, C]`` float32 blocks of a source, ``num_samples`` in all, whichever way it is read."""
    if hasattr(source, "blocks"):
        yield from exact(source.blocks(), source.num_samples, source.channels)
        return
    for start in range(0, source.num_samples, _BLOCK):
        block = np.asarray(source.read(start, min(start + _BLOCK, source.num_samples)), dtype=np.float32)
        yield np.ascontiguousarray(block.T)  # [n, C]


class BlockSource:
    """A signal given as ``[n, C]`` float32 blocks (``num_samples`` in all, at ``sample_rate``): a source for
    audio that is neither a file nor a tensor, read once."""

    def __init__(self, blocks: Iterable[np.ndarray], sample_rate: int, num_samples: int, channels: int):
        self._blocks, self.sample_rate, self.num_samples, self.channels = blocks, sample_rate, num_samples, channels

    def blocks(self) -> Iterator[np.ndarray]:
        return iter(self._blocks)
