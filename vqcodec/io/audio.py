"""Reading and writing audio files with soundfile, with one-line errors for a user's mistakes.

torch is imported only where a tensor is returned (:func:`read_mono`), so the pipeline reads and writes
audio through this module without it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import soundfile as sf

from vqcodec.errors import UserError
from vqcodec.io.atomic import atomic_path
from vqcodec.io.limits import check_audio

if TYPE_CHECKING:
    import torch

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".aiff", ".aif")


def read_audio(path: str | os.PathLike) -> tuple[np.ndarray, int]:
    """Read an audio file as float32 ``[C, T]`` in [-1, 1] and its sample rate.

    The header is checked against :mod:`vqcodec.io.limits` before the samples are read.
    """
    with FileSource(path) as source:
        try:
            data = source.file.read(dtype="float32", always_2d=True)  # [T, C]
        except (sf.LibsndfileError, RuntimeError, TypeError) as e:
            raise UserError(f"{path}: not a readable audio file ({_short(e)})") from None
        sr = source.sample_rate
    if data.shape[0] == 0:
        raise UserError(f"{path}: audio file holds no samples")
    if not np.isfinite(data).all():
        raise UserError(f"{path}: audio holds NaN or infinite samples")
    return np.ascontiguousarray(data.T), int(sr)


def read_mono(path: str | os.PathLike, sample_rate: int) -> torch.Tensor:
    """An audio file as mono float32 ``[T]`` at ``sample_rate``: channels averaged, then resampled if needed
    (:func:`vqcodec.resample.resample`: torchaudio's kernel, at a cost linear in the file whatever the rates)."""
    import torch

    from vqcodec.resample import resample

    wav, sr = read_audio(path)
    mono = torch.from_numpy(wav.mean(axis=0))
    return mono if sr == sample_rate else resample(mono, sr, sample_rate)


def audio_files(root: str | os.PathLike, suffixes: tuple[str, ...] = AUDIO_EXTENSIONS) -> list[Path]:
    """The files under the folder ``root`` (recursively) whose names end in one of ``suffixes`` (any
    case), sorted."""
    return sorted(p for p in Path(root).rglob("*") if p.suffix.lower() in suffixes and p.is_file())


def readable_audio(paths: list[Path]) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Split files into those :func:`read_audio` reads and (file, one-line reason) for the others.

    Each file is read whole once: for commands that would otherwise lose a long run to one bad file.
    """
    good, bad = [], []
    for path in paths:
        try:
            read_audio(path)
            good.append(path)
        except UserError as e:
            bad.append((path, str(e)))
    return good, bad


_OUTPUT_FORMATS = {".wav": ("WAV", "PCM_16"), ".flac": ("FLAC", "PCM_16"), ".ogg": ("OGG", "VORBIS")}


def output_format(path: str | os.PathLike) -> tuple[str, str]:
    """(soundfile format, subtype) for an output path, chosen by its extension."""
    suffix = Path(path).suffix.lower()
    if suffix not in _OUTPUT_FORMATS:
        raise UserError(f"{path}: unsupported output format (use .wav, .flac or .ogg)")
    return _OUTPUT_FORMATS[suffix]


def write_audio(path: str | os.PathLike, wav: np.ndarray, sample_rate: int) -> None:
    """Write float ``[C, T]`` audio; the format follows the extension (16-bit PCM for WAV and FLAC).

    Written to a temporary file beside ``path`` and renamed into place, so a failure never leaves a
    partial file under ``path``.
    """
    kind, subtype = output_format(path)
    with atomic_path(path) as tmp:
        sf.write(tmp, np.clip(wav, -1.0, 1.0).T, sample_rate, format=kind, subtype=subtype)


class FileSource:
    """An audio file read window by window (memory does not grow with its length).

    Attributes: sample_rate, channels, num_samples, checked against :mod:`vqcodec.io.limits` on opening.
    Use as a context manager.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        _check_path(self.path)
        try:
            self.file = sf.SoundFile(str(self.path))
        except (sf.LibsndfileError, RuntimeError, TypeError) as e:
            raise UserError(f"{self.path}: not a readable audio file ({_short(e)})") from None
        self.sample_rate, self.channels, self.num_samples = self.file.samplerate, self.file.channels, self.file.frames
        try:
            check_audio(self.sample_rate, self.channels, self.num_samples)
        except ValueError as e:
            self.file.close()
            raise UserError(f"{self.path}: audio file {e}") from None

    def read(self, start: int, stop: int) -> np.ndarray:
        """[C, stop - start] float32, zero-filled outside the file."""
        out = np.zeros((stop - start, self.channels), dtype=np.float32)
        lo, hi = max(start, 0), min(stop, self.num_samples)
        if lo < hi:
            self.file.seek(lo)
            data = self.file.read(hi - lo, dtype="float32", always_2d=True)
            if not np.isfinite(data).all():
                raise UserError(f"{self.path}: audio holds NaN or infinite samples")
            out[lo - start : lo - start + len(data)] = data
        return np.ascontiguousarray(out.T)

    def __enter__(self) -> "FileSource":
        return self

    def __exit__(self, *exc) -> None:
        self.file.close()


def _check_path(path: Path) -> None:
    """Refuse what cannot be read as a file, before opening it (a FIFO would block the open forever)."""
    if not path.exists():
        raise UserError(f"{path}: no such file")
    if path.is_dir():
        raise UserError(f"{path}: is a directory, not an audio file")
    if not path.is_file():
        raise UserError(f"{path}: not a regular file (a FIFO, device or socket cannot be coded)")


def _short(e: Exception) -> str:
    return str(e).strip().splitlines()[0][:200] if str(e).strip() else type(e).__name__
