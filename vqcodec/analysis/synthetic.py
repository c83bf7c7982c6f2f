"""A synthetic speech-like signal, for tests and benchmarks that need voiced audio without a corpus: a
harmonic source with a gliding pitch (120 +- 30 Hz), a syllable-rate envelope and a little noise. Reproducible
from its seed, and as long as asked: :func:`write_speech_like` writes hours of it in bounded memory."""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np
import soundfile as sf


def speech_like(seconds: float, sample_rate: int = 16000, seed: int = 0) -> np.ndarray:
    """Synthetic voiced speech.

    Args:
        seconds: length (rounded to whole samples).
        sample_rate: samples per second.
        seed: the noise's seed.

    Returns:
        float32 ``[T]`` in [-1, 1].
    """
    length = round(seconds * sample_rate)
    return np.concatenate([np.zeros(0, np.float32), *speech_like_blocks(length, sample_rate, seed, max(length, 1))])


def speech_like_blocks(length: int, sample_rate: int, seed: int, block: int) -> Iterator[np.ndarray]:
    """:func:`speech_like`'s ``length`` samples in blocks of ``block`` (the last one shorter), float32 ``[block]``
    each; the pitch's phase and the noise run on across blocks, so the blocks join into the whole signal."""
    rng = np.random.default_rng(seed)
    cycles = 0.0  # sum of f0 / sample_rate over the samples before this block: the source's phase in cycles * rate
    for start in range(0, length, block):
        t = np.arange(start, min(start + block, length)) / sample_rate
        f0 = 120 + 30 * np.sin(2 * np.pi * 0.5 * t)
        summed = cycles + np.cumsum(f0)
        cycles = float(summed[-1])
        phase = 2 * np.pi * summed / sample_rate
        voiced = sum(np.sin(k * phase) / k for k in range(1, 20))
        envelope = (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t)) ** 2
        x = 0.1 * voiced * envelope + 0.003 * rng.standard_normal(len(t))
        yield np.clip(x, -1, 1).astype(np.float32)


def write_speech_like(
    path: str | os.PathLike, seconds: float, sample_rate: int = 16000, seed: int = 0, block_seconds: float = 10.0
) -> None:
    """Write :func:`speech_like` to a 16-bit WAV (or any format soundfile infers from ``path``), ``block_seconds``
    at a time, so that the writer's memory does not grow with ``seconds``."""
    block = max(1, round(block_seconds * sample_rate))
    with sf.SoundFile(str(path), "w", sample_rate, 1, "PCM_16") as f:
        for x in speech_like_blocks(round(seconds * sample_rate), sample_rate, seed, block):
            f.write(x)
