"""The reference files a measurement runs on: listed (an evenly spaced subset of a folder) and loaded as the
metrics take them, mono float32 at 16 kHz. ``vqcodec eval``, ``inspect``, ``probe``, ``train/calibrate.py`` and
the benchmarks choose and read their files here."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from vqcodec.analysis.metrics import SR
from vqcodec.errors import UserError
from vqcodec.io.audio import AUDIO_EXTENSIONS, audio_files, read_mono
from vqcodec.io.corpus import evenly_spaced


def list_files(root: Path | str, limit: int | None, suffixes: Sequence[str] = AUDIO_EXTENSIONS) -> list[Path]:
    """Audio files under ``root`` (recursive, sorted; ``root`` itself if it is a file); ``limit`` picks that
    many, evenly spaced.

    Args:
        root: folder to search for files ending in one of ``suffixes``, or one file.
        limit: number of files to keep, or None for all.
        suffixes: the file name endings that count as audio.

    Returns:
        The sorted paths, or the subset at indices ``floor(i * n / limit)``.

    Raises:
        UserError: no such file under ``root``.
    """
    root = Path(root)
    if root.is_file():
        return [root]
    files = audio_files(root, tuple(suffixes))
    if not files:
        raise UserError(f"no {'/'.join(suffixes)} files under {root}")
    return evenly_spaced(files, limit)


def load_reference(path: Path | str, sample_rate: int = SR) -> np.ndarray:
    """A file as mono float32 ``[T]`` at ``sample_rate`` (channels averaged, see
    :func:`vqcodec.io.audio.read_mono`)."""
    return read_mono(path, sample_rate).numpy().astype(np.float32)
