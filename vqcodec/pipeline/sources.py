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
from vqcodec.io.limits import MAX_CHANNELS, check_audio

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


class ArraySource:
    """An in-memory ``[C, T]`` (or ``[T]``) numpy signal read by windows, zeros outside ``[0, T)``: floats as they
    are, integers scaled by their type's range (int16 by 32768; unsigned types centred, uint8 on 128, as in WAV
    files).

    Raises:
        UserError (a ValueError): the array is not ``[T]`` or ``[C, T]`` (see :func:`check_shape`), holds NaN or
            infinite samples, is not numeric, or breaks a limit of :mod:`vqcodec.io.limits`.
    """

    def __init__(self, wav: np.ndarray, sample_rate: int):
        x = np.asarray(wav)
        x = x[None] if x.ndim == 1 else x
        check_shape(x.shape)
        if sample_rate != int(sample_rate):
            raise UserError(f"sample rate must be a whole number of Hz, got {sample_rate}")
        check_audio(int(sample_rate), *x.shape)
        x = _to_float(x)
        if not np.isfinite(x).all():
            raise UserError("audio holds NaN or infinite samples")
        self.wav, self.sample_rate = x, int(sample_rate)
        self.channels, self.num_samples = x.shape

    def read(self, start: int, stop: int) -> np.ndarray:
        """[C, stop - start] float32, zero-filled outside the signal."""
        out = np.zeros((self.channels, stop - start), np.float32)
        lo, hi = max(start, 0), min(stop, self.num_samples)
        if lo < hi:
            out[:, lo - start : hi - start] = self.wav[:, lo:hi]
        return out


def check_shape(shape: tuple[int, ...]) -> None:
    """Refuse shapes that are not [C, T], or whose reading as [C, T] is doubtful."""
    shape = tuple(shape)
    how = "pass [C, T] or [T] (soundfile.read gives [T, C]: pass x.T)"
    if len(shape) != 2 or shape[0] == 0 or shape[1] == 0:
        raise UserError(f"expected audio shaped [T] or [C, T] with C, T > 0, got {shape}; {how}")
    if shape[0] > shape[1]:
        raise UserError(f"audio shaped {shape} would be {shape[0]} channels of {shape[1]} samples; {how}")
    if shape[0] > MAX_CHANNELS:
        raise UserError(f"audio shaped {shape} has {shape[0]} channels, at most {MAX_CHANNELS} are supported; {how}")


def _to_float(x: np.ndarray) -> np.ndarray:
    """float32 in [-1, 1] (see :class:`ArraySource`)."""
    if x.dtype.kind == "f":
        return x.astype(np.float32, copy=False)
    if x.dtype.kind not in "iu":
        raise UserError(f"audio of type {x.dtype} is not supported: pass floats in [-1, 1] or integer PCM")
    info = np.iinfo(x.dtype)
    half = (int(info.max) - int(info.min) + 1) / 2
    centre = 0 if x.dtype.kind == "i" else half
    return ((x.astype(np.float64) - centre) / half).astype(np.float32)
