"""What an audio output can take, checked before any decoding, and the one message for a write that fails
anyway: shared by both runtimes' ``decompress`` (no torch here).

- OGG Vorbis: libvorbis crashes the process (SIGSEGV, measured with libsndfile's encoder) above 200 kHz,
  so a higher rate is refused;
- WAV: its size is known before decoding (16-bit PCM) and is checked against the free space of its disk.
  FLAC and OGG sizes are not known ahead.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import soundfile as sf

from vqcodec.errors import UserError

MAX_OGG_RATE = 200_000
_WAV_HEADER = 44


def check_output(dst: str | os.PathLike, kind: str, sample_rate: int, channels: int, num_samples: int) -> None:
    """Refuse an output (``kind`` a soundfile format: WAV, FLAC, OGG) that cannot be written, in one line."""
    if kind == "OGG" and sample_rate > MAX_OGG_RATE:
        raise UserError(
            f"{dst}: OGG Vorbis cannot hold {sample_rate} Hz (at most {MAX_OGG_RATE // 1000} kHz): write .wav or .flac"
        )
    if kind == "WAV":
        need, free = _WAV_HEADER + num_samples * channels * 2, free_bytes(dst)
        if need > free:
            raise UserError(f"{dst}: needs {need / 1e6:.1f} MB, only {free / 1e6:.1f} MB free on its disk")


def write_failed(dst: str | os.PathLike, e: sf.SoundFileError) -> UserError:
    """The one line for an audio write that failed (libsndfile reports a full disk as "System error",
    without an errno)."""
    return UserError(
        f"{dst}: could not write the audio ({str(e).strip() or 'system error'}): is the disk "
        f"full? {free_bytes(dst) / 1e6:.1f} MB free there"
    )


def free_bytes(dst: str | os.PathLike) -> int:
    """Free bytes on the disk of ``dst``'s folder (0 if it cannot be asked)."""
    try:
        return shutil.disk_usage(Path(dst).parent).free
    except OSError:
        return 0
