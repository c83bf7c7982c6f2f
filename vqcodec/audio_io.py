"""Reading and writing audio files with soundfile, with one-line errors for a user's mistakes."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import soundfile as sf

from vqcodec.atomic import atomic_path
from vqcodec.errors import UserError

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".aiff", ".aif")


def read_audio(path: str | os.PathLike) -> tuple[np.ndarray, int]:
    """Read an audio file as float32 ``[C, T]`` in [-1, 1] and its sample rate."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path}: no such file")
    if path.is_dir():
        raise UserError(f"{path}: is a directory, not an audio file")
    try:
        data, sr = sf.read(str(path), dtype="float32", always_2d=True)  # [T, C]
    except (sf.LibsndfileError, RuntimeError, TypeError) as e:
        raise UserError(f"{path}: not a readable audio file ({_short(e)})") from None
    if data.shape[0] == 0:
        raise UserError(f"{path}: audio file holds no samples")
    if not np.isfinite(data).all():
        raise UserError(f"{path}: audio holds NaN or infinite samples")
    return np.ascontiguousarray(data.T), int(sr)


def write_audio(path: str | os.PathLike, wav: np.ndarray, sample_rate: int) -> None:
    """Write float ``[C, T]`` audio; the format follows the extension (16-bit PCM for WAV).

    Written to a temporary file in the same folder and renamed into place, so a failure never leaves a
    partial file under ``path``.
    """
    path = Path(path)
    fmt = {".wav": ("WAV", "PCM_16"), ".flac": ("FLAC", "PCM_16"), ".ogg": ("OGG", "VORBIS")}
    if path.suffix.lower() not in fmt:
        raise UserError(f"{path}: unsupported output format (use .wav, .flac or .ogg)")
    kind, subtype = fmt[path.suffix.lower()]
    data = np.clip(wav, -1.0, 1.0).T  # [T, C]
    with atomic_path(path) as tmp:
        sf.write(tmp, data, sample_rate, format=kind, subtype=subtype)


def _short(e: Exception) -> str:
    return str(e).strip().splitlines()[0][:200] if str(e).strip() else type(e).__name__
