"""Reference codecs run as external tools: Opus (``opusenc``/``opusdec``) and Codec2 (``c2enc``/``c2dec`` + sox).

A coder takes ``(reference [T] float32 at 16 kHz, the same as a 16-bit .wav, a scratch folder)`` and
returns a :class:`Coded`: the decoded signal at 16 kHz, the coded size in bytes and the coding wall time.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from vqcodec.analysis.metrics import SR
from vqcodec.errors import UserError

OPUS_KBPS = (6, 8, 12)
CODEC2_MODES = ("3200", "1600", "700C")
TOOLS = ("opusenc", "opusdec", "c2enc", "c2dec", "sox")


@dataclass(frozen=True)
class Coded:
    """One file through one codec: decoded audio at 16 kHz, coded size, and coding wall time."""

    audio: np.ndarray
    num_bytes: int
    seconds: float


Coder = Callable[[np.ndarray, Path, Path], Coded]  # (reference, reference .wav, temp dir) -> Coded


def missing_tools(tools: Sequence[str] = TOOLS) -> list[str]:
    """The tools of ``tools`` not found on PATH."""
    return [t for t in tools if shutil.which(t) is None]


def require_tools(tools: Sequence[str] = TOOLS) -> None:
    """Fail in one line if a reference codec's tool is not on PATH."""
    missing = missing_tools(tools)
    if missing:
        raise UserError(f"reference codecs need {', '.join(missing)} on PATH (packages opus-tools, codec2, sox)")


def run_tool(args: Sequence[str | Path]) -> None:
    """Run an external tool, failing loudly with its stderr."""
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{shlex.join(str(a) for a in args)} failed ({done.returncode}): {done.stderr.strip()}")


def read_wav(path: Path, sample_rate: int = SR) -> np.ndarray:
    """A decoded mono file as float32, asserting its rate (16 kHz unless ``sample_rate`` says otherwise)."""
    data, sr = sf.read(str(path), dtype="float32", always_2d=True)
    if sr != sample_rate:
        raise RuntimeError(f"{path}: expected {sample_rate} Hz, got {sr}")
    return data[:, 0]


def opus_coder(kbps: int, sample_rate: int = SR) -> Coder:
    """``opusenc --bitrate K`` then ``opusdec --rate R`` (``sample_rate``: the reference's rate, 16 kHz for
    speech); size of the .opus file (Ogg included)."""

    def code(ref: np.ndarray, wav_path: Path, tmp: Path) -> Coded:
        enc, dec = tmp / "out.opus", tmp / "opus.wav"
        t0 = time.perf_counter()
        run_tool(["opusenc", "--quiet", "--bitrate", kbps, wav_path, enc])
        run_tool(["opusdec", "--quiet", "--rate", sample_rate, enc, dec])
        seconds = time.perf_counter() - t0
        return Coded(read_wav(dec, sample_rate), enc.stat().st_size, seconds)

    return code


def codec2_coder(mode: str) -> Coder:
    """sox to 8 kHz s16 raw, ``c2enc``/``c2dec``, sox back to 16 kHz; time of c2enc + c2dec only.

    sox runs with ``-D`` (no dither) so that runs are repeatable. The size is the .c2 file's, its small
    header included.
    """
    raw = ["-t", "raw", "-r", "8000", "-e", "signed-integer", "-b", "16", "-c", "1"]

    def code(ref: np.ndarray, wav_path: Path, tmp: Path) -> Coded:
        pcm8k, enc, out8k, dec = tmp / "in8k.raw", tmp / "out.c2", tmp / "out8k.raw", tmp / "c2.wav"
        run_tool(["sox", "-D", wav_path, *raw, pcm8k])
        t0 = time.perf_counter()
        run_tool(["c2enc", mode, pcm8k, enc])
        run_tool(["c2dec", mode, enc, out8k])
        seconds = time.perf_counter() - t0
        run_tool(["sox", "-D", *raw, out8k, "-r", str(SR), "-e", "signed-integer", "-b", "16", dec])
        return Coded(read_wav(dec), enc.stat().st_size, seconds)

    return code


def reference_coders() -> dict[tuple[str, str], Coder]:
    """Opus at 6/8/12 kbps and Codec2 3200/1600/700C, keyed ``(codec, setting)`` in table order."""
    coders: dict[tuple[str, str], Coder] = {}
    for kbps in OPUS_KBPS:
        coders["opus", f"{kbps} kbps"] = opus_coder(kbps)
    for mode in CODEC2_MODES:
        coders["codec2", mode] = codec2_coder(mode)
    return coders
